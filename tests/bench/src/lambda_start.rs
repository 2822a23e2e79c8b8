//! The Lambda binaries as Lambda runs them: a minimal Runtime API (next,
//! response, error) on 127.0.0.1, so start → first poll is measured on the
//! real process, and peak RSS after real invocations against the local
//! stack (moto) and the receiver.
use anyhow::{Context, Result, bail};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Default)]
struct Emulator {
    events: VecDeque<String>,
    first_poll: Option<Instant>,
    served: usize,
    responses: Vec<String>,
    errors: Vec<String>,
    /// All events served and answered: the function polls again.
    idle: bool,
}

#[derive(Clone, Default)]
struct Api {
    state: Arc<Mutex<Emulator>>,
    changed: Arc<Notify>,
}

impl Api {
    fn lock(&self) -> std::sync::MutexGuard<'_, Emulator> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn next(State(api): State<Api>) -> axum::response::Response {
    let event = {
        let mut s = api.lock();
        s.first_poll.get_or_insert_with(Instant::now);
        match s.events.pop_front() {
            Some(e) => {
                s.served += 1;
                Some((s.served, e))
            }
            None => {
                s.idle = true;
                None
            }
        }
    };
    api.changed.notify_waiters();
    let Some((n, body)) = event else {
        // The function waits here between invocations, as on Lambda.
        return std::future::pending().await;
    };
    let deadline = (chrono_now_ms() + 60_000).to_string();
    let mut headers = HeaderMap::new();
    let id = format!("bench-request-{n}");
    headers.insert("lambda-runtime-aws-request-id", id.parse().expect("ascii"));
    headers.insert(
        "lambda-runtime-deadline-ms",
        deadline.parse().expect("digits"),
    );
    headers.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:eu-west-1:123456789012:function:bench"
            .parse()
            .expect("ascii"),
    );
    headers.insert(
        "lambda-runtime-trace-id",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"
            .parse()
            .expect("ascii"),
    );
    headers.insert("content-type", "application/json".parse().expect("ascii"));
    (headers, body).into_response()
}

fn chrono_now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis()
}

async fn response(State(api): State<Api>, Path(_id): Path<String>, body: String) -> StatusCode {
    api.lock().responses.push(body);
    api.changed.notify_waiters();
    StatusCode::ACCEPTED
}

async fn error(State(api): State<Api>, body: String) -> StatusCode {
    api.lock().errors.push(body);
    api.changed.notify_waiters();
    StatusCode::ACCEPTED
}

/// One function process under the emulator.
pub struct Function {
    child: Child,
    api: Api,
    server: tokio::task::JoinHandle<()>,
    started: Instant,
    /// The function's stdout and stderr.
    pub log: PathBuf,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.server.abort();
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Function {
    /// Starts `exe` with `env` and these invocations queued.
    pub async fn start(
        exe: &PathBuf,
        env: &[(String, String)],
        events: Vec<String>,
    ) -> Result<Function> {
        let api = Api::default();
        api.lock().events = events.into();
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(error))
            .with_state(api.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let log = std::env::temp_dir().join(format!(
            "hubhooks-bench-{}-{}.log",
            exe.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("function"),
            std::process::id()
        ));
        let out = std::fs::File::create(&log)?;
        let started = Instant::now();
        let child = Command::new(exe)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", exe.display()))?;
        Ok(Function {
            child,
            api,
            server,
            started,
            log,
        })
    }

    /// Waits until the process has asked for work after the last event.
    pub async fn until_idle(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let wait = self.api.changed.notified();
            {
                let s = self.api.lock();
                if s.idle {
                    return Ok(());
                }
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("the function exited: {status}");
            }
            if Instant::now() > deadline {
                bail!("the function did not finish its invocations within {timeout:?}");
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), wait).await;
        }
    }

    /// From spawn to the first `GET …/invocation/next`.
    pub fn first_poll_after(&self) -> Option<Duration> {
        self.api.lock().first_poll.map(|t| t - self.started)
    }

    pub fn responses(&self) -> Vec<String> {
        self.api.lock().responses.clone()
    }

    /// The last lines the function wrote.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..]
            .iter()
            .map(|l| l.chars().take(400).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn errors(&self) -> Vec<String> {
        self.api.lock().errors.clone()
    }

    /// Peak resident memory (VmHWM) so far, in bytes.
    pub fn peak_rss(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")?;
        Ok(kb * 1024)
    }
}

/// Start → first poll, `times` fresh processes (no invocation).
pub async fn start_times(
    exe: &PathBuf,
    env: &[(String, String)],
    times: usize,
) -> Result<Vec<Duration>> {
    let mut out = Vec::new();
    for _ in 0..times {
        let mut f = Function::start(exe, env, Vec::new()).await?;
        f.until_idle(Duration::from_secs(10)).await?;
        out.push(f.first_poll_after().context("no poll")?);
    }
    Ok(out)
}
