//! `hubhooks local receiver`: a receiver on 127.0.0.1 that prints every
//! webhook as it arrives (method, path, headers, the body as sent)
//! and answers with a status of your choosing: for trying the local stack
//! without a receiver of your own.
use anyhow::{Context, Result};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use std::io::Write;

/// What one request looks like printed.
pub fn render(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> String {
    let mut out = format!("── {method} {uri}\n");
    for (name, value) in headers {
        out.push_str(&format!(
            "   {name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    // The body exactly as sent: its field order is the contract's.
    out.push_str(&format!("   {}\n", String::from_utf8_lossy(body)));
    out
}

async fn receive(
    State(status): State<StatusCode>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let text = render(&method, &uri, &headers, &body);
    // One write per webhook, flushed: lines of two never interleave and a
    // pipe (`| tee`) sees each at once.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    status
}

/// Serves until Ctrl-C.
pub async fn serve(port: u16, status: u16) -> Result<()> {
    let status = StatusCode::from_u16(status).context("--status: not an HTTP status")?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| format!("listening on 127.0.0.1:{port} (--port chooses another)"))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "receiving webhooks at http://{addr}/ (any path), answering {}; Ctrl-C stops",
        status.as_u16()
    );
    let app = axum::Router::new().fallback(receive).with_state(status);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_prints_its_request_line_headers_and_body_as_sent() {
        let mut headers = HeaderMap::new();
        headers.insert("event-type", "newStatus".parse().unwrap());
        let text = render(
            &Method::POST,
            &"/hooks".parse().unwrap(),
            &headers,
            br#"{"a":1}"#,
        );
        assert_eq!(
            text,
            "── POST /hooks\n   event-type: newStatus\n   {\"a\":1}\n"
        );
        let raw = render(
            &Method::PUT,
            &"/x".parse().unwrap(),
            &HeaderMap::new(),
            b"not json",
        );
        assert_eq!(raw, "── PUT /x\n   not json\n");
    }
}
