//! One stream record → the deliveries it makes: which table, which change,
//! the case it belongs to, the subscriptions that want it, the bodies.
//! What can never be routed is `Park`, what may yet be is `Retry`.
use super::Router;
use crate::classify::{Classified, EventName, Images, Malformed, classify};
use crate::config::ConfigSet;
use crate::delivery::{Delivery, delivery_id};
use crate::outcome::Setback;
use crate::ports::CaseStoreError;
use crate::record::{CaseRecord, StatusRecord};
use crate::routing::{self, Change};
use crate::tables::table_from_arn;
use crate::timestamp::Timestamp;
use aws_lambda_events::event::dynamodb::EventRecord;
use serde_json::Value;

impl Router {
    /// `Ok(None)`: nothing to route for this record (by design, not an error).
    pub(super) async fn route_record(
        &self,
        config: &ConfigSet,
        record: &EventRecord,
    ) -> Result<Option<Routed>, Setback> {
        let table = record_table(record).ok_or_else(|| {
            let arn = record.event_source_arn.as_deref().unwrap_or_default();
            Setback::Park(format!(
                "record names no table: eventSourceARN `{}` (and no tableName)",
                crate::delivery::clip(arn, 200)
            ))
        })?;
        let kind = self.tables.case_table(table).ok_or_else(|| {
            Setback::Park(format!(
                "table `{table}` is not a case table of this deployment"
            ))
        })?;
        let event = EventName::parse(&record.event_name)?;
        let new = image_json(&record.change.new_image, "NewImage")?;
        let old = image_json(&record.change.old_image, "OldImage")?;
        let images = Images {
            new: new.as_ref(),
            old: old.as_ref(),
        };
        let classified = classify(kind, event, images)?;
        let at = Origin {
            table,
            source: format!("{table}/{}", source_id(record)),
        };
        let case = match (&classified, classified.case_to_fetch()) {
            (Classified::Ignore, _) => return Ok(None),
            (Classified::CaseUpdated { case, .. }, _) => {
                if case.changed_by.is_none() {
                    tracing::warn!(case_guid = %case.guid, "case updated without `changedBy`: both parties are told");
                }
                case.clone()
            }
            (_, Some((guid, what))) => {
                let case = self.case_of(guid, &what).await?;
                classified.check_case(&case)?;
                case
            }
            (_, None) => return Ok(None),
        };
        let earlier = match &classified {
            Classified::StatusAdded(status) => {
                if !routing::wants_statuses(config, &case) {
                    return Ok(Some(Routed::default()));
                }
                self.earlier_statuses(status).await?
            }
            _ => Vec::new(),
        };
        let Some(change) = Change::of(&classified, &earlier) else {
            return Ok(None);
        };
        self.plan(config, &case, &change, &at).map(Some)
    }

    /// The case's statuses before `status`, newest first. An unreadable
    /// earlier status was parked on its own; skipping it keeps every later
    /// status of the case flowing.
    async fn earlier_statuses(&self, status: &StatusRecord) -> Result<Vec<StatusRecord>, Setback> {
        let earlier = self
            .cases
            .previous_statuses(status.case_id, status.id)
            .await
            .map_err(store_failure)?;
        for why in &earlier.unreadable {
            tracing::warn!(status_id = %status.id, reason = %why, "skipping an unreadable earlier status");
            crate::meter::unreadable_earlier_status();
        }
        Ok(earlier.readable)
    }

    /// The case a record belongs to. Not there yet is worth retrying: the
    /// case item may still be on its way, and after the mapping's retry
    /// limit the batch goes to the failure destination.
    async fn case_of(&self, guid: &str, what: &str) -> Result<CaseRecord, Setback> {
        match self.cases.case(guid).await {
            Ok(Some(c)) => Ok(c),
            Ok(None) => Err(Setback::Retry(format!("case `{guid}` of {what} not found"))),
            Err(e) => Err(store_failure(e)),
        }
    }

    /// Route → filter → deliveries.
    fn plan(
        &self,
        config: &ConfigSet,
        case: &CaseRecord,
        change: &Change<'_>,
        at: &Origin<'_>,
    ) -> Result<Routed, Setback> {
        let mut planned = routing::route(config, case, change)
            .map_err(|e| Setback::Park(format!("cannot render a body from {}: {e}", at.table)))?;
        let filtered = crate::body_filter::keep_passing(&mut planned);
        let now = Timestamp::now();
        let deliveries = planned
            .into_iter()
            .map(|p| {
                Delivery::new(
                    delivery_id(&at.source, &p.subscription.id, p.event_type),
                    p.subscription,
                    p.event_type,
                    p.destination,
                    &case.guid,
                    p.body,
                    at.source.clone(),
                    now,
                )
            })
            .collect();
        Ok(Routed {
            deliveries,
            filtered,
        })
    }
}

/// What a record makes: its deliveries, and how many webhooks its
/// subscriptions' filters held back.
#[derive(Debug, Default)]
pub(super) struct Routed {
    pub deliveries: Vec<Delivery>,
    pub filtered: usize,
}

/// Where a record came from: its table and `<table>/<stream event id>`.
struct Origin<'a> {
    table: &'a str,
    source: String,
}

impl From<Malformed> for Setback {
    fn from(e: Malformed) -> Self {
        Setback::Park(e.0)
    }
}

fn store_failure(e: CaseStoreError) -> Setback {
    match e {
        CaseStoreError::Malformed(m) => Setback::Park(m),
        CaseStoreError::Io(e) => Setback::Retry(e.to_string()),
    }
}

pub(super) fn record_table(record: &EventRecord) -> Option<&str> {
    record
        .event_source_arn
        .as_deref()
        .and_then(table_from_arn)
        .or(record.table_name.as_deref())
}

/// The stream's event id, or the sequence number where a source omits it.
pub(super) fn source_id(record: &EventRecord) -> &str {
    if record.event_id.is_empty() {
        record.change.sequence_number.as_deref().unwrap_or("")
    } else {
        &record.event_id
    }
}

/// An image as JSON; `None` when the record has none.
fn image_json(image: &serde_dynamo::Item, which: &str) -> Result<Option<Value>, Setback> {
    if image.is_empty() {
        return Ok(None);
    }
    serde_dynamo::from_item(image.clone())
        .map(Some)
        .map_err(|e| Setback::Park(format!("{which} is not a valid item: {e}")))
}

pub(super) fn keys_json(record: &EventRecord) -> Value {
    serde_dynamo::from_item::<_, Value>(record.change.keys.clone())
        .unwrap_or_else(|e| Value::String(format!("<unreadable keys: {e}>")))
}
