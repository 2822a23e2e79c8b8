//! `hubhooks demo`: the whole pipeline on the local stack, end to end.
//!
//! Provisions the stack, starts a receiver and the runner, subscribes a
//! partner and a provider (docs/example-config.json), then plays a case's
//! life: a status history with a mapped status, a repeated one and a
//! black-listed one; a cost proposal; messages both ways and a confirmation;
//! an upload of two files; an edit of the case; a draft and a ready invoice.
//! It prints every webhook received and checks them against what the rules
//! say must arrive: every type, to the right party, at its own URL.
use crate::config::{put_items, put_json};
use crate::local::provision::{LocalStack, QueueSettings, provision};
use crate::local::runner::{Runner, RunnerOptions};
use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use hubhooks::config::{ConfigItem, RawConfigItem};
use hubhooks::tables::CaseTable;
use hubhooks::timestamp::Timestamp;
use hubhooks_testkit::receiver::{Received, TestReceiver};
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

/// The case of the contract's invoice example, as a `Cases` item.
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

/// Secrets the example config names: (name, value). Demo values only.
pub const DEMO_SECRETS: [(&str, &str); 2] = [
    ("acme-signing", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ("acme-bearer", "demo-bearer-token"),
];

/// The demo's status history: (id, provider key, name).
pub const HISTORY: [(i64, &str, &str); 5] = [
    (5001, "registered", "Registered"),
    (5002, "prod_recv", "Product received at workshop"),
    (5003, "prod_recv", "Product received at workshop"),
    (5004, "internal_qc", "Internal quality check"),
    (5005, "repair_done", "Repair done"),
];

/// The rest of the case's life: (table, item, what the demo prints).
pub fn case_work() -> Vec<(CaseTable, Value, &'static str)> {
    let message = |id: i64, sender: &str, confirmed_at: Value| {
        json!({"guid": CASE_GUID, "id": id, "externalId": format!("ext-{id}"),
               "content": format!("Message {id} from the {sender}"), "userName": "John",
               "userEmail": "john@example.com", "type": "serviceComment", "senderType": sender,
               "parentMessageId": null, "senderAccountId": 1010,
               "createdAt": "2023-01-25T14:00:00.000Z", "updatedAt": "2023-01-25T14:00:00.000Z",
               "declaredAt": null, "confirmedAt": confirmed_at})
    };
    let invoice = |id: i64, status: &str| {
        json!({"guid": CASE_GUID, "id": id, "type": "invoice", "isPaid": false, "isSent": false,
               "status": status, "details": [{"name": "Labour, Mon 23-29\"", "count": 1, "vatRate": 0.25,
               "vatAmount": 162.5, "priceExclVat": 650, "priceInclVat": 812.5,
               "totalAmountExclVat": 650, "totalAmountInclVat": 812.5}],
               "dueDate": "2023-03-01T00:00:00.000Z", "currency": "NOK", "isActive": null,
               "priceNet": 650, "createdAt": "2023-01-25T15:00:00.000Z",
               "updatedAt": "2023-01-25T15:00:00.000Z", "customData": {"arnr1": "234234"},
               "externalId": format!("{}", 100000 + id), "linkedInvoice": null})
    };
    let mut edited = example_case();
    edited["changedBy"] = json!({"type": "partner", "via": "web"});
    edited["orderData"]["refNo"] = json!("10-1862-B");
    edited["consumer"] = json!({"firstName": "Elon", "lastName": "Musk"});
    vec![
        (
            CaseTable::CostProposals,
            json!({"guid": CASE_GUID, "id": 25532, "externalId": null,
            "name": "Repair", "priceNet": 980, "currency": "NOK", "isActive": true,
            "dateValidUntil": "2023-02-01T00:00:00.000Z", "reaction": null, "comment": null,
            "reactionDate": null, "reactionName": null,
            "details": [{"line": 1, "text": "Panel replacement", "type": "Repair", "priceNet": 980, "quantity": 1}],
            "createdAt": "2023-01-25T13:30:00.000Z", "updatedAt": "2023-01-25T13:30:00.000Z",
            "serviceProviderId": PROVIDER_ID}),
            "cost proposal 25532 (by the provider)",
        ),
        (
            CaseTable::Messages,
            message(7001, "provider", Value::Null),
            "message 7001 (provider → partner)",
        ),
        (
            CaseTable::Messages,
            message(7002, "partner", Value::Null),
            "message 7002 (partner → provider)",
        ),
        (
            CaseTable::Messages,
            message(7002, "partner", json!("2023-01-25T14:05:00.000Z")),
            "the provider confirms message 7002",
        ),
        (
            CaseTable::Files,
            json!({"guid": CASE_GUID, "uploadId": "upload-1",
            "changedBy": {"type": "provider", "via": "api"}, "createdAt": "2023-01-25T14:10:00.000Z",
            "files": [{"url": "https://files.example.com/before.jpeg", "name": "before.jpeg", "type": "other"},
                      {"url": "https://files.example.com/report.pdf", "name": "report.pdf", "type": "other"}]}),
            "two files uploaded together by the provider",
        ),
        (
            CaseTable::Cases,
            edited,
            "the partner edits refNo and the consumer in the web interface",
        ),
        (
            CaseTable::Invoices,
            invoice(9001, "draft"),
            "invoice 9001 in `draft` (not sent to the client)",
        ),
        (
            CaseTable::Invoices,
            invoice(9002, "ready"),
            "invoice 9002 in `ready` (sent to the client)",
        ),
    ]
}

/// What must arrive: (path, event type, status key if any) per webhook.
pub fn expected() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("/partner/status", "newStatus", "registered"),
        ("/partner/status", "newStatus", "arrived"),
        ("/partner/status", "newStatus", "final"),
        ("/partner/transition", "statusTransition", "final"),
        ("/provider/status", "newStatus", "registered"),
        ("/provider/status", "newStatus", "prod_recv"),
        ("/provider/status", "newStatus", "internal_qc"),
        ("/provider/status", "newStatus", "repair_done"),
        ("/partner/cost-proposals", "newCostProposal", ""),
        ("/partner/events", "newMessage", ""),
        ("/provider/events", "newMessage", ""),
        ("/partner/events", "messageConfirmed", ""),
        ("/partner/events", "newFile", ""),
        ("/provider/events", "caseUpdated", ""),
        ("/partner/invoices", "invoice", ""),
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

/// `exit`: stop after the check instead of serving the portal.
pub async fn run(sdk: &SdkConfig, prefix: &str, exit: bool) -> Result<()> {
    let stack = provision(
        sdk,
        prefix,
        &QueueSettings {
            visibility_timeout_secs: 2,
            ..QueueSettings::default()
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
    subscribe(sdk, &stack, &receiver).await?;
    let _runner = Runner::start(sdk, &stack, RunnerOptions::default()).await?;
    write_case_work(sdk, &stack).await?;
    let want = expected();
    receiver.wait_for(want.len(), Duration::from_secs(60)).await;
    // A short grace period shows nothing extra arrives (repeat, black list,
    // echoes, the draft invoice).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = received(&receiver);
    let seen: Vec<(String, String, String)> = got
        .iter()
        .map(|r| {
            let key = r.json()["key"].as_str().unwrap_or("").to_owned();
            (r.path.clone(), event_type(r), key)
        })
        .collect();
    check(seen, want)?;
    let base = api_call(sdk, prefix, &stack).await?;
    println!(
        "\ndemo ok: {} webhooks of all 8 types. The repeated `prod_recv` fired no new status, `internal_qc` stayed invisible to the partner, nobody heard of their own change, and the draft invoice stayed with the provider.",
        got.len()
    );
    if exit {
        return Ok(());
    }
    portal_link(sdk, prefix, &base).await?;
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Prints a portal link for the demo's partner: its subscriptions and the
/// deliveries just made, in a browser, while the demo runs.
async fn portal_link(sdk: &SdkConfig, prefix: &str, base: &str) -> Result<()> {
    use hubhooks::party::Party;
    let keys = hubhooks::adapters::party_keys::DynamoPartyKeys::new(
        aws_sdk_dynamodb::Client::new(sdk),
        format!("{prefix}-party-keys"),
    );
    let (key, _) = hubhooks::operations::portal::create_link(
        &keys,
        Party::partner(1413),
        hubhooks::operations::portal::DEFAULT_LINK_TTL,
        Timestamp::now(),
    )
    .await?;
    println!(
        "\nThe partner portal for partner 1413 (opens once, within an hour):\n\n  {}\n\nThe pipeline and the portal run until Ctrl-C.",
        hubhooks::api::portal::link_url(base, key.expose())
    );
    Ok(())
}

/// The partner looks at its own subscriptions through the management API
/// with a key of its own, as an integrator would; the API's base URL,
/// served until the demo ends.
async fn api_call(sdk: &SdkConfig, prefix: &str, stack: &LocalStack) -> Result<String> {
    use hubhooks::party::Party;
    let keys_table = format!("{prefix}-party-keys");
    let (key, stored) = hubhooks::party_key::create(Party::partner(1413), None, Timestamp::now())
        .map_err(|e| anyhow::anyhow!("generating a key: {e}"))?;
    hubhooks::adapters::party_keys::DynamoPartyKeys::new(
        aws_sdk_dynamodb::Client::new(sdk),
        keys_table.clone(),
    )
    .put(&stored)
    .await?;
    let resources = crate::local::api::resources(stack, prefix);
    let egress =
        hubhooks::egress::AllowList::parse(crate::local::runner::LOCAL_EGRESS).unwrap_or_default();
    let base = crate::local::api::serve_on(
        sdk,
        &resources,
        egress,
        crate::local::api::DEFAULT_PORT,
        None,
    )
    .await?;
    let url = format!("{base}/v1/subscriptions");
    let answer = reqwest::Client::new()
        .get(&url)
        .bearer_auth(key.expose())
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = answer.status().as_u16();
    let body: serde_json::Value = serde_json::from_str(&answer.text().await?)?;
    let ids: Vec<&str> = body["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["id"].as_str()).collect())
        .unwrap_or_default();
    println!(
        "
GET {url} (partner 1413's key) → {status}: {}",
        ids.join(", ")
    );
    let want: Vec<String> = example_config("http://x")?
        .iter()
        .filter_map(|i| match i {
            ConfigItem::Subscription(s) if s.party == Party::partner(1413) => {
                Some(s.id.to_string())
            }
            _ => None,
        })
        .collect();
    let mut want: Vec<&str> = want.iter().map(String::as_str).collect();
    want.sort();
    if status != 200 || ids != want {
        bail!("the management API answered {status} with {ids:?}; expected 200 with {want:?}");
    }
    Ok(base)
}

/// The partner's secrets (docs/example-config.json names them; a real
/// deployment stores them with `hubhooks secret put`) and the example
/// config pointed at the demo's receiver.
async fn subscribe(sdk: &SdkConfig, stack: &LocalStack, receiver: &TestReceiver) -> Result<()> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    for (name, value) in DEMO_SECRETS {
        let item = json!({"id": name, "values": [value]});
        put_json(&ddb, &stack.secrets_table, &item).await?;
    }
    let config = example_config(&receiver.base_url)?;
    put_items(sdk, &stack.tables.config, &config).await?;
    let ids: Vec<&str> = config.iter().map(ConfigItem::id).collect();
    println!("subscribed: {}", ids.join(", "));
    Ok(())
}

/// The example case, its status history and the work on it, as the hub
/// writes them.
async fn write_case_work(sdk: &SdkConfig, stack: &LocalStack) -> Result<()> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    put_json(&ddb, stack.tables.cases(), &example_case()).await?;
    for (i, (id, key, name)) in HISTORY.iter().enumerate() {
        let item = status_item(*id, key, name, i as u32 + 11);
        put_json(&ddb, stack.tables.case_statuses(), &item).await?;
        println!("wrote status {id} `{key}`");
    }
    for (table, item, what) in case_work() {
        put_json(&ddb, stack.tables.name(table), &item).await?;
        println!("wrote {what}");
    }
    Ok(())
}

fn event_type(r: &Received) -> String {
    r.header("event-type").unwrap_or("?").to_owned()
}

/// What arrived, in a stable order, printed.
fn received(receiver: &TestReceiver) -> Vec<Received> {
    let mut got = receiver.received();
    got.sort_by_key(|r| (r.path.clone(), event_type(r), r.json()["id"].as_i64()));
    println!("\n{} webhooks received:\n", got.len());
    for r in &got {
        print(r);
    }
    got
}

/// (path, event type, status key) of what arrived against what should.
fn check(mut seen: Vec<(String, String, String)>, want: Vec<(&str, &str, &str)>) -> Result<()> {
    seen.sort();
    let mut want: Vec<(String, String, String)> = want
        .into_iter()
        .map(|(p, t, k)| (p.to_owned(), t.to_owned(), k.to_owned()))
        .collect();
    want.sort();
    if seen != want {
        bail!("expected webhooks {want:#?}, received {seen:#?}");
    }
    Ok(())
}
