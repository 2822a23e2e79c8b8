//! The benchmark's world: subscriptions, the case, and stream records of
//! every type, from the samples in `events/`.
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::path::Path;

pub const PARTNER: u64 = 1413;
pub const PROVIDER: u64 = 1004;
pub const SIGNING_SECRET: &str = "bench-signing";
/// A Standard Webhooks key (`whsec_` + base64 of 32 bytes).
pub const SIGNING_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `per_party` subscriptions for each of the partner and the provider, every
/// type, signed, half of them with a transition rule; the partner maps its
/// statuses. All point at `base_url`.
pub fn config(per_party: usize, base_url: &str) -> Vec<Value> {
    let mut items = Vec::new();
    for i in 0..per_party {
        for (kind, id) in [("partner", PARTNER), ("provider", PROVIDER)] {
            let sid = format!("{kind}-{i}");
            let mut item = json!({
                "id": sid, "kind": "subscription",
                "party": {"type": kind, "id": id},
                "eventTypes": ["any"],
                "destination": {"method": "POST", "url": format!("{base_url}/hooks/{sid}")},
                "auth": {"signingSecret": SIGNING_SECRET},
                "maxAttempts": 8,
            });
            if i % 2 == 0 {
                item["transitions"] = json!([{"to": "final"}]);
            }
            items.push(item);
        }
    }
    items.push(json!({
        "id": "partner-map", "kind": "statusMapping", "partnerId": PARTNER,
        "statuses": {
            "repair_done": {"key": "final", "name": "Repair finished"},
            "k3": {"key": "arrived", "name": "Arrived"}
        }
    }));
    items
}

/// The case of every sample record, and its earlier statuses.
pub fn case() -> Value {
    json!({"guid": "68ea1505-a44f-4434-be5a-dcc959be250e", "id": 1290485,
           "partnerId": PARTNER, "serviceProviderId": PROVIDER})
}

pub fn earlier_statuses() -> Vec<Value> {
    (1..=8)
        .map(|i| {
            json!({"id": i, "caseId": 1290485, "guid": "68ea1505-a44f-4434-be5a-dcc959be250e",
                   "key": format!("k{i}"), "name": format!("Status {i}"),
                   "createdAt": "2023-01-25T13:11:18.000Z"})
        })
        .collect()
}

/// One stream record of each sample in `events/` (every case table and
/// event), as the Lambda event carries them.
pub fn sample_records(root: &Path) -> Result<Vec<Value>> {
    let dir = root.join("events");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.ends_with("deliveries.json"))
        .collect();
    names.sort();
    let mut records = Vec::new();
    for path in names {
        let text = std::fs::read_to_string(&path)?;
        let event: Value =
            serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
        records.extend(event["Records"].as_array().cloned().unwrap_or_default());
    }
    Ok(records)
}

/// Stream events of `batch` records each, `count` records in all, cycling
/// through the samples; each record has its own event id and sequence
/// number. JSON text, as the runtime receives it.
pub fn stream_batches(samples: &[Value], count: usize, batch: usize) -> Vec<String> {
    let records: Vec<Value> = (0..count)
        .map(|n| {
            let mut r = samples[n % samples.len()].clone();
            r["eventID"] = json!(format!("bench{n:08}"));
            r["dynamodb"]["SequenceNumber"] = json!(format!("{}", 4_421_584_500_000u64 + n as u64));
            r
        })
        .collect();
    records
        .chunks(batch)
        .map(|c| json!({"Records": c}).to_string())
        .collect()
}

/// SQS events of up to `batch` messages, as Lambda hands the sender its
/// batches, with the attributes the router sets.
pub fn sqs_batches(bodies: &[String], batch: usize) -> Vec<String> {
    bodies
        .chunks(batch)
        .enumerate()
        .map(|(b, chunk)| {
            let records: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    let envelope: Value = serde_json::from_str(body).unwrap_or_default();
                    let attribute = |v: &Value| json!({"stringValue": v, "dataType": "String",
                        "stringListValues": [], "binaryListValues": []});
                    json!({
                        "messageId": format!("m-{b}-{i}"),
                        "receiptHandle": format!("rh-{b}-{i}"),
                        "body": body,
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1674652278000",
                                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1674652278001"},
                        "messageAttributes": {
                            "deliveryId": attribute(&envelope["id"]),
                            "subscriptionId": attribute(&envelope["subscriptionId"]),
                            "eventType": attribute(&envelope["eventType"]),
                        },
                        "md5OfBody": "",
                        "eventSource": "aws:sqs",
                        "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:hubhooks-dev-deliveries",
                        "awsRegion": "eu-west-1"
                    })
                })
                .collect();
            json!({"Records": records}).to_string()
        })
        .collect()
}
