//! The receiver both the load generator and the sender hit: nginx answering
//! 204 when it is installed, else this binary's own minimal receiver (one
//! thread, like nginx with one worker). Either runs as a child process and
//! is stopped on drop.
use anyhow::{Context, Result, bail};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Receiver {
    child: Child,
    pub url: String,
    /// `nginx 1.22.1, 1 worker` or `built-in (hyper, 1 thread)`.
    pub kind: String,
    _dir: Option<TempDir>,
}

impl Drop for Receiver {
    /// SIGTERM first: nginx's master stops its worker on it, where SIGKILL
    /// orphaned the worker, which kept its port and CPU through later runs.
    fn drop(&mut self) {
        if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: kill(2) on our own child's pid; no memory involved.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A directory removed on drop.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub fn nginx_path() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

impl Receiver {
    pub fn start(prefer_builtin: bool) -> Result<Receiver> {
        match nginx_path() {
            Some(nginx) if !prefer_builtin => Receiver::nginx(&nginx),
            _ => Receiver::builtin(),
        }
    }

    fn nginx(exe: &std::path::Path) -> Result<Receiver> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("hubhooks-bench-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let d = dir.display();
        let conf = format!(
            "worker_processes 1;\n\
             daemon off;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{ worker_connections 8192; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {d}/body; proxy_temp_path {d}/proxy;\n\
               fastcgi_temp_path {d}/fcgi; uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
               keepalive_requests 10000000;\n\
               server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}\n\
             }}\n"
        );
        std::fs::write(dir.join("nginx.conf"), conf)?;
        let version = Command::new(exe)
            .arg("-v")
            .output()
            .map(|o| {
                String::from_utf8_lossy(&o.stderr)
                    .trim()
                    .replace("nginx version: ", "")
            })
            .unwrap_or_else(|_| "nginx".into());
        let child = Command::new(exe)
            .args(["-p", &dir.display().to_string(), "-c", "nginx.conf"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        let r = Receiver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            kind: format!("{version}, 1 worker, answers 204"),
            _dir: Some(TempDir(dir)),
        };
        r.wait_listening(port)?;
        Ok(r)
    }

    fn builtin() -> Result<Receiver> {
        let port = free_port()?;
        let child = Command::new(std::env::current_exe()?)
            .args(["receiver", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let r = Receiver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            kind: "built-in (axum/hyper, 1 thread), answers 204; nginx not found".into(),
            _dir: None,
        };
        r.wait_listening(port)?;
        Ok(r)
    }

    fn wait_listening(&self, port: u16) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("the receiver ({}) did not listen on {port}", self.kind);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// `hubhooks-bench receiver --port P`: answers every request 204.
pub fn serve_builtin(port: u16) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::NO_CONTENT });
        axum::serve(listener, app).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pids whose parent is `parent` (from /proc).
    fn children(parent: u32) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .ok()
                    .and_then(|s| {
                        // After the parenthesised name: state, then ppid.
                        let rest = &s[s.rfind(')')? + 2..];
                        rest.split(' ').nth(1)?.parse::<u32>().ok()
                    })
                    == Some(parent)
            })
            .collect()
    }

    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| !s[s.rfind(')').unwrap_or(0)..].starts_with(") Z"))
    }

    #[test]
    fn stopping_nginx_stops_its_worker_too() {
        // Without nginx the built-in receiver (one process) stands in.
        let Some(exe) = nginx_path() else {
            eprintln!("nginx is not installed: nothing to check");
            return;
        };
        // GIVEN a running nginx receiver and its worker
        let r = Receiver::nginx(&exe).unwrap();
        let master = r.child.id();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut workers = children(master);
        while workers.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            workers = children(master);
        }
        assert!(!workers.is_empty(), "nginx started no worker");
        // WHEN the receiver is dropped
        drop(r);
        // THEN no worker is left listening (an orphaned worker kept the
        // port and its CPU through every later run)
        let deadline = Instant::now() + Duration::from_secs(5);
        while workers.iter().any(|w| alive(*w)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left: Vec<_> = workers.into_iter().filter(|w| alive(*w)).collect();
        for w in &left {
            let _ = Command::new("kill").args(["-9", &w.to_string()]).status();
        }
        assert!(left.is_empty(), "nginx workers left running: {left:?}");
    }
}
