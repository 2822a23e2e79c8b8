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
    /// The faults file scripts/moto_server.py reads (`Moto::fail`).
    faults: PathBuf,
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
        let faults = std::env::temp_dir().join(format!(
            "hubhooks-moto-faults-{}-{port}.json",
            std::process::id()
        ));
        std::fs::write(&faults, "[]").with_context(|| format!("writing {}", faults.display()))?;
        let child = Command::new(&python)
            .arg(&server)
            .env("HUBHOOKS_MOTO_FAULTS", &faults)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            faults,
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

impl Moto {
    /// From now on, for `outage`, DynamoDB `operation` (e.g. `GetItem`) on
    /// `table` answers 500 InternalServerError, as a service in trouble
    /// does. Replaces any fault set before.
    pub fn fail(&self, operation: &str, table: &str, outage: Duration) -> Result<()> {
        let until = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .saturating_add(outage)
            .as_secs_f64();
        let faults = serde_json::json!([{"operation": operation, "table": table, "until": until}]);
        std::fs::write(&self.faults, faults.to_string())
            .with_context(|| format!("writing {}", self.faults.display()))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.faults);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
