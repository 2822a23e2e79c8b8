//! AMQP 0-9-1 delivery (lapin): one persistent JSON message per delivery,
//! done only when the broker confirms it.
//!
//! Connections and their channel are kept per broker across invocations of a
//! warm sender; a broken one is dropped and rebuilt on the next delivery.
//! Each broker has its own state, and no lock is held while talking to a
//! broker: a broker that accepts TCP but never answers delays only its own
//! deliveries. One connect per broker is in flight at a time (deliveries to
//! it wait for that one, each within its own timeout); a connect that gets
//! no answer within the delivery's timeout is closed, and the broker is left
//! alone for [`COOL_DOWN`], during which its deliveries fail at once (and are
//! retried on the schedule) instead of opening connection after connection.
//! Messages are published `mandatory`, so an unroutable message comes back
//! and counts as a failure (retried), like a nack or a lost connection.
use crate::config::{AmqpDestination, Destination};
use crate::egress::AllowList;
use crate::ports::{DeliveryError, Outgoing, Receipt, Transport};
use async_trait::async_trait;
use futures::future::{BoxFuture, FutureExt, Shared};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// AMQP has no status codes; a confirmed message is reported as 200.
pub const CONFIRMED: u16 = 200;
const PERSISTENT: u8 = 2;

/// How long a broker that did not answer a connect is left alone, at least
/// (at most as long as the connect waited, if that was longer). A refused
/// connect costs nothing and leaves nothing open: no cool-down.
pub const COOL_DOWN: Duration = Duration::from_secs(10);

struct Link {
    connection: Connection,
    channel: Channel,
}

impl Link {
    fn usable(&self) -> bool {
        self.connection.status().connected() && self.channel.status().connected()
    }
}

/// A connect's failure: what happened, and whether the broker never
/// answered (as opposed to refusing).
#[derive(Clone)]
struct ConnectFailure {
    message: String,
    silent: bool,
}

type Connecting = Shared<BoxFuture<'static, Result<Arc<Link>, ConnectFailure>>>;

/// One broker's connection state.
enum State {
    Connecting(Connecting),
    Ready(Arc<Link>),
    Down { until: Instant, error: String },
}

/// Broker URI → its state. Keys hold credentials, so they stay in memory
/// and are never logged. The lock guards the map only, never I/O.
type Brokers = Arc<std::sync::Mutex<HashMap<String, State>>>;

pub struct AmqpTransport {
    egress: AllowList,
    brokers: Brokers,
}

fn lock(brokers: &Brokers) -> std::sync::MutexGuard<'_, HashMap<String, State>> {
    brokers.lock().unwrap_or_else(|e| e.into_inner())
}

/// Opens a connection and a confirming channel, given `limit` to answer.
/// lapin gets the TCP stream from us, so we keep a duplicate of its socket:
/// a broker that accepts TCP but never answers leaves lapin's handshake
/// waiting for ever, and shutting the socket down is what ends it (and its
/// I/O thread) instead of leaking both.
async fn open(uri: String, limit: Duration) -> Result<Arc<Link>, ConnectFailure> {
    let refused = |message: String| ConnectFailure {
        message,
        silent: false,
    };
    use async_rs::traits::Reactor;
    use lapin::tcp::{AsyncTcpStream, RustlsConnectorConfig};
    use lapin::uri::{AMQPScheme, AMQPUri};
    use std::os::fd::{AsFd, OwnedFd};

    let parsed: AMQPUri = uri.parse().map_err(refused)?;
    let runtime = lapin::runtime::default_runtime().map_err(|e| refused(e.to_string()))?;
    let socket: Arc<std::sync::Mutex<Option<OwnedFd>>> = Arc::default();
    let slot = socket.clone();
    let connect = async move |uri: AMQPUri, runtime: async_rs::TokioRuntime| {
        let host = uri.authority.host.clone();
        let mut stream = Err(std::io::Error::other(format!("`{host}` has no address")));
        for addr in tokio::net::lookup_host((host.as_str(), uri.authority.port)).await? {
            stream = runtime.tcp_connect_addr(addr).await;
            if stream.is_ok() {
                break;
            }
        }
        let stream = stream?;
        let duplicate = stream.get_ref().as_fd().try_clone_to_owned()?;
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(duplicate);
        let stream = AsyncTcpStream::Plain(stream);
        Ok(match uri.scheme {
            AMQPScheme::AMQP => stream,
            // The connector the default TLS config would make (the
            // system's roots, no client certificate), built here: lapin's
            // own path can read a PKCS#12 client identity, and that reader
            // was about 0.4 MB of the sender binary.
            AMQPScheme::AMQPS => {
                super::tls::install();
                let connector = RustlsConnectorConfig::new_with_native_certs()?
                    .connector_with_no_client_auth()?;
                stream.into_rustls(&connector, &host).await?
            }
        })
    };
    let handshake = async {
        let connection =
            Connection::connector(parsed, runtime, connect, ConnectionProperties::default())
                .await
                .map_err(|e| e.to_string())?;
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| e.to_string())?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        Ok(Arc::new(Link {
            connection,
            channel,
        }))
    };
    match tokio::time::timeout(limit, handshake).await {
        Ok(r) => r.map_err(refused),
        Err(_) => {
            if let Some(fd) = socket.lock().unwrap_or_else(|e| e.into_inner()).take() {
                let _ = std::net::TcpStream::from(fd).shutdown(std::net::Shutdown::Both);
            }
            Err(ConnectFailure {
                message: format!("no answer within {limit:?}"),
                silent: true,
            })
        }
    }
}

