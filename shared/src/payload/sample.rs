//! Sample webhooks: every type's documented sample items
//! (`events/catalogue/<type>.json`, the seeds' examples) rendered by the
//! same code as real webhooks, in any version the type has. `send-test`
//! sends them; the catalogue of event types shows them.
use super::{RenderError, Subject, Version};
use crate::case_update::{self, CaseUpdate};
use crate::event::EventType;
use crate::mapping::StatusView;
use crate::record::{
    CaseRecord, CostProposal, FileUpload, Invoice, Message, RecordError, StatusRecord,
};
use serde_json::{Value, json};

/// Why a sample could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("the sample of {0} is not JSON: {1}")]
    NotJson(EventType, serde_json::Error),
    #[error("the sample of {0}: {1}")]
    Record(EventType, RecordError),
    #[error("the sample of {0} changes nothing")]
    NoChange(EventType),
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// The documented sample items of a type: `item`, and the `case` (or
/// `old` case) it belongs to.
pub fn items(event_type: EventType) -> Result<Value, SampleError> {
    let text = match event_type {
        EventType::NewStatus => include_str!("../../../events/catalogue/newStatus.json"),
        EventType::StatusTransition => {
            include_str!("../../../events/catalogue/statusTransition.json")
        }
        EventType::NewCostProposal => {
            include_str!("../../../events/catalogue/newCostProposal.json")
        }
        EventType::NewMessage => include_str!("../../../events/catalogue/newMessage.json"),
        EventType::MessageConfirmed => {
            include_str!("../../../events/catalogue/messageConfirmed.json")
        }
        EventType::NewFile => include_str!("../../../events/catalogue/newFile.json"),
        EventType::CaseUpdated => include_str!("../../../events/catalogue/caseUpdated.json"),
        EventType::Invoice => include_str!("../../../events/catalogue/invoice.json"),
    };
    serde_json::from_str(text).map_err(|e| SampleError::NotJson(event_type, e))
}

/// The sample webhook of `event_type` in `version`; with `real_case`, that
/// case's guid, ids and data stand in for the sample case's.
pub fn body(
    event_type: EventType,
    version: Version,
    real_case: Option<&CaseRecord>,
) -> Result<String, SampleError> {
    let input = items(event_type)?;
    let record = |e| SampleError::Record(event_type, e);
    let sample_case = input
        .get("case")
        .or(input.get("item"))
        .cloned()
        .unwrap_or_default();
    let case = match real_case {
        Some(c) => c.clone(),
        None => CaseRecord::from_json(sample_case).map_err(record)?,
    };
    // Sample items carry the sample case's guid; a real case's replaces it.
    let mut item = input["item"].clone();
    if real_case.is_some() && item.get("guid").is_some() {
        item["guid"] = json!(case.guid);
        if item.get("caseId").is_some() {
            item["caseId"] = json!(case.id);
        }
    }
    let rendered = match event_type {
        EventType::NewStatus | EventType::StatusTransition => {
            let status = StatusRecord::from_json(item).map_err(record)?;
            let view = StatusView {
                provider_key: &status.key,
                key: &status.key,
                name: &status.name,
            };
            let subject = if event_type == EventType::NewStatus {
                Subject::NewStatus {
                    status: &status,
                    view: &view,
                }
            } else {
                Subject::StatusTransition {
                    status: &status,
                    view: &view,
                    prev_key: Some("arrived"),
                    case: &case,
                }
            };
            super::render(&subject, version)?
        }
        EventType::NewCostProposal => {
            let c = CostProposal::from_json(item).map_err(record)?;
            super::render(&Subject::NewCostProposal(&c), version)?
        }
        EventType::NewMessage | EventType::MessageConfirmed => {
            let m = Message::from_json(item).map_err(record)?;
            let subject = if event_type == EventType::NewMessage {
                Subject::NewMessage(&m)
            } else {
                Subject::MessageConfirmed(&m)
            };
            super::render(&subject, version)?
        }
        EventType::NewFile => {
            let u = FileUpload::from_json(item).map_err(record)?;
            super::render(&Subject::NewFile(&u), version)?
        }
        EventType::CaseUpdated => {
            let update = case_update_of(event_type, item, &input, real_case)?;
            super::render(&Subject::CaseUpdated(&update), version)?
        }
        EventType::Invoice => {
            let invoice = Invoice::from_json(item).map_err(record)?;
            super::render(
                &Subject::Invoice {
                    invoice: &invoice,
                    case: &case,
                },
                version,
            )?
        }
    };
    Ok(rendered)
}

/// With a real case: its data sections as they are now; else the sample's
/// change.
fn case_update_of(
    event_type: EventType,
    item: Value,
    input: &Value,
    real_case: Option<&CaseRecord>,
) -> Result<CaseUpdate, SampleError> {
    let record = |e| SampleError::Record(event_type, e);
    Ok(match real_case {
        Some(c) => CaseUpdate {
            guid: c.guid.clone(),
            sections: case_update::SECTIONS
                .iter()
                .filter_map(|s| c.data.get(*s).map(|v| (*s, v.clone())))
                .collect(),
        },
        None => {
            let old = CaseRecord::from_json(input["old"].clone()).map_err(record)?;
            let new = CaseRecord::from_json(item).map_err(record)?;
            case_update::diff(&old, &new).ok_or(SampleError::NoChange(event_type))?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every type renders its sample in each of its versions, and the v3
    /// samples are valid JSON objects.
    #[test]
    fn every_sample_renders_in_every_version_of_its_type() {
        for t in EventType::ALL {
            for v in Version::of(t) {
                let body = body(t, *v, None).unwrap_or_else(|e| panic!("{t} {v}: {e}"));
                let json: Value = serde_json::from_str(&body).unwrap();
                assert!(json.is_object(), "{t} {v}: {body}");
            }
        }
    }
}
