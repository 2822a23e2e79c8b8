//! A real HTTP receiver on 127.0.0.1:0 that records every request: used by
//! the demo and the tests (modelled on svix's TestReceiver).
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived.
    pub at: std::time::Instant,
    /// What the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    /// Statuses to answer, one per request; when empty, `default_status`.
    script: Mutex<VecDeque<u16>>,
    default_status: Mutex<u16>,
    /// `Retry-After` sent with every non-2xx answer.
    retry_after: Mutex<Option<String>>,
    /// The body of every answer (none: empty).
    answer_body: Mutex<Option<String>>,
    /// Fails this share of requests (per mille), pseudo-randomly.
    fail_per_mille: Mutex<u32>,
    /// (text in the body, status, how many more times): answers the status
    /// to a request whose body holds the text, that many times.
    fail_matching: Mutex<Vec<(String, u16, u32)>>,
    notify: Notify,
}

pub struct TestReceiver {
    pub base_url: String,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

async fn record(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut received = Received {
        method: method.to_string(),
        path: uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        at: std::time::Instant::now(),
        answered: 0,
    };
    let matched = inner.fail_matching.lock().ok().and_then(|mut rules| {
        rules
            .iter_mut()
            .find(|(needle, _, left)| *left > 0 && received.body.contains(needle.as_str()))
            .map(|(_, status, left)| {
                *left -= 1;
                *status
            })
    });
    let status = match matched {
        Some(status) => status,
        None => {
            let scripted = inner
                .script
                .lock()
                .map(|mut s| s.pop_front())
                .unwrap_or(None);
            scripted.unwrap_or_else(|| inner.default_status.lock().map(|s| *s).unwrap_or(200))
        }
    };
    let mut r = inner.received.lock().unwrap_or_else(|e| e.into_inner());
    let per_mille = inner.fail_per_mille.lock().map(|f| *f).unwrap_or(0);
    // A fixed pseudo-random sequence: the same run fails the same requests.
    let n = r.len() as u64;
    let roll = (n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 1000;
    let status = if (200..300).contains(&status) && roll < u64::from(per_mille) {
        503
    } else {
        status
    };
    received.answered = status;
    r.push(received);
    drop(r);
    inner.notify.notify_waiters();
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry_after = inner.retry_after.lock().ok().and_then(|r| r.clone());
    let body = inner
        .answer_body
        .lock()
        .ok()
        .and_then(|b| b.clone())
        .unwrap_or_default();
    match retry_after {
        Some(after) if !code.is_success() => (code, [("retry-after", after)], body).into_response(),
        _ => (code, body).into_response(),
    }
}

impl TestReceiver {
    /// Starts a receiver answering `status` to every request.
    pub async fn start(status: u16) -> std::io::Result<TestReceiver> {
        let inner = Arc::new(Inner::default());
        *inner.default_status.lock().expect("fresh mutex") = status;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let app = Router::new().fallback(record).with_state(inner.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TestReceiver {
            base_url,
            inner,
            server,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Answers these statuses to the next requests, in order, then the default.
    pub fn script(&self, statuses: &[u16]) {
        if let Ok(mut s) = self.inner.script.lock() {
            s.extend(statuses.iter().copied());
        }
    }

    /// Sends `Retry-After: <value>` with every failing answer.
    pub fn set_retry_after(&self, value: Option<&str>) {
        if let Ok(mut r) = self.inner.retry_after.lock() {
            *r = value.map(str::to_owned);
        }
    }

    /// Answers 503 instead of success to about `per_mille`/1000 requests.
    pub fn fail_randomly(&self, per_mille: u32) {
        if let Ok(mut f) = self.inner.fail_per_mille.lock() {
            *f = per_mille;
        }
    }

    /// Answers `status` to the next `times` requests whose body contains
    /// `needle` (before any script).
    pub fn fail_matching(&self, needle: &str, status: u16, times: u32) {
        if let Ok(mut rules) = self.inner.fail_matching.lock() {
            rules.push((needle.to_owned(), status, times));
        }
    }

    /// Answers every request with this body from now on.
    pub fn set_answer_body(&self, body: &str) {
        if let Ok(mut b) = self.inner.answer_body.lock() {
            *b = Some(body.to_owned());
        }
    }

    pub fn set_status(&self, status: u16) {
        if let Ok(mut s) = self.inner.default_status.lock() {
            *s = status;
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner
            .received
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Waits until at least `n` requests arrived or `timeout` passed, and
    /// returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.notify.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.received();
            }
        }
    }
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
