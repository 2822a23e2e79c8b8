//! Black lists: statuses a party never sees.
use crate::config::ConfigSet;
use crate::mapping::StatusView;
use crate::party::Party;

/// A status is invisible to a party when its black list names either the
/// provider's key or the key the party sees after mapping; so a partner can
/// hide a provider's intermediate status whether or not it is mapped.
pub fn hides(config: &ConfigSet, party: Party, view: &StatusView<'_>) -> bool {
    config
        .black_list(party)
        .is_some_and(|b| b.keys.contains(view.key) || b.keys.contains(view.provider_key))
}
