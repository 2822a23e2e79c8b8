//! Stream records: the router over in-memory ports, fed the `events/`
//! samples with attributes replaced by any DynamoDB value. Whatever the
//! record, the batch never fails and nothing panics: it is routed, ignored
//! by design, or dead-lettered with a reason that names what was wrong.
use crate::strategies::{Bend, attribute_value, bend, deeply_nested, text};
use aws_lambda_events::event::dynamodb::Event;
use hubhooks::backoff::Backoff;
use hubhooks::config_cache::ConfigCache;
use hubhooks::lambda::router::{EnqueuedIds, Router};
use hubhooks::memory::{MemoryCases, MemoryConfig, MemoryDeadLetters, MemoryPayloads, MemoryQueue};
use hubhooks::tables::TableNames;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const SAMPLES: [&str; 7] = [
    "status-insert",
    "case-modify",
    "cost-proposal-insert",
    "message-insert",
    "message-confirmed",
    "file-insert",
    "invoice-insert",
];

/// The sample's one record, as the Lambda event's JSON.
fn sample(name: &str) -> Value {
    let path = hubhooks_tests::workspace_root().join(format!("events/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let event: Value = serde_json::from_str(&text).unwrap();
    event["Records"][0].clone()
}

/// A router whose config subscribes both parties of the samples' case to
/// every type, over memory ports.
fn router() -> (Router, Arc<MemoryDeadLetters>, Arc<MemoryQueue>) {
    let all = hubhooks::event::EventType::ALL.map(|t| t.as_str());
    let sub = |id: &str, kind: &str, party: i64| {
        json!({"id": id, "kind": "subscription", "party": {"type": kind, "id": party},
               "eventTypes": all, "destination": {"method": "POST", "url": "https://example.com/"}})
    };
    let cases = MemoryCases::default();
    cases.put_case(
        json!({"guid": "68ea1505-a44f-4434-be5a-dcc959be250e", "id": 1290485,
                          "partnerId": 1413, "serviceProviderId": 1004}),
    );
    let (queue, dead) = (
        Arc::<MemoryQueue>::default(),
        Arc::<MemoryDeadLetters>::default(),
    );
    let config = MemoryConfig::new(vec![sub("p", "partner", 1413), sub("s", "provider", 1004)]);
    let router = Router {
        tables: TableNames::with_prefix("hubhooks-dev"),
        cases: Arc::new(cases),
        config: ConfigCache::new(Arc::new(config), Duration::from_secs(60)),
        queue: queue.clone(),
        failures: dead.clone(),
        payloads: Arc::<MemoryPayloads>::default(),
        enqueued: EnqueuedIds::default(),
        backoff: Backoff {
            tries: 1,
            first: Duration::ZERO,
        },
    };
    (router, dead, queue)
}

/// Where a bend lands in the record.
#[derive(Debug, Clone)]
enum Target {
    /// An attribute of `NewImage` or `OldImage` (an existing one by index,
    /// or a new name).
    Attribute {
        old: bool,
        which: Index,
        new_name: Option<String>,
    },
    EventName,
    Source,
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        8 => (any::<bool>(), any::<Index>(), prop::option::weighted(0.2, "[a-zA-Z]{1,12}"))
            .prop_map(|(old, which, new_name)| Target::Attribute { old, which, new_name }),
        1 => Just(Target::EventName),
        1 => Just(Target::Source),
    ]
}

/// A value for an attribute: any DynamoDB value, or one nested 20 to 200
/// levels deep.
fn attribute() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => attribute_value(4),
        1 => (20usize..200).prop_map(deeply_nested),
    ]
}

