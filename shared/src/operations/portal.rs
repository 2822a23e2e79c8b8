//! Portal links and sessions: how a partner or a provider opens the
//! partner portal without anyone's AWS keys. An operator makes a link for
//! one party (`hubhooks portal-link`, `POST /v1/admin/portal-links`); its
//! key is good once and for a short time, and opening it makes a session
//! (the portal's cookie) for the same party. Both are party keys with their
//! own [`Purpose`], so they share the store, the hashing and revocation.
use super::OpError;
use crate::party::Party;
use crate::party_key::{self, PartyKey, Plaintext, Purpose, Refusal};
use crate::ports::PartyKeyStore;
use crate::timestamp::Timestamp;
use chrono::Duration;

/// A link is good for an hour unless the operator says otherwise.
pub const DEFAULT_LINK_TTL: Duration = Duration::hours(1);
/// A link may not outlive a working day: it travels by mail and chat.
pub const MAX_LINK_TTL: Duration = Duration::hours(24);
/// How long a session lasts from the link's opening.
pub const SESSION_TTL: Duration = Duration::hours(8);

/// Why a link does not open. Unlike a bearer key's refusal, the portal says
/// which: the person holding it needs to know whether to ask for a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkRefusal {
    #[error("this link has expired")]
    Expired,
    #[error("this link was used already")]
    Used,
    #[error("this is not a valid portal link")]
    Invalid,
}

impl LinkRefusal {
    pub fn code(self) -> &'static str {
        match self {
            LinkRefusal::Expired => "expired",
            LinkRefusal::Used => "used",
            LinkRefusal::Invalid => "invalid",
        }
    }
}

/// Why a link's time to live is refused.
pub fn check_ttl(ttl: Duration) -> Result<(), String> {
    if ttl <= Duration::zero() {
        return Err("must be more than 0 seconds".into());
    }
    if ttl > MAX_LINK_TTL {
        return Err(format!(
            "must be at most {} hours: a link travels by mail and chat",
            MAX_LINK_TTL.num_hours()
        ));
    }
    Ok(())
}

/// A new link for `party`, good until `now + ttl`: its key (to put in the
/// URL once) and what was stored.
pub async fn create_link(
    store: &dyn PartyKeyStore,
    party: Party,
    ttl: Duration,
    now: Timestamp,
) -> Result<(Plaintext, PartyKey), OpError> {
    check_ttl(ttl).map_err(|e| OpError::Refused(format!("the link's lifetime {e}")))?;
    add(
        store,
        party,
        Purpose::PortalLink,
        Timestamp(now.0 + ttl),
        now,
    )
    .await
}

/// Opens a link: spends it (a second opening is refused, also one racing
/// this one) and makes a session for its party. The session ends when the
/// link's party key would: [`SESSION_TTL`] from now.
pub async fn open(
    store: &dyn PartyKeyStore,
    presented: &str,
    now: Timestamp,
) -> Result<Result<(Plaintext, PartyKey), LinkRefusal>, OpError> {
    let Some(id) = party_key::id_of(presented) else {
        return Ok(Err(LinkRefusal::Invalid));
    };
    let stored = store.key(id).await?;
    let party = match decide(presented, stored.as_ref(), Purpose::PortalLink, now) {
        Ok(party) => party,
        Err(Refusal::Expired) => return Ok(Err(LinkRefusal::Expired)),
        Err(Refusal::Revoked) => return Ok(Err(LinkRefusal::Used)),
        Err(_) => return Ok(Err(LinkRefusal::Invalid)),
    };
    // Spending is one conditional write: of two openings, one wins.
    if !store.revoke(id, now).await? {
        return Ok(Err(LinkRefusal::Used));
    }
    let session = add(
        store,
        party,
        Purpose::PortalSession,
        Timestamp(now.0 + SESSION_TTL),
        now,
    )
    .await?;
    Ok(Ok(session))
}

