//! What a change to a case table means (docs/data-contract.md, "Which
//! change fires which webhook"): item images in, one of "nothing to send",
//! "this can never be read" or the change with its records out. Pure: no
//! stores, no AWS types; the router fetches the case and the earlier
//! statuses a change needs and checks them with [`Classified::check_case`].
use crate::case_update::{self, CaseUpdate};
use crate::record::{CaseRecord, CostProposal, FileUpload, Invoice, Message, StatusRecord};
use crate::tables::CaseTable;
use serde_json::Value;
use std::fmt;

/// A stream record's `eventName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventName {
    Insert,
    Modify,
    Remove,
}

impl EventName {
    pub fn parse(s: &str) -> Result<EventName, Malformed> {
        match s {
            "INSERT" => Ok(EventName::Insert),
            "MODIFY" => Ok(EventName::Modify),
            "REMOVE" => Ok(EventName::Remove),
            other => Err(Malformed(format!("unknown eventName `{other}`"))),
        }
    }
}

/// A record that can never be routed: why (names the attribute).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Malformed(pub String);

/// A change worth a webhook, with what it carries.
#[derive(Debug, Clone, PartialEq)]
pub enum Classified {
    /// Nothing to send, by design (a removal, an edit the contract has no
    /// webhook for, a case edit outside the data sections).
    Ignore,
    /// A status was added; its case and earlier statuses are needed.
    StatusAdded(StatusRecord),
    /// The case's data changed (the new image is the case itself).
    CaseUpdated {
        case: CaseRecord,
        update: CaseUpdate,
    },
    CostProposalAdded(CostProposal),
    MessageAdded(Message),
    /// `confirmedAt` just became set.
    MessageConfirmed(Message),
    FilesUploaded(FileUpload),
    /// An invoice was written or changed.
    InvoiceSaved(Invoice),
}

/// A record's images as JSON: `None` where the record has none.
#[derive(Debug, Clone, Copy)]
pub struct Images<'a> {
    pub new: Option<&'a Value>,
    pub old: Option<&'a Value>,
}

impl<'a> Images<'a> {
    fn new_image(&self) -> Result<&'a Value, Malformed> {
        self.new.ok_or_else(|| missing("NewImage"))
    }

    fn old_image(&self) -> Result<&'a Value, Malformed> {
        self.old.ok_or_else(|| missing("OldImage"))
    }
}

fn missing(which: &str) -> Malformed {
    Malformed(format!(
        "{which} is missing (the stream must be NEW_AND_OLD_IMAGES)"
    ))
}

fn read<T, E: fmt::Display>(
    value: &Value,
    from_json: impl FnOnce(Value) -> Result<T, E>,
) -> Result<T, Malformed> {
    from_json(value.clone()).map_err(|e| Malformed(e.to_string()))
}

/// Which webhook, if any, a change to `table` fires.
pub fn classify(
    table: CaseTable,
    event: EventName,
    images: Images<'_>,
) -> Result<Classified, Malformed> {
    use EventName::{Insert, Modify, Remove};
    Ok(match (table, event) {
        // Removals fire nothing; neither do edits the contract has no
        // webhook for (a status edited, a cost proposal answered).
        (_, Remove) => Classified::Ignore,
        (CaseTable::CaseStatuses, Insert) => {
            Classified::StatusAdded(read(images.new_image()?, StatusRecord::from_json)?)
        }
        (CaseTable::Cases, Modify) => {
            let case = read(images.new_image()?, CaseRecord::from_json)?;
            let before = read(images.old_image()?, CaseRecord::from_json)?;
            match case_update::diff(&before, &case) {
                Some(update) => Classified::CaseUpdated { case, update },
                None => Classified::Ignore,
            }
        }
        (CaseTable::CostProposals, Insert) => {
            Classified::CostProposalAdded(read(images.new_image()?, CostProposal::from_json)?)
        }
        (CaseTable::Messages, Insert) => {
            Classified::MessageAdded(read(images.new_image()?, Message::from_json)?)
        }
        (CaseTable::Messages, Modify) => {
            let message = read(images.new_image()?, Message::from_json)?;
            // Only the moment `confirmedAt` becomes set is a confirmation.
            let was_confirmed = images
                .old_image()?
                .get("confirmedAt")
                .is_some_and(|v| !v.is_null());
            if was_confirmed || message.confirmed_at.is_none() {
                Classified::Ignore
            } else {
                Classified::MessageConfirmed(message)
            }
        }
        (CaseTable::Files, Insert) => {
            Classified::FilesUploaded(read(images.new_image()?, FileUpload::from_json)?)
        }
        (CaseTable::Invoices, Insert) => {
            Classified::InvoiceSaved(read(images.new_image()?, Invoice::from_json)?)
        }
        (CaseTable::Invoices, Modify) => {
            let invoice = read(images.new_image()?, Invoice::from_json)?;
            // Re-saved unchanged (or from an unreadable old image: sent).
            let before = images.old.and_then(|v| Invoice::from_json(v.clone()).ok());
            if before.as_ref() == Some(&invoice) {
                Classified::Ignore
            } else {
                Classified::InvoiceSaved(invoice)
            }
        }
        _ => Classified::Ignore,
    })
}

