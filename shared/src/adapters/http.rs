//! HTTP delivery with one reused client (keep-alive across invocations).
use crate::config::Destination;
use crate::delivery::{Delivery, headers};
use crate::ports::{DeliveryError, Receipt, Transport};
use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use std::time::{Duration, Instant};

/// How much of a failing response is kept for logs.
pub const EXCERPT_BYTES: usize = 1024;

pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    pub fn new() -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // A redirect could point anywhere; receivers must give the final URL.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("hubhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HttpTransport { client })
    }
}

fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Reads at most `cap` bytes of the body, so a huge error page costs nothing.
async fn excerpt(mut response: reqwest::Response, cap: usize) -> String {
    let mut buf = Vec::new();
    while buf.len() < cap {
        match response.chunk().await {
            Ok(Some(chunk)) => buf.extend_from_slice(&chunk[..chunk.len().min(cap - buf.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

#[async_trait]
impl Transport for HttpTransport {
    async fn deliver(&self, delivery: &Delivery, attempt: u32) -> Result<Receipt, DeliveryError> {
        let Destination::Http(dest) = &delivery.destination;
        let mut request = self
            .client
            .request(dest.method.as_reqwest(), &dest.url)
            .timeout(dest.timeout())
            .header(CONTENT_TYPE, "application/json")
            .header(headers::DELIVERY_ID, &delivery.id)
            .header(headers::EVENT_TYPE, delivery.event_type.as_str())
            .header(headers::ATTEMPT, attempt.to_string());
        for (name, value) in &dest.headers {
            // Validated when the config was loaded; re-checked, never trusted.
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return Err(DeliveryError::Other(format!(
                    "invalid constant header `{name}`"
                )));
            };
            request = request.header(name, value);
        }
        let started = Instant::now();
        let response = request
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    DeliveryError::Timeout(dest.timeout())
                } else if e.is_connect() {
                    DeliveryError::Connect(describe(&e))
                } else {
                    DeliveryError::Other(describe(&e))
                }
            })?;
        let latency = started.elapsed();
        let status = response.status().as_u16();
        if response.status().is_success() {
            Ok(Receipt { status, latency })
        } else {
            Err(DeliveryError::Rejected {
                status,
                excerpt: excerpt(response, EXCERPT_BYTES).await,
                latency,
            })
        }
    }
}
