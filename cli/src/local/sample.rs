//! `hubhooks local subscribe` and `local write`: a receiver of yours
//! subscribed with nothing else to set up (no secret), and a sample case's
//! changes written as the hub writes them, without hand-written DynamoDB
//! JSON. Both wait for `hubhooks local run` to have provisioned the stack.
use crate::config::{put_items, put_json};
use crate::demo::{self, CASE_GUID, PARTNER_ID, PROVIDER_ID};
use anyhow::{Context, Result, bail};
use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use hubhooks::config::{ConfigItem, RawConfigItem};
use hubhooks::event::EventType;
use hubhooks::tables::{CaseTable, STATUSES_PARTITION_KEY, TableNames};
use serde_json::{Value, json};
use std::time::Duration;

/// The sample case's two parties, each subscribed to every current type at
/// `url`: `local-partner-1413` and `local-provider-1004`.
pub fn subscriptions(url: &str) -> Result<Vec<ConfigItem>> {
    [("partner", PARTNER_ID), ("provider", PROVIDER_ID)]
        .into_iter()
        .map(|(kind, id)| {
            let value = json!({
                "id": format!("local-{kind}-{id}"), "kind": "subscription",
                "description": format!("`hubhooks local subscribe`: every current type for {kind} {id}"),
                "party": {"type": kind, "id": id},
                "eventTypes": ["allCurrent"],
                "destination": {"method": "POST", "url": url}
            });
            let raw = RawConfigItem {
                id: value["id"].as_str().unwrap_or_default().to_owned(),
                value,
            };
            ConfigItem::parse(&raw).with_context(|| format!("--url {url}"))
        })
        .collect()
}

pub async fn subscribe(sdk: &SdkConfig, tables: &TableNames, url: &str) -> Result<()> {
    let items = subscriptions(url)?;
    wait_for_table(sdk, &tables.config).await?;
    put_items(sdk, &tables.config, &items).await?;
    for item in &items {
        println!("subscribed {} to every current type at {url}", item.id());
    }
    Ok(())
}

/// Waits (up to 60 s) for a table `hubhooks local run` provisions.
async fn wait_for_table(sdk: &SdkConfig, table: &str) -> Result<()> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    for i in 0..600 {
        match ddb.describe_table().table_name(table).send().await {
            Ok(_) => return Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                if i == 0 {
                    eprintln!("waiting for `hubhooks local run` to provision {table} …");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(crate::aws::sdk_err(e)).context(format!("reading {table}")),
        }
    }
    bail!("no table {table} after 60 s: is `hubhooks local run` running with the same --prefix?")
}

/// A key for the next status that differs from the last one (a repeated
/// status fires no new status).
const STATUS_KEYS: [(&str, &str); 4] = [
    ("registered", "Registered"),
    ("in_repair", "In repair"),
    ("repair_done", "Repair done"),
    ("shipped", "Shipped back"),
];

