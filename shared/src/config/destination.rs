//! Where a subscription's webhooks go.
use super::FieldError;
use reqwest::header::{HeaderName, HeaderValue};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest per-request timeout a destination may ask for; the sender Lambda's
/// own timeout leaves room for a full batch at this value.
pub const MAX_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// A delivery target. `transport` selects the variant and defaults to `http`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "transport", rename_all = "camelCase")]
pub enum Destination {
    Http(HttpDestination),
    Amqp(AmqpDestination),
}

impl<'de> Deserialize<'de> for Destination {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

/// Reads a destination, naming the field of any problem below it
/// (`method`, `headers.X-Api-Key`; empty for the destination itself).
/// `transport` selects the variant and defaults to `http`. Subscriptions
/// read their destinations through this first (serde's buffering for the
/// transport dispatch would lose the path).
pub fn read(mut value: Value) -> Result<Destination, FieldError> {
    let transport = match value.as_object_mut().map(|m| m.remove("transport")) {
        None => return Err(FieldError::new("", "must be a map")),
        Some(None) => "http".to_owned(),
        Some(Some(Value::String(s))) => s,
        Some(Some(other)) => {
            return Err(FieldError::new(
                "transport",
                format!("must be a string, got {other}"),
            ));
        }
    };
    match transport.as_str() {
        "http" => fields(value).map(Destination::Http),
        "amqp" => fields(value).map(Destination::Amqp),
        other => Err(FieldError::new(
            "transport",
            format!("unknown transport `{other}` (known: http, amqp)"),
        )),
    }
}

/// A transport's fields, with the path of an error.
fn fields<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        FieldError::new(path, e.into_inner().to_string())
    })
}

impl Destination {
    /// Checks what serde cannot: a usable URL, sendable headers, sane limits.
    /// Errors carry the field path below `destination`.
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            Destination::Http(h) => h.validate(),
            Destination::Amqp(a) => a.validate(),
        }
    }

    pub fn transport(&self) -> &'static str {
        match self {
            Destination::Http(_) => "http",
            Destination::Amqp(_) => "amqp",
        }
    }

    pub fn timeout(&self) -> std::time::Duration {
        let ms = match self {
            Destination::Http(h) => h.timeout_ms,
            Destination::Amqp(a) => a.timeout_ms,
        };
        std::time::Duration::from_millis(ms.unwrap_or(DEFAULT_TIMEOUT_MS))
    }
}

/// A queue on the receiver's AMQP 0-9-1 broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AmqpDestination {
    /// Names the secret holding the broker URI
    /// (`amqp[s]://user:password@host:port/vhost`): credentials never travel
    /// in config or queue messages.
    pub uri_secret: String,
    /// The exchange; `""` (the default) is the default exchange, which
    /// routes by queue name.
    #[serde(default)]
    pub exchange: String,
    /// The routing key (with the default exchange: the queue's name).
    pub routing_key: String,
    /// How long to wait for the broker's confirm; default 10 s, at most 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl AmqpDestination {
    fn validate(&self) -> Result<(), FieldError> {
        crate::config::validate_secret_name(&self.uri_secret)
            .map_err(|e| FieldError::new("uriSecret", e.to_string()))?;
        if self.routing_key.is_empty() || self.routing_key.len() > 255 {
            return Err(FieldError::new("routingKey", "must be 1 to 255 bytes"));
        }
        if self.exchange.len() > 255 {
            return Err(FieldError::new("exchange", "must be at most 255 bytes"));
        }
        validate_timeout(self.timeout_ms)
    }
}

