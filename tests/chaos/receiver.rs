//! The chaos receivers: one listener, a failure mode per path, on raw TCP
//! so that it can do what well-behaved servers will not (hang, cut an
//! answer off mid-body). Every request's signature is checked with the
//! `standardwebhooks` crate, an implementation independent of ours.
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One webhook as the tally counts it: subscription and status id.
pub type Key = (String, i64);

#[derive(Default)]
pub struct Tally {
    /// Per webhook: the webhook-ids it was accepted under, and how often.
    pub accepted: BTreeMap<Key, (BTreeSet<String>, usize)>,
    /// Webhooks first accepted after the fix (through the DLQ replay).
    pub after_fix: BTreeSet<Key>,
    pub requests: usize,
    pub failed_on_purpose: usize,
    pub signatures_ok: usize,
    pub signatures_bad: usize,
}

#[derive(Clone)]
pub struct Receivers {
    pub base: String,
    pub tally: Arc<Mutex<Tally>>,
    /// Phase two: the receivers that were down or gone are fixed.
    pub fixed: Arc<AtomicBool>,
    /// `gone` answers 410 to the webhook of this status, the last one
    /// written: the stream is read in order, so every status before it was
    /// routed already (a disabled subscription is routed nothing, by
    /// design, and this run counts what was routed).
    pub gone_at: Arc<AtomicI64>,
    secret: Arc<standardwebhooks::Webhook>,
}

impl Receivers {
    pub async fn start(secret: &str) -> Receivers {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let r = Receivers {
            base: format!("http://{}", listener.local_addr().expect("bound")),
            tally: Arc::default(),
            fixed: Arc::default(),
            gone_at: Arc::new(AtomicI64::new(i64::MAX)),
            secret: Arc::new(standardwebhooks::Webhook::new(secret).expect("a whsec_ key")),
        };
        let me = r.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let me = me.clone();
                tokio::spawn(async move { me.serve(stream).await });
            }
        });
        r
    }

    pub fn url(&self, mode: &str) -> String {
        format!("{}/{mode}", self.base)
    }

    /// Counts one accepted webhook (HTTP or AMQP) and checks its signature.
    pub fn accepted(&self, subscription: &str, headers: &http::HeaderMap, body: &[u8]) {
        let mut t = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        if self.signed(headers, body) {
            t.signatures_ok += 1;
        } else {
            t.signatures_bad += 1;
        }
        let status = status_of(body);
        let id = header(headers, "webhook-id");
        let key = (subscription.to_owned(), status);
        let entry = t.accepted.entry(key.clone()).or_default();
        entry.0.insert(id);
        entry.1 += 1;
        if entry.1 == 1 && self.fixed.load(Ordering::SeqCst) {
            t.after_fix.insert(key);
        }
    }

    /// The reference library's signature of the id, timestamp and body is
    /// among those sent. Not `verify`: it also refuses a timestamp over 5
    /// minutes old, and the AMQP messages are read at the end of the run.
    fn signed(&self, headers: &http::HeaderMap, body: &[u8]) -> bool {
        let (id, ts) = (
            header(headers, "webhook-id"),
            header(headers, "webhook-timestamp"),
        );
        let Ok(ts) = ts.parse::<i64>() else {
            return false;
        };
        let Ok(want) = self.secret.sign(&id, ts, body) else {
            return false;
        };
        header(headers, "webhook-signature")
            .split(' ')
            .any(|s| s == want)
    }

    async fn serve(self, mut stream: TcpStream) {
        while let Some((path, headers, body)) = read_request(&mut stream).await {
            let mode = path.trim_start_matches('/').to_owned();
            let roll = roll(&headers);
            let fixed = self.fixed.load(Ordering::SeqCst);
            self.tally
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .requests += 1;
            let answer: Option<&str> = match mode.as_str() {
                "flaky500" if roll < 30 => Some("500 Internal Server Error"),
                "429" if roll < 30 => Some("429 Too Many Requests\r\nRetry-After: 1"),
                "gone" if !fixed && status_of(&body) >= self.gone_at.load(Ordering::SeqCst) => {
                    Some("410 Gone")
                }
                "down" if !fixed => Some("500 Internal Server Error"),
                "timeout" if roll < 10 => {
                    // Never answers: the sender's timeout (1 s) ends it.
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    return;
                }
                "reset" if roll < 15 => {
                    // The connection dies with the request read and no
                    // answer sent.
                    self.failed();
                    return;
                }
                "slow" => {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    None
                }
                _ => None,
            };
            let status = match answer {
                Some(a) => {
                    self.failed();
                    a
                }
                None => {
                    self.accepted(&mode, &headers, &body);
                    "200 OK"
                }
            };
            let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            if stream.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    fn failed(&self) {
        self.tally
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .failed_on_purpose += 1;
    }
}

/// The status a webhook is about (newStatus v3 is the status itself).
fn status_of(body: &[u8]) -> i64 {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["id"].as_i64())
        .unwrap_or(-1)
}

pub fn header(headers: &http::HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// 0..100 from the webhook id and attempt: the same attempt fails the same
/// way in every run.
fn roll(headers: &http::HeaderMap) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    header(headers, "webhook-id").hash(&mut h);
    header(headers, "webhook-attempt").hash(&mut h);
    h.finish() % 100
}

/// One HTTP/1.1 request: its path, headers and body.
async fn read_request(stream: &mut TcpStream) -> Option<(String, http::HeaderMap, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() > 256 * 1024 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_owned();
    let mut headers = http::HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':')?;
        headers.append(
            http::HeaderName::from_bytes(name.trim().as_bytes()).ok()?,
            http::HeaderValue::from_str(value.trim()).ok()?,
        );
    }
    let length: usize = header(&headers, "content-length").parse().unwrap_or(0);
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((path, headers, body))
}
