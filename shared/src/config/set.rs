//! All valid config items, indexed for the router.
use super::{
    BlackList, ConfigError, ConfigItem, InvoiceSettings, MappedStatus, NoticeDestination,
    RawConfigItem, StatusMapping, Subscription,
};
use crate::ids::{PartnerId, ProviderId};
use crate::party::Party;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Default)]
pub struct ConfigSet {
    subscriptions: HashMap<Party, Vec<Subscription>>,
    /// (partner, provider or None for "any provider") → provider key → mapped.
    mappings: HashMap<(PartnerId, Option<ProviderId>), BTreeMap<String, MappedStatus>>,
    black_lists: HashMap<Party, BlackList>,
    /// Provider id → its invoice statuses.
    invoice_settings: HashMap<ProviderId, InvoiceSettings>,
    notice_destinations: HashMap<Party, NoticeDestination>,
    /// Items that were refused; the loader logs them, routing ignores them.
    pub errors: Vec<ConfigError>,
}

impl crate::mapping::KeyMapping for ConfigSet {
    fn map_key(
        &self,
        partner_id: PartnerId,
        provider_id: ProviderId,
        provider_key: &str,
    ) -> Option<(&str, Option<&str>)> {
        self.mapped_status(partner_id, provider_id, provider_key)
            .map(|m| (m.key.as_str(), m.name.as_deref()))
    }
}

impl ConfigSet {
    /// Builds the set from raw items. Invalid items land in `errors`; a
    /// conflicting duplicate (same mapping key or black list for a party
    /// twice) is refused in favour of the item with the smaller id, so the
    /// outcome does not depend on scan order.
    pub fn from_raw(mut raw: Vec<RawConfigItem>) -> ConfigSet {
        raw.sort_by(|a, b| a.id.cmp(&b.id));
        let mut set = ConfigSet::default();
        for r in &raw {
            match ConfigItem::parse(r) {
                Ok(item) => set.insert(item),
                Err(e) => set.errors.push(e),
            }
        }
        for subs in set.subscriptions.values_mut() {
            subs.sort_by(|a, b| a.id.cmp(&b.id));
        }
        set
    }

    pub fn from_items(items: impl IntoIterator<Item = ConfigItem>) -> ConfigSet {
        let mut set = ConfigSet::default();
        for item in items {
            set.insert(item);
        }
        set
    }

    fn insert(&mut self, item: ConfigItem) {
        match item {
            // `allCurrent` means "the types of the day it was written"; read
            // unexpanded, that day is unknown, so the item is refused rather
            // than silently widened.
            ConfigItem::Subscription(s) if !s.is_expanded() => {
                self.errors.push(ConfigError::new(
                    &s.id,
                    "eventTypes",
                    "`allCurrent` is expanded to today's types when written: write the item with `hubhooks config put`, or list the types",
                ))
            }
            ConfigItem::Subscription(s) => self.subscriptions.entry(s.party).or_default().push(s),
            ConfigItem::InvoiceSettings(i) => {
                if let Some(existing) = self.invoice_settings.get(&i.provider_id) {
                    self.errors.push(ConfigError::new(
                        &i.id,
                        "providerId",
                        format!(
                            "provider {} already has invoice settings `{}`",
                            i.provider_id, existing.id
                        ),
                    ));
                } else {
                    self.invoice_settings.insert(i.provider_id, i);
                }
            }
            ConfigItem::StatusMapping(m) => self.insert_mapping(m),
            ConfigItem::NoticeDestination(n) => {
                if let Some(existing) = self.notice_destinations.get(&n.party) {
                    self.errors.push(ConfigError::new(
                        &n.id,
                        "party",
                        format!(
                            "{} already has notice destination `{}`",
                            n.party, existing.id
                        ),
                    ));
                } else {
                    self.notice_destinations.insert(n.party, n);
                }
            }
            ConfigItem::BlackList(b) => {
                if let Some(existing) = self.black_lists.get(&b.party) {
                    self.errors.push(ConfigError::new(
                        &b.id,
                        "party",
                        format!("{} already has black list `{}`", b.party, existing.id),
                    ));
                } else {
                    self.black_lists.insert(b.party, b);
                }
            }
        }
    }

    fn insert_mapping(&mut self, m: StatusMapping) {
        let table = self
            .mappings
            .entry((m.partner_id, m.provider_id))
            .or_default();
        for (from, to) in m.statuses {
            match table.entry(from) {
                Entry::Occupied(e) => self.errors.push(ConfigError::new(
                    &m.id,
                    format!("statuses.{}", e.key()),
                    "is already mapped by another item for the same partner and provider",
                )),
                Entry::Vacant(e) => {
                    e.insert(to);
                }
            }
        }
    }

    pub fn subscriptions_for(&self, party: Party) -> &[Subscription] {
        self.subscriptions
            .get(&party)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.subscriptions.values().flatten()
    }

    /// The partner's mapping of a provider key: provider-specific first,
    /// then the partner's mapping for any provider.
    pub fn mapped_status(
        &self,
        partner_id: PartnerId,
        provider_id: ProviderId,
        provider_key: &str,
    ) -> Option<&MappedStatus> {
        self.mappings
            .get(&(partner_id, Some(provider_id)))
            .and_then(|t| t.get(provider_key))
            .or_else(|| {
                self.mappings
                    .get(&(partner_id, None))
                    .and_then(|t| t.get(provider_key))
            })
    }

    /// Where the party's operators hear about its subscriptions.
    pub fn notice_destination(&self, party: Party) -> Option<&NoticeDestination> {
        self.notice_destinations.get(&party)
    }

    pub fn black_list(&self, party: Party) -> Option<&BlackList> {
        self.black_lists.get(&party)
    }

    /// Whether the provider's settings flag `status` "send to client"; with
    /// no settings, no invoice is sent.
    pub fn sends_invoice(&self, provider_id: ProviderId, status: &str) -> bool {
        self.invoice_settings
            .get(&provider_id)
            .is_some_and(|s| s.sends(status))
    }
}