fn validate_timeout(timeout_ms: Option<u64>) -> Result<(), FieldError> {
    if let Some(ms) = timeout_ms
        && !(1..=MAX_TIMEOUT_MS).contains(&ms)
    {
        return Err(FieldError::new(
            "timeoutMs",
            format!("must be between 1 and {MAX_TIMEOUT_MS}"),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    /// Seeds 000/001 spell it "PATH"; both spellings are accepted.
    #[serde(alias = "PATH")]
    Patch,
    Delete,
}

impl HttpMethod {
    pub fn as_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpDestination {
    pub method: HttpMethod,
    pub url: String,
    /// Constant headers sent with every request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Per-request timeout; default 10 s, at most 30 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// Why `url`, valid as it is, would not be sent as written: characters
/// sent percent-encoded (anything but printable ASCII, and the printable
/// ones a URL never carries raw), with how to write it. Checked where
/// config is written, not where it is read: a stored item keeps working.
pub fn unencoded(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    needs_encoding(url).then(|| {
        format!("has characters a URL cannot carry as written (spaces, non-ASCII, quotes or brackets): write it as `{parsed}`")
    })
}

fn needs_encoding(url: &str) -> bool {
    url.chars().any(|c| {
        !c.is_ascii_graphic() || matches!(c, '"' | '<' | '>' | '`' | '{' | '}' | '|' | '\\' | '^')
    })
}

impl HttpDestination {
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS))
    }

    fn validate(&self) -> Result<(), FieldError> {
        let err = |field: &str, msg: String| Err(FieldError::new(field, msg));
        match reqwest::Url::parse(&self.url) {
            Err(e) => return err("url", format!("not a valid URL: {e}")),
            Ok(u) if u.scheme() != "http" && u.scheme() != "https" => {
                return err(
                    "url",
                    format!("scheme must be http or https, got `{}`", u.scheme()),
                );
            }
            Ok(u) if u.host_str().is_none_or(str::is_empty) => {
                return err("url", "has no host".into());
            }
            Ok(_) => {}
        }
        for (name, value) in &self.headers {
            let field = format!("headers.{name}");
            let Ok(parsed) = HeaderName::from_bytes(name.as_bytes()) else {
                return err(&field, "not a valid HTTP header name".into());
            };
            if matches!(parsed.as_str(), "authorization" | "x-token") {
                return err(
                    &field,
                    "carries a secret: name it in auth.bearerSecret or auth.xTokenSecret instead, so its value stays out of config and queues".into(),
                );
            }
            if crate::headers::is_reserved(parsed.as_str()) {
                return err(
                    &field,
                    "is set by hubhooks itself and cannot be overridden".into(),
                );
            }
            if value.chars().any(|c| c.is_control() && c != '\t')
                || HeaderValue::from_str(value).is_err()
            {
                return err(
                    &field,
                    "value must not contain CR, LF or other control characters".into(),
                );
            }
        }
        validate_timeout(self.timeout_ms)
    }
}

// The published schema (docs/config.schema.json) says what the parser
// reads; where serde is hand-written or lenient, so is the schema.

impl schemars::JsonSchema for HttpMethod {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "HttpMethod".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "HTTP method; `PATH` (as the seeds spell it) means PATCH.",
            "enum": ["GET", "POST", "PUT", "PATCH", "PATH", "DELETE"]
        })
    }
}

impl schemars::JsonSchema for Destination {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Destination".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // Each transport's fields, plus `transport` (optional for http).
        let with_transport = |mut schema: schemars::Schema, name: &str, required: bool| {
            if let Some(obj) = schema.as_object_mut() {
                if let Some(serde_json::Value::Object(props)) = obj.get_mut("properties") {
                    props.insert("transport".into(), serde_json::json!({"const": name}));
                }
                if required && let Some(serde_json::Value::Array(req)) = obj.get_mut("required") {
                    req.push("transport".into());
                }
            }
            schema
        };
        let http = with_transport(HttpDestination::json_schema(generator), "http", false);
        let amqp = with_transport(AmqpDestination::json_schema(generator), "amqp", true);
        schemars::json_schema!({
            "description": "Where a subscription's webhooks go: `transport` http (the default) or amqp.",
            "oneOf": [http, amqp]
        })
    }
}
