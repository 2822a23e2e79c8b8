//! Headers hubhooks sets on every delivery (HTTP headers; AMQP message
//! headers). Names only: no dependency, so config, payloads and transports
//! can all name them.

/// The delivery id (Standard Webhooks' name for it).
pub const DELIVERY_ID: &str = "webhook-id";
/// The event type (docs/receiving-webhooks.md: the headers of every delivery).
pub const EVENT_TYPE: &str = "event-type";
/// 1 on the first attempt, 2 on the first retry, …
pub const ATTEMPT: &str = "webhook-attempt";
/// Unix seconds of this attempt (Standard Webhooks).
pub const TIMESTAMP: &str = "webhook-timestamp";
/// `v1,<base64 HMAC-SHA256>` per signing key, space-separated.
pub const SIGNATURE: &str = "webhook-signature";
/// `true` on deliveries made by `hubhooks send-test`.
pub const TEST: &str = "webhook-test";
/// Seed 003's token header.
pub const X_TOKEN: &str = "x-token";
/// Seed 004's bearer token.
pub const AUTHORIZATION: &str = "authorization";

const RESERVED: [&str; 13] = [
    DELIVERY_ID,
    TEST,
    EVENT_TYPE,
    ATTEMPT,
    TIMESTAMP,
    SIGNATURE,
    // Secrets go in `auth`, by name, so their values stay out of config.
    X_TOKEN,
    AUTHORIZATION,
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
];

/// Whether a header is hubhooks' own (names compare case-insensitively).
pub fn is_reserved(name: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
}
