//! The headers of one delivery attempt, the same for HTTP and AMQP.
use crate::delivery::{Delivery, headers};
use crate::signature;

/// Secret values for one attempt, resolved by the sender from the names in
/// the delivery's `auth`. Never logged, never serialized.
#[derive(Default)]
pub struct Secrets {
    pub x_token: Option<String>,
    pub bearer: Option<String>,
    /// Signing keys, newest first.
    pub signing: Vec<String>,
}

/// Identity (`webhook-id`, `event-type`, `webhook-attempt`,
/// `webhook-timestamp`), then the signature and tokens the subscription asks
/// for. `Err` names what is wrong without any secret value.
pub fn headers(
    delivery: &Delivery,
    attempt: u32,
    timestamp: i64,
    body: &str,
    secrets: &Secrets,
) -> Result<Vec<(&'static str, String)>, String> {
    let mut out = vec![
        (headers::DELIVERY_ID, delivery.id.clone()),
        (headers::EVENT_TYPE, delivery.event_type.as_str().to_owned()),
        (headers::ATTEMPT, attempt.to_string()),
        (headers::TIMESTAMP, timestamp.to_string()),
    ];
    if !secrets.signing.is_empty() {
        out.push((
            headers::SIGNATURE,
            signature::sign(&secrets.signing, &delivery.id, timestamp, body)?,
        ));
    }
    let printable = |v: &str| !v.is_empty() && v.chars().all(|c| (' '..='~').contains(&c));
    if let Some(token) = &secrets.x_token {
        if !printable(token) {
            return Err("the x-token secret is not a printable ASCII value".into());
        }
        out.push((headers::X_TOKEN, token.clone()));
    }
    if let Some(token) = &secrets.bearer {
        if !printable(token) {
            return Err("the bearer secret is not a printable ASCII value".into());
        }
        out.push((headers::AUTHORIZATION, format!("Bearer {token}")));
    }
    Ok(out)
}