/// Writes what makes `event` fire for the sample case, printing each write.
pub async fn write(sdk: &SdkConfig, tables: &TableNames, event: EventType) -> Result<()> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    wait_for_table(sdk, tables.cases()).await?;
    let case = ensure_case(&ddb, tables.cases()).await?;
    // Ids from the clock: each write is new, so each fires.
    let n = chrono::Utc::now().timestamp_millis() % 1_000_000_000;
    let now = hubhooks::timestamp::Timestamp::now().to_contract_string();
    let work = |table: CaseTable| {
        demo::case_work()
            .into_iter()
            .find(|(t, ..)| *t == table)
            .map(|(_, item, _)| item)
            .unwrap_or_default()
    };
    let mut writes: Vec<(CaseTable, Value, String)> = Vec::new();
    match event {
        EventType::NewStatus | EventType::StatusTransition => {
            let (id, last) = last_status(&ddb, tables.case_statuses()).await?;
            let at = STATUS_KEYS
                .iter()
                .position(|(k, _)| Some(*k) == last.as_deref());
            let (key, name) = STATUS_KEYS[at.map_or(0, |i| (i + 1) % STATUS_KEYS.len())];
            let mut item = demo::status_item(id + 1, key, name, 0);
            for field in ["createdAt", "updatedAt", "declaredAt"] {
                item[field] = json!(now);
            }
            writes.push((
                CaseTable::CaseStatuses,
                item,
                format!("status {} `{key}`", id + 1),
            ));
        }
        EventType::NewCostProposal => {
            let mut item = work(CaseTable::CostProposals);
            item["id"] = json!(n);
            writes.push((
                CaseTable::CostProposals,
                item,
                format!("cost proposal {n} by the provider"),
            ));
        }
        EventType::NewMessage | EventType::MessageConfirmed => {
            let mut item = work(CaseTable::Messages);
            item["id"] = json!(n);
            writes.push((
                CaseTable::Messages,
                item.clone(),
                format!("message {n} from the provider"),
            ));
            if event == EventType::MessageConfirmed {
                item["confirmedAt"] = json!(now);
                writes.push((
                    CaseTable::Messages,
                    item,
                    format!("the partner confirms message {n}"),
                ));
            }
        }
        EventType::NewFile => {
            let mut item = work(CaseTable::Files);
            item["uploadId"] = json!(format!("upload-{n}"));
            writes.push((
                CaseTable::Files,
                item,
                format!("upload-{n}: two files by the provider"),
            ));
        }
        EventType::CaseUpdated => {
            let mut item = case;
            item["changedBy"] = json!({"type": "partner", "via": "web"});
            item["orderData"]["refNo"] = json!(format!("10-{n}"));
            writes.push((
                CaseTable::Cases,
                item,
                format!("the partner sets refNo 10-{n}"),
            ));
        }
        EventType::Invoice => {
            let mut item = demo::case_work()
                .into_iter()
                .rev()
                .find(|(t, ..)| *t == CaseTable::Invoices)
                .map(|(_, item, _)| item)
                .unwrap_or_default();
            item["id"] = json!(n);
            writes.push((CaseTable::Invoices, item, format!("invoice {n} in `ready`")));
        }
    }
    for (table, item, what) in writes {
        put_json(&ddb, tables.name(table), &item).await?;
        println!("wrote {what} of case {CASE_GUID} to {}", tables.name(table));
    }
    Ok(())
}

/// The sample case, written first if it is not there yet.
async fn ensure_case(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<Value> {
    let key = AttributeValue::S(CASE_GUID.to_owned());
    let stored = ddb
        .get_item()
        .table_name(table)
        .key(hubhooks::tables::CASES_KEY, key)
        .consistent_read(true)
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("reading case {CASE_GUID} from {table}"))?;
    if let Some(item) = stored.item {
        return Ok(serde_dynamo::from_item(item)?);
    }
    let case = demo::example_case();
    put_json(ddb, table, &case).await?;
    println!("wrote case {CASE_GUID} (partner {PARTNER_ID}, provider {PROVIDER_ID}) to {table}");
    Ok(case)
}

/// The sample case's latest status record: (its id, its key), (0, None)
/// when it has none.
async fn last_status(ddb: &aws_sdk_dynamodb::Client, table: &str) -> Result<(i64, Option<String>)> {
    let out = ddb
        .query()
        .table_name(table)
        .key_condition_expression("#c = :c")
        .expression_attribute_names("#c", STATUSES_PARTITION_KEY)
        .expression_attribute_values(":c", AttributeValue::N(demo::CASE_ID.to_string()))
        .scan_index_forward(false)
        .limit(1)
        .consistent_read(true)
        .send()
        .await
        .map_err(crate::aws::sdk_err)
        .with_context(|| format!("reading the sample case's statuses from {table}"))?;
    let Some(item) = out.items().first() else {
        return Ok((0, None));
    };
    let id = item
        .get("id")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let key = item.get("key").and_then(|v| v.as_s().ok()).cloned();
    Ok((id, key))
}
