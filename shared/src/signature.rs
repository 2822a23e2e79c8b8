//! Standard Webhooks signatures (<https://www.standardwebhooks.com>):
//! `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
//! one entry per key while keys rotate, separated by spaces.
//!
//! Signed with ring's HMAC (the process's crypto provider, assembly where
//! the CPU has it): standardwebhooks' portable SHA-256 was 7% of the
//! sender's CPU (docs/benchmarks.md). The tests hold it to standardwebhooks'
//! output and verifier.
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

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
            let secret = key.strip_prefix("whsec_").ok_or_else(bad)?;
            let raw = STANDARD.decode(secret).map_err(|_| bad())?;
            let mut mac = hmac::Context::with_key(&hmac::Key::new(hmac::HMAC_SHA256, &raw));
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body.as_bytes());
            Ok(format!("v1,{}", STANDARD.encode(mac.sign())))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|s| s.join(" "))
}

/// A fresh signing key, `whsec_` and 32 random bytes in base64 (Standard
/// Webhooks allows 24 to 64).
pub fn generate_key() -> Result<String, getrandom::Error> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's test vector.
    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn a_generated_key_signs_as_standard_webhooks_does_and_no_two_are_alike() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), "whsec_".len() + 44);
        let reference = standardwebhooks::Webhook::new(&a).unwrap();
        assert_eq!(
            sign(std::slice::from_ref(&a), ID, TS, BODY).unwrap(),
            reference.sign(ID, TS, BODY.as_bytes()).unwrap()
        );
    }

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
    fn agrees_with_standardwebhooks_and_its_verifier() {
        // Bodies of every length around SHA-256's 64-byte blocks, multi-byte
        // text, ids and timestamps of several lengths, keys of 16 to 64 bytes.
        let keys = [
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            format!("whsec_{}", STANDARD.encode([7u8; 16])),
            format!("whsec_{}", STANDARD.encode([0xa5u8; 64])),
        ];
        for key in &keys {
            let reference = standardwebhooks::Webhook::new(key).unwrap();
            for len in 0..200 {
                let body: String = "{\"ø\":\"x\"}".chars().cycle().take(len).collect();
                for (id, ts) in [("msg_1", 0i64), (ID, TS), ("0f1e2d3c-4b5a", -5)] {
                    let ours = sign(std::slice::from_ref(key), id, ts, &body).unwrap();
                    assert_eq!(ours, reference.sign(id, ts, body.as_bytes()).unwrap());
                }
            }
            // A fresh signature passes the library's own verification.
            let now = chrono::Utc::now().timestamp();
            let ours = sign(std::slice::from_ref(key), ID, now, BODY).unwrap();
            let mut headers = http::HeaderMap::new();
            headers.insert("webhook-id", ID.parse().unwrap());
            headers.insert("webhook-timestamp", now.to_string().parse().unwrap());
            headers.insert("webhook-signature", ours.parse().unwrap());
            reference.verify(BODY.as_bytes(), &headers).unwrap();
        }
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
