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
) -> StatusCode {
    let received = Received {
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
    };
    let status = {
        let scripted = inner
            .script
            .lock()
            .map(|mut s| s.pop_front())
            .unwrap_or(None);
        scripted.unwrap_or_else(|| inner.default_status.lock().map(|s| *s).unwrap_or(200))
    };
    if let Ok(mut r) = inner.received.lock() {
        r.push(received);
    }
    inner.notify.notify_waiters();
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
