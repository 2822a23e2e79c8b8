//! The router's filter stage: after rendering, each planned webhook whose
//! subscription has a `filter` for its type is kept only if its body
//! passes. Bodies are parsed once each, and only for filtered
//! subscriptions: a subscription without a filter costs nothing here.
use crate::routing::Planned;
use serde_json::Value;
use std::collections::HashMap;

/// Keeps the webhooks that pass their filter; says how many it dropped.
pub fn keep_passing(planned: &mut Vec<Planned<'_>>) -> usize {
    let mut parsed: HashMap<&str, Option<Value>> = HashMap::new();
    let keep: Vec<bool> = planned
        .iter()
        .map(|p| {
            let Some(filter) = p.subscription.filter_for(p.event_type) else {
                return true;
            };
            let body = parsed
                .entry(p.body.as_str())
                .or_insert_with(|| serde_json::from_str(&p.body).ok());
            match body {
                Some(body) => filter.matches(body),
                // We rendered it, so it parses; if it ever did not, sending
                // it loses nothing, dropping it would.
                None => {
                    tracing::error!(subscription_id = %p.subscription.id, event_type = %p.event_type, "a rendered body did not parse for its filter; sending it unfiltered");
                    true
                }
            }
        })
        .collect();
    let before = planned.len();
    let mut keep = keep.into_iter();
    planned.retain(|_| keep.next().unwrap_or(true));
    before - planned.len()
}
