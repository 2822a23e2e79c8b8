//! `hubhooks demo`: the whole pipeline on the local stack, end to end.
//!
//! Provisions the stack, starts a receiver and the runner, subscribes a
//! partner and a provider, writes a case whose status history has a mapped
//! status, a repeated one and a black-listed one, then prints every webhook
//! received and checks it against what the rules say must arrive.
use crate::configure::{put_items, put_json};
use crate::provision::{QueueSettings, provision};
use crate::receiver::{Received, TestReceiver};
use crate::runner::{Runner, RunnerOptions};
use anyhow::{Result, bail};
use aws_config::SdkConfig;
use hubhooks::config::{ConfigItem, RawConfigItem};
use serde_json::{Value, json};
use std::time::Duration;

pub const PARTNER_ID: i64 = 1413;
pub const PROVIDER_ID: i64 = 1004;
pub const CASE_GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";
pub const CASE_ID: i64 = 1290485;

/// The example config set (docs/example-config.json), pointed at `base_url`.
pub fn example_config(base_url: &str) -> Result<Vec<ConfigItem>> {
    let text = include_str!("../../docs/example-config.json")
        .replace("https://partner.example.com", base_url);
    let text = text.replace("https://provider.example.com", base_url);
    let values: Vec<Value> = serde_json::from_str(&text)?;
    values
        .into_iter()
        .map(|v| {
            let id = v["id"].as_str().unwrap_or_default().to_owned();
            ConfigItem::parse(&RawConfigItem { id, value: v }).map_err(anyhow::Error::from)
        })
        .collect()
}

/// The case of seed 000's invoice example, as a `Cases` item.
pub fn example_case() -> Value {
    json!({
        "guid": CASE_GUID, "id": CASE_ID, "partnerId": PARTNER_ID, "serviceProviderId": PROVIDER_ID,
        "currentStatus": "registered", "createdAt": "2023-01-10T10:22:14.558Z",
        "orderData": {"refNo": "10-1862", "bookingType": "companyToPrivate", "customerNumber": "123456",
                      "consents": ["ConsentTerms", "ConsentRepair"]},
        "productData": {"model": "TESTTEST", "serial": "5557779900", "problemText": "Please FIX ASAP. Broken pixels. TEST"},
        "customer": null, "consumer": null, "pickupDst": null, "returnDst": null, "sender": null,
        "servicePartner": {"id": PARTNER_ID, "name": "Partner's name"},
        "serviceProvider": {"id": PROVIDER_ID, "name": "Service Provider Name"}
    })
}

/// A `CaseStatuses` item.
pub fn status_item(id: i64, key: &str, name: &str, minute: u32) -> Value {
    json!({
        "caseId": CASE_ID, "id": id, "guid": CASE_GUID, "key": key, "name": name,
        "createdAt": format!("2023-01-25T13:{minute:02}:18.000Z"),
        "updatedAt": format!("2023-01-25T13:{minute:02}:18.000Z"),
        "declaredAt": format!("2023-01-25T13:{minute:02}:00.000Z")
    })
}

/// The demo's status history: (id, provider key, name).
pub const HISTORY: [(i64, &str, &str); 5] = [
    (5001, "registered", "Registered"),
    (5002, "prod_recv", "Product received at workshop"),
    (5003, "prod_recv", "Product received at workshop"),
    (5004, "internal_qc", "Internal quality check"),
    (5005, "repair_done", "Repair done"),
];

/// What must arrive: (path, key) per webhook.
pub fn expected() -> Vec<(&'static str, &'static str)> {
    vec![
        ("/partner/status", "registered"),
        ("/partner/status", "arrived"),
        ("/partner/status", "final"),
        ("/partner/transition", "final"),
        ("/provider/status", "registered"),
        ("/provider/status", "prod_recv"),
        ("/provider/status", "internal_qc"),
        ("/provider/status", "repair_done"),
    ]
}

fn print(r: &Received) {
    println!("── {} {}", r.method, r.path);
    for (n, v) in &r.headers {
        println!("   {n}: {v}");
    }
    // The body exactly as sent (field order is the contract's).
    println!("   {}", r.body);
}

pub async fn run(sdk: &SdkConfig, prefix: &str) -> Result<()> {
    let stack = provision(
        sdk,
        prefix,
        &QueueSettings {
            visibility_timeout_secs: 2,
            max_receive_count: 3,
        },
    )
    .await?;
    println!(
        "provisioned {} / {} / {}",
        stack.tables.cases(),
        stack.tables.case_statuses(),
        stack.tables.config
    );
    let receiver = TestReceiver::start(200).await?;
    println!("receiver listening on {}", receiver.base_url);
    let config = example_config(&receiver.base_url)?;
    put_items(sdk, &stack.tables.config, &config).await?;
    println!(
        "subscribed: {}",
        config
            .iter()
            .map(ConfigItem::id)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _runner = Runner::start(sdk, &stack, RunnerOptions::default()).await?;

    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    put_json(&ddb, stack.tables.cases(), &example_case()).await?;
    for (i, (id, key, name)) in HISTORY.iter().enumerate() {
        put_json(
            &ddb,
            stack.tables.case_statuses(),
            &status_item(*id, key, name, i as u32 + 11),
        )
        .await?;
        println!("wrote status {id} `{key}`");
    }

    let want = expected();
    receiver.wait_for(want.len(), Duration::from_secs(60)).await;
    // A short grace period shows nothing extra arrives (repeat, black list).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut got = receiver.received();
    got.sort_by(|a, b| {
        (a.path.as_str(), a.json()["id"].as_i64()).cmp(&(b.path.as_str(), b.json()["id"].as_i64()))
    });
    println!("\n{} webhooks received:\n", got.len());
    for r in &got {
        print(r);
    }
    let mut seen: Vec<(String, String)> = got
        .iter()
        .map(|r| {
            (
                r.path.clone(),
                r.json()["key"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut want: Vec<(String, String)> = want
        .into_iter()
        .map(|(p, k)| (p.to_owned(), k.to_owned()))
        .collect();
    want.sort();
    if seen != want {
        bail!("expected webhooks {want:?}, received {seen:?}");
    }
    println!(
        "\ndemo ok: {} webhooks; the repeated `prod_recv` fired no new status, and `internal_qc` stayed invisible to the partner.",
        got.len()
    );
    Ok(())
}
