//! With `HTTP_PROXY` set, the proxy resolved receivers' names
//! and the SSRF guard never saw the address. Deliveries ignore the
//! environment's proxy; an explicitly configured one is used, and names are
//! checked before the request goes to it. One test per process (the
//! environment is process-wide), which is how nextest runs them.
use hubhooks::adapters::http::HttpTransport;
use hubhooks::egress::AllowList;
use hubhooks::memory::delivery;
use hubhooks::ports::{DeliveryError, Outgoing, Transport};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A "proxy" that answers 204 to anything and counts its connections.
async fn proxy() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    (url, count)
}

async fn send(transport: &HttpTransport, url: &str) -> Result<u16, DeliveryError> {
    let d = delivery("d-1", "sub-1", url);
    let outgoing = Outgoing::of(&d, &d.body, vec![], None);
    transport.deliver(&outgoing).await.map(|r| r.status)
}

#[tokio::test]
async fn the_environments_proxy_is_never_used_and_the_guard_sees_every_name() {
    let (proxy_url, connections) = proxy().await;
    // SAFETY: this binary's only test sets the environment before any
    // thread reads it (the runtime's workers do not read it).
    unsafe {
        for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
            std::env::set_var(var, &proxy_url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    let transport = HttpTransport::new(AllowList::default(), None).unwrap();
    assert_eq!(
        send(&transport, "http://localhost:9/hook").await,
        Err(DeliveryError::Refused(
            "`localhost` resolves to 127.0.0.1 is a loopback address (not in the deployment's EGRESS_ALLOW list)".into()
        ))
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the proxy saw nothing"
    );

    // An explicit proxy: the guard still checks the name before the
    // request goes to the proxy.
    let guarded = HttpTransport::new(AllowList::default(), Some(&proxy_url)).unwrap();
    assert_eq!(
        send(&guarded, "http://localhost:9/hook").await,
        Err(DeliveryError::Refused(
            "`localhost` resolves to 127.0.0.1 is a loopback address (not in the deployment's EGRESS_ALLOW list)".into()
        ))
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0);
    // Allowed, it goes through the proxy.
    let allowed = HttpTransport::new(
        AllowList::parse("127.0.0.1/32, ::1/128").unwrap(),
        Some(&proxy_url),
    )
    .unwrap();
    assert_eq!(send(&allowed, "http://localhost:9/hook").await, Ok(204));
    assert_eq!(connections.load(Ordering::SeqCst), 1, "through the proxy");
}

/// The proxy's own address passes the SSRF guard too: a proxy on an
/// internal address is refused unless the allow-list names it. Once, with
/// no allow-list, a delivery to a public address still went to a proxy on
/// 127.0.0.1.
#[tokio::test]
async fn the_proxys_own_address_must_pass_the_guard() {
    let (proxy_url, connections) = proxy().await;
    let guarded = HttpTransport::new(AllowList::default(), Some(&proxy_url)).unwrap();
    let got = send(&guarded, "http://93.184.216.34/hook").await;
    assert!(
        matches!(&got, Err(DeliveryError::Refused(why)) if why.starts_with("the proxy: ")),
        "{got:?}"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the proxy saw nothing"
    );
}
