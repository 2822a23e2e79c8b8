//! A moto server (DynamoDB, Streams, SQS, S3) on a free port, for the local
//! stack's tests and tools: moto as scripts/bootstrap.sh installs it into
//! .venv, run through scripts/moto_server.py (which makes its SQS receives
//! and DynamoDB item reads and writes atomic, as the services are).
use anyhow::{Context, Result, bail};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository's root (where .venv lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A moto server on a free port, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    pub fn start() -> Result<Moto> {
        let root = workspace_root();
        let (python, server) = (
            root.join(".venv/bin/python"),
            root.join("scripts/moto_server.py"),
        );
        if !root.join(".venv/bin/moto_server").exists() {
            bail!(
                "{} has no moto: run scripts/bootstrap.sh (make test does)",
                root.join(".venv").display()
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(&python)
            .arg(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("moto server did not start on port {port}");
            }
            if let Some(status) = moto.child.try_wait()? {
                bail!("moto server exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
