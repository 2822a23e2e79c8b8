//! A receiver that requires a client certificate (mutual TLS), and a
//! throwaway CA to make its certificates and ours: what a partner with an
//! mTLS gateway runs. It counts handshakes that succeeded and those it
//! refused, and records each request with the certificate it came with.
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A CA made for one test.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub certificate: String,
    pub key: String,
}

impl TestCa {
    pub fn new(name: &str) -> anyhow::Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        Ok(TestCa {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate()?)?,
        })
    }

    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A certificate for `names` (DNS names or IP addresses), signed here.
    pub fn leaf(&self, common_name: &str, names: &[&str]) -> anyhow::Result<Leaf> {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Leaf {
            certificate: cert.pem(),
            key: key.serialize_pem(),
        })
    }
}

/// One request as the TLS receiver saw it.
#[derive(Debug, Clone)]
pub struct TlsRequest {
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// The client certificate presented (DER), if any.
    pub client_certificate: Option<Vec<u8>>,
}

/// An HTTPS receiver on 127.0.0.1 that requires a client certificate
/// signed by `client_ca`.
pub struct TlsReceiver {
    pub base_url: String,
    pub handshakes: Arc<AtomicUsize>,
    pub refused: Arc<AtomicUsize>,
    pub requests: Arc<Mutex<Vec<TlsRequest>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TlsReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TlsReceiver {
    pub async fn start(server: &Leaf, client_ca: &str) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_slice_iter(client_ca.as_bytes()) {
            roots.add(c?)?;
        }
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()?;
        let chain = CertificateDer::pem_slice_iter(server.certificate.as_bytes())
            .collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(server.key.as_bytes())?;
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("https://{}", listener.local_addr()?);
        let (handshakes, refused, requests) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(Mutex::new(Vec::new())),
        );
        let (h, r, q) = (handshakes.clone(), refused.clone(), requests.clone());
        let server = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, h, r, q) = (acceptor.clone(), h.clone(), r.clone(), q.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        r.fetch_add(1, Ordering::SeqCst);
                        return;
                    };
                    h.fetch_add(1, Ordering::SeqCst);
                    let cert = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| c.to_vec());
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let (q, cert) = (q.clone(), cert.clone());
                            async move {
                                let path = req.uri().path().to_owned();
                                let headers = req
                                    .headers()
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                    })
                                    .collect();
                                let _ = http_body_util::BodyExt::collect(req.into_body()).await;
                                q.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .push(TlsRequest {
                                        path,
                                        headers,
                                        client_certificate: cert,
                                    });
                                Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                    String::new(),
                                ))
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Ok(TlsReceiver {
            base_url,
            handshakes,
            refused,
            requests,
            server,
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn requests(&self) -> Vec<TlsRequest> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits up to `timeout` for `n` requests; those there by then.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<TlsRequest> {
        let until = std::time::Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n || std::time::Instant::now() > until {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