impl AmqpTransport {
    pub fn new(egress: AllowList) -> Self {
        AmqpTransport {
            egress,
            brokers: Arc::default(),
        }
    }

    /// The broker's host and port, for messages (never the credentials).
    fn broker(uri: &reqwest::Url) -> String {
        let port = uri.port().unwrap_or(match uri.scheme() {
            "amqps" => 5671,
            _ => 5672,
        });
        format!("{}:{port}", uri.host_str().unwrap_or("?"))
    }

    /// Every address the broker's name has must pass the SSRF guard.
    async fn check_egress(&self, uri: &reqwest::Url) -> Result<(), DeliveryError> {
        let host = uri
            .host_str()
            .ok_or_else(|| DeliveryError::Refused("broker URI has no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']');
        super::check_resolved(&self.egress, host, 0).await
    }

    /// The broker's link: the kept one, the connect in flight, or a new
    /// connect (given at most `limit` to answer).
    async fn link(
        &self,
        uri: &str,
        broker: &str,
        limit: Duration,
    ) -> Result<Arc<Link>, DeliveryError> {
        let connecting = {
            let mut brokers = lock(&self.brokers);
            match brokers.get(uri) {
                Some(State::Ready(link)) if link.usable() => return Ok(link.clone()),
                Some(State::Connecting(f)) => f.clone(),
                Some(State::Down { until, error }) if Instant::now() < *until => {
                    let wait = until.saturating_duration_since(Instant::now());
                    return Err(DeliveryError::Connect(scrub(
                        &format!(
                            "broker {broker} is not answering ({error}); next connect in {} s",
                            wait.as_secs().max(1)
                        ),
                        uri,
                    )));
                }
                _ => {
                    let owned = uri.to_owned();
                    let f: Connecting = open(owned, limit).boxed().shared();
                    brokers.insert(uri.to_owned(), State::Connecting(f.clone()));
                    // Settles the state whoever is still waiting: the connect
                    // runs to its end even when every delivery gave up on it.
                    let (watcher, map, key) = (f.clone(), self.brokers.clone(), uri.to_owned());
                    tokio::spawn(async move {
                        match watcher.await {
                            Ok(link) => {
                                lock(&map).insert(key, State::Ready(link));
                            }
                            Err(f) if f.silent => {
                                let until = Instant::now() + COOL_DOWN.max(limit);
                                lock(&map).insert(
                                    key,
                                    State::Down {
                                        until,
                                        error: f.message,
                                    },
                                );
                            }
                            Err(_) => {
                                lock(&map).remove(&key);
                            }
                        }
                    });
                    f
                }
            }
        };
        connecting.await.map_err(|e| {
            DeliveryError::Connect(scrub(&format!("broker {broker}: {}", e.message), uri))
        })
    }

    /// Drops a kept link that failed, so the next delivery connects afresh.
    fn forget(&self, uri: &str, link: &Arc<Link>) {
        let mut brokers = lock(&self.brokers);
        if let Some(State::Ready(kept)) = brokers.get(uri)
            && Arc::ptr_eq(kept, link)
        {
            brokers.remove(uri);
        }
    }
}

/// Removes the URI's password from a message, should a library echo it.
fn scrub(message: &str, uri: &str) -> String {
    match reqwest::Url::parse(uri)
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(p) if !p.is_empty() => message.replace(&p, "***"),
        _ => message.to_owned(),
    }
}

/// The broker URI the destination's secret holds, or why it is refused.
fn broker_uri(outgoing: &Outgoing<'_>, uri_secret: &str) -> Result<reqwest::Url, DeliveryError> {
    let text = outgoing
        .broker_uri
        .as_deref()
        .ok_or_else(|| DeliveryError::Refused("no broker URI".into()))?;
    parse_broker_uri(text, uri_secret)
}

/// `text`, the value of the secret `uri_secret`, as a broker URI. A
/// refusal names the secret, never its value (it holds the password).
pub fn parse_broker_uri(text: &str, uri_secret: &str) -> Result<reqwest::Url, DeliveryError> {
    let not_amqp = || {
        DeliveryError::Refused(format!(
            "the secret `{uri_secret}` does not hold an amqp:// or amqps:// URI"
        ))
    };
    let uri = reqwest::Url::parse(text).map_err(|_| not_amqp())?;
    if !matches!(uri.scheme(), "amqp" | "amqps") {
        return Err(not_amqp());
    }
    Ok(uri)
}

/// The message's properties: persistent JSON, its id and type, the signed
/// headers.
fn properties(outgoing: &Outgoing<'_>) -> BasicProperties {
    let mut headers = FieldTable::default();
    for (name, value) in &outgoing.headers {
        headers.insert(
            ShortString::from(name.as_ref()),
            AMQPValue::LongString(LongString::from(value.as_bytes().to_vec())),
        );
    }
    BasicProperties::default()
        .with_content_type("application/json".into())
        .with_delivery_mode(PERSISTENT)
        .with_message_id(outgoing.id.into())
        .with_type(outgoing.kind.into())
        .with_app_id("hubhooks".into())
        .with_timestamp(chrono::Utc::now().timestamp().max(0) as u64)
        .with_headers(headers)
}

/// What the broker's confirm says of the message.
fn confirmed(
    confirm: Confirmation,
    broker: &str,
    dest: &AmqpDestination,
) -> Result<(), DeliveryError> {
    match confirm {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(returned)) => Err(DeliveryError::Other(format!(
            "broker {broker} returned the message as unroutable ({} {}): nothing bound to exchange `{}` with routing key `{}`",
            returned.reply_code, returned.reply_text, dest.exchange, dest.routing_key
        ))),
        Confirmation::Nack(_) => Err(DeliveryError::Other(format!(
            "broker {broker} refused the message (nack)"
        ))),
        Confirmation::NotRequested => Err(DeliveryError::Other(format!(
            "broker {broker} did not confirm the message"
        ))),
    }
}

