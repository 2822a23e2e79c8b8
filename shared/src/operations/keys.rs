//! Party keys: create (the key shown once), list, revoke; an operator's
//! (`hubhooks keys`, `/v1/admin/keys`).
use super::OpError;
use crate::party::Party;
use crate::party_key::{self, PartyKey, Plaintext};
use crate::ports::PartyKeyStore;
use crate::timestamp::Timestamp;

/// A new key for `party`, stored; the plaintext to hand over once.
pub async fn create(
    store: &dyn PartyKeyStore,
    party: Party,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(Plaintext, PartyKey), OpError> {
    if expires_at.is_some_and(|t| t <= now) {
        return Err(OpError::Refused("the expiry is not in the future".into()));
    }
    let (plain, stored) = party_key::create(party, expires_at, now)
        .map_err(|e| OpError::Refused(format!("generating a key: {e}")))?;
    store.add(&stored).await?;
    Ok((plain, stored))
}

/// Every key, or `party`'s, oldest first.
pub async fn list(
    store: &dyn PartyKeyStore,
    party: Option<Party>,
) -> Result<Vec<PartyKey>, OpError> {
    let mut found = store.all().await?;
    found.retain(|k| party.is_none_or(|p| k.party == p));
    Ok(found)
}

/// Revokes key `id` from `now`: refused from then on.
pub async fn revoke(store: &dyn PartyKeyStore, id: &str, now: Timestamp) -> Result<(), OpError> {
    if store.revoke(id, now).await? {
        return Ok(());
    }
    match store.key(id).await? {
        None => Err(OpError::NotFound {
            what: "key",
            id: id.to_owned(),
        }),
        Some(k) => Err(OpError::Refused(format!(
            "key `{id}` was revoked already, at {}",
            k.revoked_at
                .map(|t| t.to_contract_string())
                .unwrap_or_default()
        ))),
    }
}

/// A key's state at `now`: active, expired or revoked.
pub fn state(k: &PartyKey, now: Timestamp) -> &'static str {
    if k.revoked_at.is_some_and(|t| t <= now) {
        "revoked"
    } else if k.expires_at.is_some_and(|t| t <= now) {
        "expired"
    } else {
        "active"
    }
}