impl Classified {
    /// The guid of the case the change belongs to, and how to name the item
    /// in messages (`status 5005`), when the case must be fetched.
    pub fn case_to_fetch(&self) -> Option<(&str, String)> {
        match self {
            Classified::Ignore | Classified::CaseUpdated { .. } => None,
            Classified::StatusAdded(s) => Some((&s.guid, format!("status {}", s.id))),
            Classified::CostProposalAdded(p) => Some((&p.guid, format!("cost proposal {}", p.id))),
            Classified::MessageAdded(m) | Classified::MessageConfirmed(m) => {
                Some((&m.guid, format!("message {}", m.id)))
            }
            Classified::FilesUploaded(u) => Some((&u.guid, format!("upload {}", u.upload_id))),
            Classified::InvoiceSaved(i) => Some((&i.guid, format!("invoice {}", i.id))),
        }
    }

    /// Whether the item agrees with its case: a status names the case's id,
    /// a cost proposal the case's provider.
    pub fn check_case(&self, case: &CaseRecord) -> Result<(), Malformed> {
        match self {
            Classified::StatusAdded(s) if s.case_id != case.id => Err(Malformed(format!(
                "status {} says caseId {} but case `{}` has id {}",
                s.id, s.case_id, case.guid, case.id
            ))),
            Classified::CostProposalAdded(p)
                if p.service_provider_id != case.service_provider_id =>
            {
                Err(Malformed(format!(
                    "cost proposal {} says serviceProviderId {} but case `{}` has {}",
                    p.id, p.service_provider_id, case.guid, case.service_provider_id
                )))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message(confirmed_at: Value) -> Value {
        json!({"guid": "g", "id": 3, "externalId": null, "content": "hi", "userName": "J",
               "userEmail": "j@example.com", "type": "serviceComment", "senderType": "partner",
               "parentMessageId": null, "senderAccountId": 1, "createdAt": "2024-03-01T10:05:00.000Z",
               "updatedAt": "2024-03-01T10:05:00.000Z", "declaredAt": null, "confirmedAt": confirmed_at})
    }

    fn classify_message(old: Value, new: Value) -> Classified {
        let images = Images {
            new: Some(&new),
            old: Some(&old),
        };
        classify(CaseTable::Messages, EventName::Modify, images).unwrap()
    }

    #[test]
    fn a_confirmation_is_the_moment_confirmed_at_becomes_set() {
        let at = json!("2024-03-01T12:00:00.000Z");
        assert!(matches!(
            classify_message(message(Value::Null), message(at.clone())),
            Classified::MessageConfirmed(_)
        ));
        // Set before: an edit, not a confirmation.
        assert_eq!(
            classify_message(message(at.clone()), message(at)),
            Classified::Ignore
        );
        assert_eq!(
            classify_message(message(Value::Null), message(Value::Null)),
            Classified::Ignore
        );
    }

    #[test]
    fn removals_and_edits_without_a_webhook_fire_nothing() {
        let none = Images {
            new: None,
            old: None,
        };
        for table in CaseTable::ALL {
            assert_eq!(
                classify(table, EventName::Remove, none),
                Ok(Classified::Ignore)
            );
        }
        assert_eq!(
            classify(CaseTable::CaseStatuses, EventName::Modify, none),
            Ok(Classified::Ignore)
        );
        assert_eq!(
            classify(CaseTable::CostProposals, EventName::Modify, none),
            Ok(Classified::Ignore)
        );
    }

    #[test]
    fn a_missing_image_and_an_unknown_event_name_say_so() {
        let none = Images {
            new: None,
            old: None,
        };
        assert_eq!(
            classify(CaseTable::CaseStatuses, EventName::Insert, none),
            Err(Malformed(
                "NewImage is missing (the stream must be NEW_AND_OLD_IMAGES)".into()
            ))
        );
        assert_eq!(
            EventName::parse("UPSERT"),
            Err(Malformed("unknown eventName `UPSERT`".into()))
        );
    }

    #[test]
    fn a_status_must_name_its_cases_id() {
        let status = json!({"id": 5, "caseId": 2, "guid": "g", "name": "n", "key": "k",
                            "createdAt": "2019-01-22T11:29:38.258Z"});
        let images = Images {
            new: Some(&status),
            old: None,
        };
        let classified = classify(CaseTable::CaseStatuses, EventName::Insert, images).unwrap();
        let case = CaseRecord::from_json(
            json!({"guid": "g", "id": 1, "partnerId": 1, "serviceProviderId": 2}),
        )
        .unwrap();
        assert_eq!(
            classified.case_to_fetch(),
            Some(("g", "status 5".to_owned()))
        );
        assert_eq!(
            classified.check_case(&case),
            Err(Malformed(
                "status 5 says caseId 2 but case `g` has id 1".into()
            ))
        );
    }
}
