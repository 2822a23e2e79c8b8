//! The catalogue of event types: each type, the versions it exists in,
//! each version's JSON Schema ([`super::schema`]) and sample body
//! ([`super::sample`]), all derived from the code that renders webhooks.
//! `hubhooks event-types` prints it; the management API will serve it.
use super::sample::{self, SampleError};
use super::{Version, schema};
use crate::event::EventType;
use serde::Serialize;
use serde_json::Value;

/// One event type and its versions.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventTypeEntry {
    pub name: &'static str,
    pub versions: Vec<VersionEntry>,
}

/// One version of a type's body.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionEntry {
    pub version: &'static str,
    pub deprecated: bool,
    pub schema: schemars::Schema,
    pub sample: Value,
}

/// The entry of `event_type`.
pub fn entry(event_type: EventType) -> Result<EventTypeEntry, SampleError> {
    let versions = Version::of(event_type)
        .iter()
        .rev()
        .filter_map(|v| schema::of(event_type, *v).map(|s| (*v, s)))
        .map(|(version, schema)| {
            let body = sample::body(event_type, version, None)?;
            let sample =
                serde_json::from_str(&body).map_err(|e| SampleError::NotJson(event_type, e))?;
            Ok(VersionEntry {
                version: version.as_str(),
                deprecated: version.is_deprecated(),
                schema,
                sample,
            })
        })
        .collect::<Result<_, SampleError>>()?;
    Ok(EventTypeEntry {
        name: event_type.as_str(),
        versions,
    })
}

/// Every type, in the contract's order.
pub fn all() -> Result<Vec<EventTypeEntry>, SampleError> {
    EventType::ALL.into_iter().map(entry).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type, every version it has, newest first; only the newest is
    /// current.
    #[test]
    fn the_catalogue_lists_every_type_and_version_newest_first() {
        let all = all().unwrap();
        assert_eq!(all.len(), 8);
        let status = &all[0];
        assert_eq!(status.name, "newStatus");
        let versions: Vec<(&str, bool)> = status
            .versions
            .iter()
            .map(|v| (v.version, v.deprecated))
            .collect();
        assert_eq!(versions, [("v3", false), ("v2", true), ("v1", true)]);
        let count: usize = all.iter().map(|e| e.versions.len()).sum();
        assert_eq!(count, 17);
    }
}
