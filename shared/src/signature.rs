//! Standard Webhooks signatures (<https://www.standardwebhooks.com>):
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
//! one entry per key while keys rotate, separated by spaces.
use standardwebhooks::Webhook;

/// Why a body could not be signed; names a key by position, never by value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    #[error("the signing secret holds no key")]
    NoKey,
    #[error("signing key #{0} is not a whsec_<base64> key")]
    BadKey(usize),
}

/// Signs `body` with every key (`whsec_<base64>`). Errors name the key by
/// position only, never by value.
pub fn sign(keys: &[String], id: &str, timestamp: i64, body: &str) -> Result<String, SigningError> {
    if keys.is_empty() {
        return Err(SigningError::NoKey);
    }
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let bad = || SigningError::BadKey(i + 1);
            if !key.starts_with("whsec_") {
                return Err(bad());
            }
            Webhook::new(key)
                .map_err(|_| bad())?
                .sign(id, timestamp, body.as_bytes())
                .map_err(|_| bad())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|s| s.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's test vector.
    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &str = r#"{"test": 2432232314}"#;

    #[test]
    fn matches_the_specification_vector() {
        assert_eq!(
            sign(&[KEY.into()], ID, TS, BODY).unwrap(),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn rotation_signs_with_every_key_and_errors_hide_keys() {
        let two = sign(&[KEY.into(), "whsec_c2Vjb25k".into()], ID, TS, BODY).unwrap();
        assert_eq!(two.split(' ').count(), 2);
        assert!(two.starts_with("v1,g0hM9SsE"));
        let err = sign(&["plain-secret-value".into()], ID, TS, BODY).unwrap_err();
        assert!(!err.to_string().contains("plain-secret-value"));
        assert_eq!(
            err.to_string(),
            "signing key #1 is not a whsec_<base64> key"
        );
    }
}
