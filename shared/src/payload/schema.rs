//! The JSON Schema of every webhook body, per type and version, derived
//! from the very types [`super::render`] serializes: the catalogue the
//! management API publishes and the OpenAPI `webhooks` section are made
//! from these, never from a hand-kept copy. `tests/it/golden.rs` validates
//! every golden body against its schema.
use super::{Version, v1, v2, v3};
use crate::case_update::CaseUpdate;
use crate::event::EventType;
use schemars::{Schema, schema_for};

/// The schema of `event_type`'s body in `version`; none where the type has
/// no such version.
pub fn of(event_type: EventType, version: Version) -> Option<Schema> {
    use EventType::*;
    use Version::*;
    Some(match (event_type, version) {
        (NewStatus, V3) => schema_for!(v3::NewStatus),
        (NewStatus, V2) => schema_for!(v2::NewStatus),
        (NewStatus, V1) => schema_for!(v1::StatusUpdate),
        (StatusTransition, V3) => schema_for!(v3::StatusTransition),
        (NewCostProposal, V3) => schema_for!(v3::CostProposal),
        (NewCostProposal, V2) => schema_for!(v2::CostProposal),
        (NewCostProposal, V1) => schema_for!(v1::CostProposal),
        (NewMessage | MessageConfirmed, V3) => schema_for!(v3::Message),
        (NewMessage, V2) => schema_for!(v2::Message),
        (NewMessage, V1) => schema_for!(v1::Message),
        (NewFile, V3 | V2) => schema_for!(v3::Files),
        (NewFile, V1) => schema_for!(v1::Files),
        (CaseUpdated, V3 | V2) => schema_for!(CaseUpdate),
        (Invoice, V3) => schema_for!(v3::Invoice),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exactly the versions a type exists in have a schema.
    #[test]
    fn every_type_has_a_schema_in_each_of_its_versions_and_no_other() {
        for t in EventType::ALL {
            for v in [Version::V1, Version::V2, Version::V3] {
                assert_eq!(of(t, v).is_some(), Version::of(t).contains(&v), "{t} {v}");
            }
        }
    }
}
