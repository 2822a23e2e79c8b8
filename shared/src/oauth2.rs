//! OAuth2 access tokens for receivers that take them (`auth.oauth2`,
//! client credentials). A warm sender keeps one token per subscription
//! until shortly before it expires; deliveries of one subscription in
//! flight at once wait for one fetch instead of each making their own. A
//! token never reaches a log, a reason or the attempt log: errors carry the
//! endpoint's status and answer, never what was sent.
use crate::config::{ClientAuth, OAuth2};
use crate::outcome::DeliveryError;
use async_trait::async_trait;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the token endpoint is sent.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    pub grant: &'a OAuth2,
    pub client_secret: &'a str,
}

impl TokenRequest<'_> {
    /// The form (`application/x-www-form-urlencoded`) and, for HTTP Basic,
    /// the client's id and secret (RFC 6749 §2.3.1: each form-encoded).
    pub fn form(&self) -> (String, Option<(String, String)>) {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if !self.grant.scopes.is_empty() {
            form.append_pair("scope", &self.grant.scopes.join(" "));
        }
        if let Some(a) = &self.grant.audience {
            form.append_pair("audience", a);
        }
        let basic = match self.grant.client_auth {
            ClientAuth::Post => {
                form.append_pair("client_id", &self.grant.client_id);
                form.append_pair("client_secret", self.client_secret);
                None
            }
            ClientAuth::Basic => {
                let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
                Some((enc(&self.grant.client_id), enc(self.client_secret)))
            }
        };
        (form.finish(), basic)
    }

    /// Tells one grant (and client secret) from another, so a changed
    /// config or a rotated secret is never answered with the old token.
    fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.grant.hash(&mut h);
        self.client_secret.hash(&mut h);
        h.finish()
    }
}

/// The token endpoint's answer, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenAnswer {
    pub status: u16,
    pub body: String,
}

/// Asks a token endpoint (the port; HTTP behind the SSRF guard).
#[async_trait]
pub trait TokenEndpoint: Send + Sync {
    /// `Err` when no answer came (refused by the guard, timed out, …).
    async fn request(&self, request: &TokenRequest<'_>) -> Result<TokenAnswer, DeliveryError>;
}

/// A token's lifetime when the endpoint does not say (`expires_in`).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(300);
/// How much of the answer a failure keeps.
const EXCERPT: usize = 300;

/// An access token and how long it is good for.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub value: String,
    pub lifetime: Duration,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(***, {:?})", self.lifetime)
    }
}

/// The endpoint's answer read as RFC 6749 §5.1 says; a failure is the
/// receiver's (retried on its schedule), with the endpoint's status and
/// the start of its answer.
pub fn read_answer(answer: &TokenAnswer) -> Result<Token, DeliveryError> {
    let fail = |why: String| DeliveryError::Other(format!("token endpoint {why}"));
    if !(200..300).contains(&answer.status) {
        return Err(fail(format!(
            "answered {}: {}",
            answer.status,
            crate::delivery::clip(&answer.body, EXCERPT)
        )));
    }
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: String,
        token_type: String,
        expires_in: Option<u64>,
    }
    let parsed: Answer = serde_json::from_str(&answer.body).map_err(|e| {
        fail(format!(
            "answered {} without a token (access_token, token_type): {e}",
            answer.status
        ))
    })?;
    if !parsed.token_type.eq_ignore_ascii_case("bearer") {
        return Err(fail(format!(
            "gave a `{}` token; only Bearer is sent",
            crate::delivery::clip(&parsed.token_type, 40)
        )));
    }
    let value = parsed.access_token;
    if value.is_empty() || value.len() > 8192 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(fail(
            "gave a token that cannot travel in a header (empty, over 8 KiB or not printable ASCII)".into(),
        ));
    }
    Ok(Token {
        value,
        lifetime: parsed
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_LIFETIME),
    })
}

/// When a token fetched at `at` for `lifetime` is due for renewal: a
/// fifth of its life early, at most a minute, so no request carries a
/// token about to expire on its way.
pub fn renew_at(at: Instant, lifetime: Duration) -> Instant {
    at + lifetime - (lifetime / 5).min(Duration::from_secs(60))
}

struct Cached {
    value: String,
    fingerprint: u64,
    renew_at: Instant,
}

