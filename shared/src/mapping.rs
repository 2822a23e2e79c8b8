//! Status mapping: how a party sees a provider's status.
//!
//! Partners see their own keys after mapping; an unmapped key passes as is.
//! Providers see their own statuses unchanged.
use crate::ids::{PartnerId, ProviderId};
use crate::party::{Party, PartyKind};
use crate::record::{CaseRecord, StatusRecord};

/// A status as one party sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView<'a> {
    /// The provider's own key (what black lists may also name).
    pub provider_key: &'a str,
    pub key: &'a str,
    pub name: &'a str,
}

/// The one thing mapping needs of the config: a partner's key (and name,
/// if it has one) for a provider's key.
pub trait KeyMapping {
    fn map_key(
        &self,
        partner_id: PartnerId,
        provider_id: ProviderId,
        provider_key: &str,
    ) -> Option<(&str, Option<&str>)>;
}

pub fn view<'a>(
    config: &'a impl KeyMapping,
    party: Party,
    case: &CaseRecord,
    status: &'a StatusRecord,
) -> StatusView<'a> {
    let provider_key = status.key.as_str();
    let unchanged = StatusView {
        provider_key,
        key: provider_key,
        name: &status.name,
    };
    if party.kind != PartyKind::Partner {
        return unchanged;
    }
    match config.map_key(PartnerId(party.id), case.service_provider_id, provider_key) {
        Some((key, name)) => StatusView {
            provider_key,
            key,
            name: name.unwrap_or(&status.name),
        },
        None => unchanged,
    }
}
