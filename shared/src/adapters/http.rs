//! HTTP delivery with one reused client (keep-alive across invocations),
//! behind the SSRF guard: every address a name resolves to is checked before
//! a connection is made, and IP literals are checked before the request.
//!
//! Proxies: `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` in the environment are
//! ignored, because a proxy resolves the receiver's name itself and the
//! guard would never see the address. A deployment that must go through a
//! proxy names it (`DELIVERY_PROXY`); then every name is resolved and
//! checked here before the request goes to the proxy (the proxy resolves it
//! again, so a DNS-rebinding window remains; the proxy's own address must
//! pass the guard too, e.g. through `EGRESS_ALLOW`).
use super::client_tls::ClientTls;
use crate::config::Destination;
use crate::egress::AllowList;
use crate::ports::{DeliveryError, Outgoing, Receipt, Transport};
use async_trait::async_trait;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How much of a failing response is read and kept.
pub const EXCERPT_BYTES: usize = 1024;

pub struct HttpTransport {
    client: reqwest::Client,
    egress: AllowList,
    /// The configured proxy's host and port.
    proxy: Option<(String, u16)>,
    /// The configured proxy, as given: requests go through it, so names
    /// are checked here, and so is the proxy's own address. Clients made
    /// later (per client certificate) use it too.
    proxy_url: Option<String>,
    /// Destination URLs parsed before: parsing (IDNA included) was 6% of
    /// the sender's CPU, and a batch goes to a few URLs many times.
    urls: std::sync::Mutex<std::collections::HashMap<String, reqwest::Url>>,
    /// A client per client certificate (`auth.mtls`), by fingerprint.
    tls_clients: std::sync::Mutex<std::collections::HashMap<u64, reqwest::Client>>,
}

/// Clients with a client certificate kept at most; past it they start over.
const TLS_CLIENTS: usize = 256;

/// Every client's settings: no environment proxy, no redirects, the
/// guarded resolver, pooled connections.
fn builder(
    egress: &AllowList,
    proxy: Option<&str>,
) -> Result<reqwest::ClientBuilder, reqwest::Error> {
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(p) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(p)?);
    }
    Ok(builder
        // A redirect could point anywhere; receivers must give the final URL.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver {
            egress: egress.clone(),
        }))
        .pool_idle_timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("hubhooks/", env!("CARGO_PKG_VERSION"))))
}

/// Parsed URLs kept at most; past it the cache starts over.
const PARSED_URLS: usize = 1024;