/// The party a presented key speaks for, if it is a live key made for
/// `purpose`; a key made for another purpose is refused as unknown.
pub fn decide(
    presented: &str,
    stored: Option<&PartyKey>,
    purpose: Purpose,
    now: Timestamp,
) -> Result<Party, Refusal> {
    let party = party_key::authenticate(presented, stored, now)?;
    match stored {
        Some(k) if k.purpose == purpose => Ok(party),
        _ => Err(Refusal::Unknown),
    }
}

async fn add(
    store: &dyn PartyKeyStore,
    party: Party,
    purpose: Purpose,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<(Plaintext, PartyKey), OpError> {
    let (plain, mut stored) = party_key::create(party, Some(expires_at), now)
        .map_err(|e| OpError::Refused(format!("generating a key: {e}")))?;
    stored.purpose = purpose;
    store.add(&stored).await?;
    Ok((plain, stored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryPartyKeys;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(&format!("2026-12-05T{s}.000Z")).unwrap()
    }

    #[tokio::test]
    async fn a_link_opens_once_before_it_expires_and_only_as_a_link() {
        let store = MemoryPartyKeys::default();
        let partner = Party::partner(1413);
        // GIVEN a link good for an hour
        let (link, stored) = create_link(&store, partner, Duration::hours(1), at("10:00:00"))
            .await
            .unwrap();
        assert_eq!(stored.purpose, Purpose::PortalLink);
        assert_eq!(stored.expires_at, Some(at("11:00:00")));
        // WHEN it is opened THEN a session for the same party, 8 h long
        let (session, s) = open(&store, link.expose(), at("10:10:00"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((s.party, s.purpose), (partner, Purpose::PortalSession));
        assert_eq!(s.expires_at, Some(at("18:10:00")));
        let session_stored = store.key(&s.id).await.unwrap();
        assert_eq!(
            decide(
                session.expose(),
                session_stored.as_ref(),
                Purpose::PortalSession,
                at("18:09:59")
            ),
            Ok(partner)
        );
        // AND a session is no bearer key, a link no session
        assert_eq!(
            decide(
                session.expose(),
                session_stored.as_ref(),
                Purpose::Api,
                at("10:11:00")
            ),
            Err(Refusal::Unknown)
        );
        // AND the link does not open twice
        let again = open(&store, link.expose(), at("10:11:00")).await.unwrap();
        assert_eq!(again.err(), Some(LinkRefusal::Used));
        // AND a session is not a link
        let as_link = open(&store, session.expose(), at("10:11:00"))
            .await
            .unwrap();
        assert_eq!(as_link.err(), Some(LinkRefusal::Invalid));
    }

    #[tokio::test]
    async fn expired_tampered_and_malformed_links_are_refused_with_their_reason() {
        let store = MemoryPartyKeys::default();
        let (link, _) = create_link(
            &store,
            Party::provider(1004),
            Duration::minutes(5),
            at("10:00:00"),
        )
        .await
        .unwrap();
        let key = link.expose();
        let mut tampered = key.to_owned();
        tampered.replace_range(key.len() - 1.., if key.ends_with('A') { "B" } else { "A" });
        for (presented, when, why) in [
            (key, "10:05:00", LinkRefusal::Expired),
            (tampered.as_str(), "10:01:00", LinkRefusal::Invalid),
            ("hhk_nothing", "10:01:00", LinkRefusal::Invalid),
            ("", "10:01:00", LinkRefusal::Invalid),
        ] {
            let got = open(&store, presented, at(when)).await.unwrap();
            assert_eq!(got.err(), Some(why), "{presented} at {when}");
        }
        // The refusals spent nothing: the link still opens in time.
        assert!(open(&store, key, at("10:04:59")).await.unwrap().is_ok());
    }

    #[test]
    fn a_links_lifetime_is_bounded() {
        assert!(check_ttl(Duration::hours(1)).is_ok());
        assert!(check_ttl(Duration::hours(24)).is_ok());
        assert!(
            check_ttl(Duration::zero())
                .unwrap_err()
                .contains("more than 0")
        );
        assert!(
            check_ttl(Duration::hours(25))
                .unwrap_err()
                .contains("24 hours")
        );
    }
}
