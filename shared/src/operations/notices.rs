//! A party's notice destination: read, write, delete, test; and the one
//! way a notice reaches it (signed like the party's webhooks, in a few
//! tries), which the sender and a test share.
use super::{OpError, Scope, subscriptions::owner};
use crate::attempt::{self, Secrets};
use crate::backoff::Backoff;
use crate::clock::Clock;
use crate::config::{ConfigItem, NoticeDestination, RawConfigItem};
use crate::notice::Notice;
use crate::party::Party;
use crate::ports::{
    ConfigSource, ConfigStore, DeliveryError, Expect, Outgoing, Receipt, SecretStore, StoredItem,
    Transport, Written,
};

const WHAT: &str = "notice destination";

/// Delivers `notice` to `to`, signed with `secrets`, in at most
/// `tries.tries` tries; a refusal (the SSRF guard, a bad header) is not
/// tried again: it will not change.
pub async fn deliver(
    transport: &dyn Transport,
    clock: &dyn Clock,
    to: &NoticeDestination,
    secrets: &Secrets,
    notice: &Notice,
    tries: Backoff,
) -> Result<Receipt, DeliveryError> {
    let kind = notice.notice_type.as_str();
    let body = notice.to_json();
    let mut try_number = 1;
    loop {
        let timestamp = clock.now().0.timestamp();
        let headers = attempt::signed_headers(
            &notice.id, kind, try_number, timestamp, &body, secrets, false,
        )
        .map_err(|e| DeliveryError::Refused(e.to_string()))?;
        let outgoing = Outgoing {
            id: &notice.id,
            kind,
            subscription_id: &to.id,
            destination: &to.destination,
            body: &body,
            headers,
            broker_uri: None,
            client_tls: None,
        };
        match transport.deliver(&outgoing).await {
            Ok(receipt) => return Ok(receipt),
            Err(e) if try_number >= tries.tries || matches!(e, DeliveryError::Refused(_)) => {
                return Err(e);
            }
            Err(_) => tokio::time::sleep(tries.pause(try_number)).await,
        }
        try_number += 1;
    }
}

/// The id of `party`'s notice destination, if it has one (the first by id
/// should an operator have written two; the config loader refuses the
/// second).
pub async fn find(source: &dyn ConfigSource, party: Party) -> Result<Option<String>, OpError> {
    let mut ids: Vec<String> = source
        .load()
        .await?
        .into_iter()
        .filter(|raw: &RawConfigItem| {
            raw.value["kind"].as_str() == Some("noticeDestination")
                && owner(&raw.value) == Some(party)
        })
        .map(|raw| raw.id)
        .collect();
    ids.sort();
    Ok(ids.into_iter().next())
}

/// The id a party's notice destination gets when the API makes one.
pub fn id_for(party: Party) -> String {
    format!("notices_{}_{}", party.kind, party.id)
}

/// `party`'s notice destination as stored, with its entity tag.
pub async fn get(
    source: &dyn ConfigSource,
    store: &dyn ConfigStore,
    party: Party,
) -> Result<(StoredItem, NoticeDestination), OpError> {
    let not_found = || OpError::NotFound {
        what: WHAT,
        id: party.to_string(),
    };
    let id = find(source, party).await?.ok_or_else(not_found)?;
    read(store, party, &id).await
}

/// The notice destination stored under `id`, if it is `party`'s.
pub async fn read(
    store: &dyn ConfigStore,
    party: Party,
    id: &str,
) -> Result<(StoredItem, NoticeDestination), OpError> {
    let not_found = || OpError::NotFound {
        what: WHAT,
        id: party.to_string(),
    };
    let stored = store.item(id).await?.ok_or_else(not_found)?;
    let parsed = parse(id, &stored)?;
    if parsed.party != party {
        return Err(not_found());
    }
    Ok((stored, parsed))
}

fn parse(id: &str, stored: &StoredItem) -> Result<NoticeDestination, OpError> {
    match ConfigItem::parse(&RawConfigItem {
        id: id.to_owned(),
        value: stored.value.clone(),
    })? {
        ConfigItem::NoticeDestination(n) => Ok(n),
        _ => Err(OpError::NotFound {
            what: WHAT,
            id: id.to_owned(),
        }),
    }
}

/// Writes `destination` (validated first) if what is stored is what
/// `expect` says; the new entity tag.
pub async fn write(
    store: &dyn ConfigStore,
    scope: Scope,
    destination: NoticeDestination,
    expect: Expect,
) -> Result<String, OpError> {
    let id = destination.id.clone();
    if !scope.reaches(Some(destination.party)) {
        return Err(OpError::NotFound { what: WHAT, id });
    }
    let item = ConfigItem::NoticeDestination(destination);
    item.validate()?;
    match store.write(&item, expect).await? {
        Written::Done(etag) => Ok(etag.unwrap_or_default()),
        Written::Conflict => Err(OpError::Conflict(id)),
    }
}

/// Deletes `destination` (as read with [`get`]), if what is stored is
/// what `expect` says.
pub async fn delete(
    store: &dyn ConfigStore,
    destination: &NoticeDestination,
    expect: Expect,
) -> Result<(), OpError> {
    match store.delete(&destination.id, expect).await? {
        Written::Done(_) => Ok(()),
        Written::Conflict => Err(OpError::Conflict(destination.id.clone())),
    }
}

/// What a test notice met.
#[derive(Debug)]
pub struct Tested {
    pub notice: Notice,
    pub result: Result<Receipt, DeliveryError>,
}

/// Sends a `notice.test` to `party`'s notice destination once, as the
/// sender would send a notice (its secrets, signature and egress rules).
pub async fn test(
    source: &dyn ConfigSource,
    store: &dyn ConfigStore,
    secrets: &dyn SecretStore,
    transport: &dyn Transport,
    clock: &dyn Clock,
    party: Party,
) -> Result<Tested, OpError> {
    let (_, to) = get(source, store, party).await?;
    let values = crate::auth_secrets::read(secrets, to.auth.as_ref())
        .await
        .map_err(OpError::Refused)?;
    let notice = Notice::test(party, clock.now());
    let once = Backoff {
        tries: 1,
        first: std::time::Duration::ZERO,
    };
    let result = deliver(transport, clock, &to, &values, &notice, once).await;
    Ok(Tested { notice, result })
}