impl AmqpTransport {
    /// Publishes on the kept (or a new) link and waits for the confirm;
    /// `used` is the link it went on.
    async fn publish(
        &self,
        outgoing: &Outgoing<'_>,
        dest: &AmqpDestination,
        (uri_text, broker): (&str, &str),
        used: &mut Option<Arc<Link>>,
    ) -> Result<(), DeliveryError> {
        let timeout = outgoing.destination.timeout();
        let link = self.link(uri_text, broker, timeout).await?;
        *used = Some(link.clone());
        let lost = |e: lapin::Error| {
            DeliveryError::Connect(scrub(&format!("broker {broker}: {e}"), uri_text))
        };
        let confirm = link
            .channel
            .basic_publish(
                dest.exchange.as_str().into(),
                dest.routing_key.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..Default::default()
                },
                outgoing.body.as_bytes(),
                properties(outgoing),
            )
            .await
            .map_err(lost)?
            .await
            .map_err(lost)?;
        confirmed(confirm, broker, dest)
    }
}

#[async_trait]
impl Transport for AmqpTransport {
    async fn deliver(&self, outgoing: &Outgoing<'_>) -> Result<Receipt, DeliveryError> {
        let Destination::Amqp(dest) = outgoing.destination else {
            return Err(DeliveryError::Refused("not an AMQP destination".into()));
        };
        let uri = broker_uri(outgoing, &dest.uri_secret)?;
        let uri_text = outgoing.broker_uri.as_deref().unwrap_or_default();
        let broker = Self::broker(&uri);
        self.check_egress(&uri).await?;
        let started = Instant::now();
        let timeout = outgoing.destination.timeout();
        let mut used: Option<Arc<Link>> = None;
        let attempt = self.publish(outgoing, dest, (uri_text, &broker), &mut used);
        let result = match tokio::time::timeout(timeout, attempt).await {
            Ok(r) => r,
            Err(_) => Err(DeliveryError::Timeout(timeout)),
        };
        match result {
            Ok(()) => Ok(Receipt {
                status: CONFIRMED,
                latency: started.elapsed(),
                excerpt: format!("confirmed by broker {broker}"),
            }),
            Err(e) => {
                if !matches!(e, DeliveryError::Other(_))
                    && let Some(link) = &used
                {
                    // Trouble on a kept link or a lost confirm: start afresh.
                    self.forget(uri_text, link);
                }
                Err(e)
            }
        }
    }
}