fn apply(record: &mut Value, target: &Target, how: &Bend) {
    match target {
        Target::Attribute {
            old,
            which,
            new_name,
        } => {
            let image = if *old { "OldImage" } else { "NewImage" };
            let Some(image) = record["dynamodb"]
                .get_mut(image)
                .and_then(Value::as_object_mut)
            else {
                return;
            };
            let name = match new_name {
                Some(n) => n.clone(),
                None if image.is_empty() => return,
                None => image
                    .keys()
                    .nth(which.index(image.len()))
                    .cloned()
                    .unwrap_or_default(),
            };
            match how {
                Bend::Remove => {
                    image.remove(&name);
                }
                Bend::Replace(v) => {
                    image.insert(name, v.clone());
                }
            }
        }
        Target::EventName | Target::Source => {
            let field = if matches!(target, Target::EventName) {
                "eventName"
            } else {
                "eventSourceARN"
            };
            match how {
                Bend::Remove => record[field] = Value::Null,
                Bend::Replace(v) => record[field] = v.get("S").cloned().unwrap_or(Value::Null),
            }
        }
    }
}

/// What a dead-letter reason must say: the attribute, field or image it
/// is about.
fn names_what(reason: &str) -> bool {
    reason.contains('`') || reason.contains("Image") || reason.contains("eventName")
}

fn check(records: Value) -> Result<(), TestCaseError> {
    // DynamoDB Streams only writes valid attribute values; what does not
    // read as a Lambda event is the runtime's to refuse, never a panic.
    let Ok(event) = serde_json::from_value::<Event>(json!({ "Records": [records] })) else {
        return Ok(());
    };
    let (router, dead, queue) = router();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (response, summary) = rt.block_on(router.invoke(&event.records));
    // Retried only for what may come right: a case not written yet. The
    // stream retries it, then its on-failure destination keeps it.
    if !response.batch_item_failures.is_empty() {
        let why = summary.failure.as_deref().unwrap_or_default();
        prop_assert!(
            why.starts_with("case `") && why.ends_with("not found"),
            "retried: {summary:?}"
        );
        return Ok(());
    }
    prop_assert_eq!(
        summary.routed + summary.ignored + summary.dead_lettered,
        1,
        "{:?}",
        summary
    );
    let letters = dead.letters();
    prop_assert_eq!(letters.len(), summary.dead_lettered);
    for l in &letters {
        prop_assert!(
            names_what(&l.reason),
            "the reason names nothing: {}",
            l.reason
        );
    }
    prop_assert_eq!(queue.sent().len(), summary.deliveries);
    Ok(())
}

proptest! {
    #![proptest_config(crate::strategies::cases())]

    #[test]
    fn any_bent_stream_record_is_routed_ignored_or_dead_lettered_with_its_reason(
        which in 0..SAMPLES.len(),
        bends in prop::collection::vec((target(), bend(attribute())), 1..4),
    ) {
        let mut record = sample(SAMPLES[which]);
        for (t, how) in &bends {
            apply(&mut record, t, how);
        }
        check(record)?;
    }

    #[test]
    fn a_record_of_any_text_never_panics_the_reader(
        which in 0..SAMPLES.len(),
        at in any::<Index>(),
        inserted in prop_oneof![
            Just("\\ud800".to_owned()), Just("\\udfff\\ud800".to_owned()),
            Just("\\u0000".to_owned()), Just("\\\"".to_owned()), text(),
        ],
    ) {
        // Escapes (lone surrogates among them) spliced into the JSON text.
        let text = serde_json::to_string(&json!({"Records": [sample(SAMPLES[which])]})).unwrap();
        let quotes: Vec<usize> = text.match_indices('"').map(|(i, _)| i).collect();
        let cut = quotes[at.index(quotes.len())] + 1;
        let spliced = format!("{}{}{}", &text[..cut], inserted, &text[cut..]);
        if let Ok(event) = serde_json::from_str::<Value>(&spliced) {
            check(event["Records"][0].clone())?;
        }
    }
}

#[test]
fn every_sample_routes_unbent() {
    for name in SAMPLES {
        let (router, dead, _) = router();
        let event: Event = serde_json::from_value(json!({"Records": [sample(name)]})).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (_, summary) = rt.block_on(router.invoke(&event.records));
        assert_eq!(
            summary.routed,
            1,
            "{name}: {summary:?} {:?}",
            dead.letters()
        );
    }
}