/// Resolves with the system resolver, then keeps only addresses the guard
/// allows; none left is an error naming why.
struct GuardedResolver {
    egress: AllowList,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct EgressRefused(String);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let egress = self.egress.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refusals = Vec::new();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match egress.check(a.ip()) {
                    Ok(()) => true,
                    Err(why) => {
                        refusals.push(why);
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let why = refusals
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_else(|| "no address".into());
                return Err(
                    Box::new(EgressRefused(format!("`{host}` resolves to {why}")))
                        as Box<dyn std::error::Error + Send + Sync>,
                );
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl HttpTransport {
    /// `proxy`: the deployment's explicit proxy; without one no proxy is
    /// used, whatever the environment says.
    pub fn new(egress: AllowList, proxy: Option<&str>) -> Result<Self, reqwest::Error> {
        super::tls::install();
        let client = builder(&egress, proxy)?.build()?;
        let proxy_at = proxy
            .and_then(|p| reqwest::Url::parse(p).ok())
            .and_then(|u| Some((u.host_str()?.to_owned(), u.port_or_known_default()?)));
        Ok(HttpTransport {
            client,
            egress,
            proxy: proxy_at,
            proxy_url: proxy.map(str::to_owned),
            urls: Default::default(),
            tls_clients: Default::default(),
        })
    }

    /// The client that presents `tls`'s certificate (and trusts only its
    /// server CA, when it names one): made once per identity, so its
    /// connections stay pooled across deliveries.
    fn client_for(&self, tls: &ClientTls) -> Result<reqwest::Client, DeliveryError> {
        let mut clients = self.tls_clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = clients.get(&tls.fingerprint) {
            return Ok(c.clone());
        }
        let refused = |e: reqwest::Error| {
            DeliveryError::Refused(format!(
                "auth.mtls: the client certificate cannot be used: {}",
                describe(&e)
            ))
        };
        let identity = reqwest::Identity::from_pem(&tls.identity_pem).map_err(refused)?;
        let mut b = builder(&self.egress, self.proxy_url.as_deref())
            .map_err(refused)?
            .identity(identity);
        if let Some(ca) = &tls.server_ca_pem {
            b = b.tls_certs_only(reqwest::Certificate::from_pem_bundle(ca).map_err(refused)?);
        }
        let client = b.build().map_err(refused)?;
        if clients.len() >= TLS_CLIENTS {
            clients.clear();
        }
        clients.insert(tls.fingerprint, client.clone());
        Ok(client)
    }

    /// `text` parsed, from the cache when it was parsed before; an invalid
    /// URL is never kept, and is refused each time.
    fn url(&self, text: &str) -> Result<reqwest::Url, DeliveryError> {
        let mut urls = self.urls.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(url) = urls.get(text) {
            return Ok(url.clone());
        }
        let url = reqwest::Url::parse(text)
            .map_err(|e| DeliveryError::Refused(format!("invalid URL: {e}")))?;
        if urls.len() >= PARSED_URLS {
            urls.clear();
        }
        urls.insert(text.to_owned(), url.clone());
        Ok(url)
    }
}

fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The guard's refusal inside a reqwest error, if that is what it is.
fn refusal(e: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<EgressRefused>() {
            return Some(r.0.clone());
        }
        source = s.source();
    }
    None
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

/// The answer's `Retry-After`, read by [`crate::retry::retry_after`].
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    crate::retry::retry_after(value, crate::timestamp::Timestamp::now())
}

impl HttpTransport {
    /// The SSRF guard where our resolver will not see an address: a URL's
    /// IP literal, any name when a proxy resolves it, and the proxy's own
    /// address.
    async fn guard(&self, url: &reqwest::Url) -> Result<(), DeliveryError> {
        if let Some(host) = url.host_str() {
            let port = url.port_or_known_default().unwrap_or(80);
            // Without a proxy, our resolver checks names as it resolves them.
            self.guard_host(host, port, self.proxy_url.is_some())
                .await?;
        }
        // The proxy's own address passes the guard too.
        if let Some((host, port)) = &self.proxy {
            self.guard_host(host, *port, true)
                .await
                .map_err(|e| match e {
                    DeliveryError::Refused(why) => {
                        DeliveryError::Refused(format!("the proxy: {why}"))
                    }
                    other => other,
                })?;
        }
        Ok(())
    }

    /// The guard on one host: an IP literal always (it never reaches the
    /// resolver), a name when `resolve` (no resolver of ours sees it).
    async fn guard_host(&self, host: &str, port: u16, resolve: bool) -> Result<(), DeliveryError> {
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok();
        match literal {
            Some(ip) => self
                .egress
                .check(ip)
                .map_err(|e| DeliveryError::Refused(e.to_string())),
            None if resolve => super::check_resolved(&self.egress, host, port).await,
            None => Ok(()),
        }
    }
}

/// The signed headers and the destination's constant ones (validated when
/// the config was loaded; re-checked, never trusted).
fn with_headers(
    mut request: reqwest::RequestBuilder,
    outgoing: &Outgoing<'_>,
    constant: &std::collections::BTreeMap<String, String>,
) -> Result<reqwest::RequestBuilder, DeliveryError> {
    for (name, value) in &outgoing.headers {
        let value = HeaderValue::from_str(value)
            .map_err(|_| DeliveryError::Refused(format!("header `{name}` has an invalid value")))?;
        request = request.header(name.as_ref(), value);
    }
    for (name, value) in constant {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) else {
            return Err(DeliveryError::Refused(format!(
                "invalid constant header `{name}`"
            )));
        };
        request = request.header(name, value);
    }
    Ok(request)
}

/// What a request that got no answer came to. reqwest writes the URL into
/// its errors: masked here, as it reaches reasons, logs and notices.
fn unanswered(mut e: reqwest::Error, timeout: Duration) -> DeliveryError {
    if let Some(url) = e.url_mut() {
        *url = crate::masked_url::masked(url);
    }
    let e = &e;
    if let Some(why) = refusal(e) {
        DeliveryError::Refused(why)
    } else if e.is_timeout() {
        DeliveryError::Timeout(timeout)
    } else if e.is_connect() {
        DeliveryError::Connect(describe(e))
    } else {
        DeliveryError::Other(describe(e))
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn deliver(&self, outgoing: &Outgoing<'_>) -> Result<Receipt, DeliveryError> {
        let Destination::Http(dest) = outgoing.destination else {
            return Err(DeliveryError::Refused("not an HTTP destination".into()));
        };
        let url = self.url(&dest.url)?;
        self.guard(&url).await?;
        let client = match &outgoing.client_tls {
            Some(tls) => &self.client_for(tls)?,
            None => &self.client,
        };
        let request = client
            .request(dest.method.as_reqwest(), url)
            .timeout(dest.timeout())
            .header(CONTENT_TYPE, "application/json");
        let request = with_headers(request, outgoing, &dest.headers)?;
        let started = Instant::now();
        let response = request
            .body(outgoing.body.to_owned())
            .send()
            .await
            .map_err(|e| unanswered(e, dest.timeout()))?;
        let latency = started.elapsed();
        let status = response.status().as_u16();
        if response.status().is_success() {
            Ok(Receipt {
                status,
                latency,
                excerpt: excerpt(response, EXCERPT_BYTES).await,
            })
        } else {
            let retry_after = retry_after(&response);
            Err(DeliveryError::Rejected {
                status,
                excerpt: excerpt(response, EXCERPT_BYTES).await,
                latency,
                retry_after,
            })
        }
    }
}

/// How long the token endpoint may take.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a token endpoint's answer read.
const TOKEN_ANSWER_BYTES: usize = 16 * 1024;

#[async_trait]
impl crate::oauth2::TokenEndpoint for HttpTransport {
    /// POSTs the grant to the token endpoint, through the same client and
    /// guard as deliveries.
    async fn request(
        &self,
        request: &crate::oauth2::TokenRequest<'_>,
    ) -> Result<crate::oauth2::TokenAnswer, DeliveryError> {
        let url = self.url(&request.grant.token_url)?;
        self.guard(&url).await?;
        let (form, basic) = request.form();
        let mut post = self
            .client
            .post(url)
            .timeout(TOKEN_TIMEOUT)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some((id, secret)) = basic {
            post = post.basic_auth(id, Some(secret));
        }
        let response = post
            .body(form)
            .send()
            .await
            .map_err(|e| unanswered(e, TOKEN_TIMEOUT))?;
        Ok(crate::oauth2::TokenAnswer {
            status: response.status().as_u16(),
            body: excerpt(response, TOKEN_ANSWER_BYTES).await,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_token_url_passes_the_ssrf_guard_like_any_destination() {
        use crate::oauth2::{TokenEndpoint, TokenRequest};
        let t = HttpTransport::new(AllowList::default(), None).unwrap();
        let ask = |url: &str| -> crate::config::OAuth2 {
            serde_json::from_value(
                serde_json::json!({"tokenUrl": url, "clientId": "c", "clientSecret": "s"}),
            )
            .unwrap()
        };
        for (url, why) in [
            (
                "http://127.0.0.1:9/token",
                "127.0.0.1 is a loopback address",
            ),
            (
                "https://169.254.169.254/token",
                "169.254.169.254 is a cloud metadata address",
            ),
        ] {
            let grant = ask(url);
            let r = TokenRequest {
                grant: &grant,
                client_secret: "x",
            };
            match t.request(&r).await {
                Err(DeliveryError::Refused(got)) => assert!(got.contains(why), "{got}"),
                other => panic!("{url}: {other:?}"),
            }
        }
    }

    #[test]
    fn parsed_urls_are_the_parse_and_invalid_ones_are_refused_every_time() {
        let t = HttpTransport::new(AllowList::parse("127.0.0.1/32").unwrap(), None).unwrap();
        for text in [
            "https://Bücher.example/h?q=1#f",
            "http://127.0.0.1:8080/a/../b",
        ] {
            let first = t.url(text).unwrap();
            assert_eq!(first, reqwest::Url::parse(text).unwrap());
            assert_eq!(t.url(text).unwrap(), first, "from the cache");
        }
        for _ in 0..2 {
            match t.url("http://exa mple.com/") {
                Err(DeliveryError::Refused(why)) => assert!(why.starts_with("invalid URL")),
                other => panic!("{other:?}"),
            }
        }
        // Bounded: past the limit it starts over and still answers.
        for i in 0..PARSED_URLS + 5 {
            let text = format!("https://example.com/{i}");
            assert_eq!(t.url(&text).unwrap().path(), format!("/{i}"));
        }
        assert!(t.urls.lock().unwrap().len() <= PARSED_URLS);
    }
}
