//! Party keys: how a partner or a provider calls the management API. One
//! party each, created by an operator and shown once
//! (`hhk_<id>_<secret>`); only the secret's SHA-256 is stored, compared in
//! constant time. A key can expire and be revoked; it records when it was
//! last used. Every refusal is the same to the caller (401): whether a key
//! is unknown, revoked or expired is for the operator's eyes.
use crate::party::Party;
use crate::timestamp::Timestamp;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::fmt;

const PREFIX: &str = "hhk_";

/// A stored key: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartyKey {
    /// The public part of the key, its name in lists and logs.
    pub id: String,
    pub party: Party,
    /// SHA-256 of the secret part, hex.
    pub hash: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    /// What the key opens: the API (a bearer key), or the partner portal
    /// (a link, then the session it was exchanged for).
    #[serde(default, skip_serializing_if = "Purpose::is_api")]
    pub purpose: Purpose,
}

/// What a key is for. A key opens only what it was made for: a portal
/// session is no bearer key, and a bearer key opens no portal.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Purpose {
    /// `Authorization: Bearer hhk_…` on `/v1/…`.
    #[default]
    Api,
    /// A portal link: opened once, for a session.
    PortalLink,
    /// A portal session: the cookie a link was exchanged for.
    PortalSession,
}

impl Purpose {
    pub fn is_api(&self) -> bool {
        *self == Purpose::Api
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Api => "api",
            Purpose::PortalLink => "portalLink",
            Purpose::PortalSession => "portalSession",
        }
    }
}

/// The key as handed to the party, once. Its `Debug` shows only the id.
pub struct Plaintext(String);

impl Plaintext {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match parse(&self.0) {
            Some((id, _)) => write!(f, "Plaintext({PREFIX}{id}_…)"),
            None => f.write_str("Plaintext(…)"),
        }
    }
}

/// Why a presented key is refused. The API answers 401 for each alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a party key")]
    Malformed,
    #[error("no such key")]
    Unknown,
    #[error("the key was revoked")]
    Revoked,
    #[error("the key expired")]
    Expired,
}

/// A fresh key for `party`: the plaintext (show it once) and what to store.
pub fn create(
    party: Party,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(Plaintext, PartyKey), getrandom::Error> {
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut id)?;
    getrandom::fill(&mut secret)?;
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let stored = PartyKey {
        hash: digest(&secret),
        id: id.clone(),
        party,
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
        purpose: Purpose::Api,
    };
    Ok((Plaintext(format!("{PREFIX}{id}_{secret}")), stored))
}

/// The id a presented key names (to look it up), if it is shaped as one.
pub fn id_of(presented: &str) -> Option<&str> {
    parse(presented).map(|(id, _)| id)
}

/// The party `presented` speaks for, given the stored key its id names.
pub fn authenticate(
    presented: &str,
    stored: Option<&PartyKey>,
    now: Timestamp,
) -> Result<Party, Refusal> {
    use subtle::ConstantTimeEq;
    let (id, secret) = parse(presented).ok_or(Refusal::Malformed)?;
    let key = stored.filter(|k| k.id == id).ok_or(Refusal::Unknown)?;
    if !bool::from(digest(secret).as_bytes().ct_eq(key.hash.as_bytes())) {
        return Err(Refusal::Unknown);
    }
    if key.revoked_at.is_some_and(|at| at <= now) {
        return Err(Refusal::Revoked);
    }
    if key.expires_at.is_some_and(|at| at <= now) {
        return Err(Refusal::Expired);
    }
    Ok(key.party)
}

/// `hhk_<16 hex>_<43 base64url>` → (id, secret).
fn parse(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let secret_ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some((id, secret))
}

fn digest(secret: &str) -> String {
    ring::digest::digest(&ring::digest::SHA256, secret.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(&format!("2026-12-05T{s}.000Z")).unwrap()
    }

    #[test]
    fn a_key_speaks_for_its_party_until_it_expires_or_is_revoked() {
        let partner = Party::partner(1413);
        let (plain, stored) = create(partner, Some(at("12:00:00")), at("10:00:00")).unwrap();
        let key = plain.expose();
        assert!(
            key.starts_with("hhk_") && key.len() == 4 + 16 + 1 + 43,
            "{key}"
        );
        assert_eq!(id_of(key), Some(stored.id.as_str()));
        assert!(!stored.hash.contains(&key[21..]), "only a hash is stored");
        assert!(
            !format!("{plain:?}").contains(&key[21..]),
            "Debug hides the secret"
        );
        let revoked = PartyKey {
            revoked_at: Some(at("10:30:00")),
            ..stored.clone()
        };
        let other = create(partner, None, at("10:00:00")).unwrap().1;
        let mut tampered = key.to_owned();
        tampered.replace_range(key.len() - 1.., if key.ends_with('A') { "B" } else { "A" });
        // (presented, stored, when, answer)
        type Case<'a> = (
            &'a str,
            Option<&'a PartyKey>,
            &'a str,
            Result<Party, Refusal>,
        );
        let table: [Case; 9] = [
            (key, Some(&stored), "11:59:59", Ok(partner)),
            (key, Some(&stored), "12:00:00", Err(Refusal::Expired)),
            (key, Some(&revoked), "10:29:59", Ok(partner)),
            (key, Some(&revoked), "10:30:00", Err(Refusal::Revoked)),
            (key, None, "10:00:00", Err(Refusal::Unknown)),
            (key, Some(&other), "10:00:00", Err(Refusal::Unknown)),
            (&tampered, Some(&stored), "10:00:00", Err(Refusal::Unknown)),
            (
                "hhk_short_x",
                Some(&stored),
                "10:00:00",
                Err(Refusal::Malformed),
            ),
            ("Bearer whatever", None, "10:00:00", Err(Refusal::Malformed)),
        ];
        for (presented, stored, when, answer) in table {
            assert_eq!(
                authenticate(presented, stored, at(when)),
                answer,
                "{presented} at {when}"
            );
        }
    }

    #[test]
    fn keys_are_unique_and_parse_only_in_their_own_shape() {
        let a = create(Party::provider(1004), None, at("10:00:00")).unwrap();
        let b = create(Party::provider(1004), None, at("10:00:00")).unwrap();
        assert_ne!(a.0.expose(), b.0.expose());
        assert_ne!(a.1.id, b.1.id);
        for shaped_wrong in [
            "",
            "hhk_",
            "hhk__",
            "xhk_0123456789abcdef_AAAA",
            "hhk_0123456789abcdeg_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert_eq!(id_of(shaped_wrong), None, "{shaped_wrong}");
        }
    }
}