/// The warm instance's tokens, one per subscription.
pub struct Tokens {
    endpoint: Arc<dyn TokenEndpoint>,
    slots: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Cached>>>>>,
    fetches: AtomicU64,
}

/// A token for one attempt, and whether it was fetched for it (a `401`
/// with a token from the cache is worth one fetch more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub value: String,
    pub fresh: bool,
}

impl Tokens {
    pub fn new(endpoint: Arc<dyn TokenEndpoint>) -> Self {
        Tokens {
            endpoint,
            slots: Default::default(),
            fetches: AtomicU64::new(0),
        }
    }

    /// Token fetches this instance made.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The subscription's token: the cached one while it is good, else a
    /// new one. `renew`: the receiver refused the cached one.
    pub async fn token(
        &self,
        subscription: &str,
        request: &TokenRequest<'_>,
        now: Instant,
        renew: bool,
    ) -> Result<Issued, DeliveryError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(subscription.to_owned()).or_default().clone()
        };
        // Held across the fetch: the others wait for this one's token.
        let mut cached = slot.lock().await;
        let fingerprint = request.fingerprint();
        if let Some(c) = cached.as_ref()
            && c.fingerprint == fingerprint
            && now < c.renew_at
            && !renew
        {
            return Ok(Issued {
                value: c.value.clone(),
                fresh: false,
            });
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let token = self
            .endpoint
            .request(request)
            .await
            .map_err(|e| match e {
                DeliveryError::Refused(why) => {
                    DeliveryError::Refused(format!("token endpoint: {why}"))
                }
                DeliveryError::Timeout(d) => {
                    DeliveryError::Other(format!("token endpoint timed out after {d:?}"))
                }
                other => DeliveryError::Other(format!("token endpoint: {other}")),
            })
            .and_then(|answer| read_answer(&answer));
        let token = match token {
            Ok(t) => t,
            Err(e) => {
                *cached = None;
                return Err(e);
            }
        };
        *cached = Some(Cached {
            value: token.value.clone(),
            fingerprint,
            renew_at: renew_at(now, token.lifetime),
        });
        Ok(Issued {
            value: token.value,
            fresh: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Answers from a script, counting requests.
    struct Scripted {
        answers: Mutex<Vec<Result<TokenAnswer, DeliveryError>>>,
        seen: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl TokenEndpoint for Scripted {
        async fn request(&self, r: &TokenRequest<'_>) -> Result<TokenAnswer, DeliveryError> {
            self.seen.lock().unwrap().push(r.form().0);
            tokio::time::sleep(Duration::from_millis(5)).await;
            let mut answers = self.answers.lock().unwrap();
            if answers.is_empty() {
                return Err(DeliveryError::Other("the script is spent".into()));
            }
            answers.remove(0)
        }
    }

    fn ok(token: &str, expires_in: u64) -> Result<TokenAnswer, DeliveryError> {
        Ok(TokenAnswer {
            status: 200,
            body: format!(
                r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":{expires_in}}}"#
            ),
        })
    }

    fn grant() -> OAuth2 {
        serde_json::from_value(serde_json::json!({
            "tokenUrl": "https://login.example/token", "clientId": "hub hooks",
            "clientSecret": "acme-oauth", "scopes": ["a", "b.c"], "audience": "https://api.example/"
        }))
        .unwrap()
    }

    #[test]
    fn the_form_and_basic_credentials_are_encoded() {
        let g = grant();
        let r = TokenRequest {
            grant: &g,
            client_secret: "s3:cr=t",
        };
        let (form, basic) = r.form();
        assert_eq!(
            form,
            "grant_type=client_credentials&scope=a+b.c&audience=https%3A%2F%2Fapi.example%2F"
        );
        assert_eq!(basic, Some(("hub+hooks".into(), "s3%3Acr%3Dt".into())));
        let post = OAuth2 {
            client_auth: ClientAuth::Post,
            ..g
        };
        let (form, basic) = TokenRequest {
            grant: &post,
            client_secret: "s",
        }
        .form();
        assert!(
            form.ends_with("&client_id=hub+hooks&client_secret=s"),
            "{form}"
        );
        assert_eq!(basic, None);
    }

    #[test]
    fn answers_are_read_as_the_rfc_says() {
        let read = |status, body: &str| {
            read_answer(&TokenAnswer {
                status,
                body: body.into(),
            })
            .map_err(|e| e.to_string())
        };
        assert_eq!(
            read(200, r#"{"access_token":"t","token_type":"bearer"}"#),
            Ok(Token {
                value: "t".into(),
                lifetime: DEFAULT_LIFETIME
            })
        );
        assert_eq!(
            read(401, r#"{"error":"invalid_client"}"#),
            Err(
                r#"request failed: token endpoint answered 401: {"error":"invalid_client"}"#.into()
            )
        );
        assert_eq!(
            read(200, r#"{"access_token":"t","token_type":"mac"}"#),
            Err("request failed: token endpoint gave a `mac` token; only Bearer is sent".into())
        );
        assert!(read(200, "<html>").unwrap_err().contains("without a token"));
        assert!(
            read(200, r#"{"access_token":"a\nb","token_type":"Bearer"}"#)
                .unwrap_err()
                .contains("cannot travel in a header")
        );
        assert_eq!(
            format!(
                "{:?}",
                read_answer(&TokenAnswer {
                    status: 200,
                    body: r#"{"access_token":"secret","token_type":"Bearer"}"#.into()
                })
            ),
            "Ok(Token(***, 300s))",
            "a token never shows in a log"
        );
    }

    #[tokio::test]
    async fn one_fetch_serves_a_subscription_until_shortly_before_expiry() {
        let endpoint = Arc::new(Scripted {
            answers: Mutex::new(vec![ok("t1", 100), ok("t2", 100), ok("t3", 100)]),
            seen: Mutex::default(),
        });
        let tokens = Arc::new(Tokens::new(endpoint.clone()));
        let g = grant();
        let start = Instant::now();
        // Ten deliveries at once: one fetch.
        let got = futures::future::join_all((0..10).map(|_| {
            let tokens = tokens.clone();
            let g = g.clone();
            async move {
                let r = TokenRequest {
                    grant: &g,
                    client_secret: "s",
                };
                tokens.token("sub", &r, start, false).await.unwrap()
            }
        }))
        .await;
        assert_eq!(got.iter().filter(|i| i.fresh).count(), 1);
        assert!(got.iter().all(|i| i.value == "t1"));
        let r = TokenRequest {
            grant: &g,
            client_secret: "s",
        };
        let at = |secs| start + Duration::from_secs(secs);
        // Renewed 20 s early (a fifth of 100 s).
        assert_eq!(
            tokens.token("sub", &r, at(79), false).await.unwrap().value,
            "t1"
        );
        assert_eq!(
            tokens.token("sub", &r, at(80), false).await.unwrap().value,
            "t2"
        );
        // A refused token is renewed at once; a rotated secret too.
        let renewed = tokens.token("sub", &r, at(81), true).await.unwrap();
        assert_eq!(
            renewed,
            Issued {
                value: "t3".into(),
                fresh: true
            }
        );
        assert_eq!(tokens.fetches(), 3);
        let rotated = TokenRequest {
            grant: &g,
            client_secret: "new",
        };
        let e = tokens.token("sub", &rotated, at(82), false).await;
        assert!(e.is_err(), "the script is spent: a fetch was made");
        assert_eq!(tokens.fetches(), 4);
    }

    #[tokio::test]
    async fn an_endpoint_that_fails_is_tried_again_next_time() {
        let endpoint = Arc::new(Scripted {
            answers: Mutex::new(vec![
                Err(DeliveryError::Connect("connection refused".into())),
                Err(DeliveryError::Refused(
                    "`x` resolves to 10.0.0.1, a private address".into(),
                )),
                ok("t", 60),
            ]),
            seen: Mutex::default(),
        });
        let tokens = Tokens::new(endpoint);
        let g = grant();
        let r = TokenRequest {
            grant: &g,
            client_secret: "s",
        };
        let now = Instant::now();
        assert_eq!(
            tokens
                .token("sub", &r, now, false)
                .await
                .unwrap_err()
                .to_string(),
            "request failed: token endpoint: could not connect: connection refused"
        );
        assert_eq!(
            tokens
                .token("sub", &r, now, false)
                .await
                .unwrap_err()
                .to_string(),
            "refused: token endpoint: `x` resolves to 10.0.0.1, a private address"
        );
        assert_eq!(
            tokens.token("sub", &r, now, false).await.unwrap().value,
            "t"
        );
    }
}
