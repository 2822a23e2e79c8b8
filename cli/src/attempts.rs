//! `hubhooks deliveries`: the attempt log, by case, by subscription, or the
//! failures of a recent period.
use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use hubhooks::attempt::AttemptRecord;
use hubhooks::tables::deliveries as d;
use hubhooks::timestamp::Timestamp;

/// Which attempts to show.
#[derive(Debug, Clone)]
pub enum Filter {
    Case(String),
    Subscription(String),
    Delivery(String),
    Failed,
}

/// Parses `90s`, `15m`, `1h`, `2d`.
pub fn parse_since(s: &str) -> Result<chrono::Duration> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n
        .parse()
        .with_context(|| format!("`{s}`: expected e.g. 30m, 1h, 2d"))?;
    Ok(match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" | "" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => bail!("`{s}`: the unit must be s, m, h or d"),
    })
}

/// Attempts matching `filter` (and newer than `since`), oldest first.
pub async fn query(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    filter: &Filter,
    since: Option<chrono::Duration>,
) -> Result<Vec<AttemptRecord>> {
    // Key values may not be empty; every timestamp sorts after this one.
    let from = since
        .map(|s| Timestamp(chrono::Utc::now() - s).to_contract_string())
        .unwrap_or_else(|| "0000".to_owned());
    let (index, key, value) = match filter {
        Filter::Case(g) => (Some(d::BY_CASE), "caseGuid", g.clone()),
        Filter::Subscription(s) => (Some(d::BY_SUBSCRIPTION), "subscriptionId", s.clone()),
        Filter::Failed => (Some(d::FAILURES), "failed", "1".to_owned()),
        Filter::Delivery(id) => (None, d::PARTITION_KEY, id.clone()),
    };
    let mut req = ddb
        .query()
        .table_name(table)
        .expression_attribute_names("#k", key)
        .expression_attribute_values(":k", AttributeValue::S(value));
    req = match index {
        Some(index) => req
            .index_name(index)
            .key_condition_expression("#k = :k AND #at >= :from")
            .expression_attribute_names("#at", d::INDEX_SORT_KEY)
            .expression_attribute_values(":from", AttributeValue::S(from)),
        None => req.key_condition_expression("#k = :k"),
    };
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("querying {table}"))?;
        for item in page.items.unwrap_or_default() {
            out.push(serde_dynamo::from_item(item).context("reading an attempt")?);
        }
    }
    out.sort_by_key(|a: &AttemptRecord| (a.at, a.attempt));
    Ok(out)
}

/// A text table, one attempt per line.
pub fn render(attempts: &[AttemptRecord]) -> String {
    let rows = attempts.iter().map(|a| {
        let outcome = serde_json::to_value(a.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let detail = a.error.clone().unwrap_or_else(|| a.excerpt.clone());
        let detail: String = detail.chars().take(80).collect();
        vec![
            a.at.to_contract_string(),
            a.delivery_id.to_string(),
            a.subscription_id.to_string(),
            a.event_type.as_str().to_owned(),
            a.attempt.to_string(),
            outcome,
            a.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            a.latency_ms
                .map(|l| l.to_string())
                .unwrap_or_else(|| "-".into()),
            format!(
                "{}{}",
                if a.test { "[test] " } else { "" },
                detail.replace('\n', " ")
            ),
        ]
    });
    crate::output::table(
        &[
            "TIME",
            "DELIVERY",
            "SUBSCRIPTION",
            "TYPE",
            "TRY",
            "OUTCOME",
            "STATUS",
            "MS",
            "ERROR / ANSWER",
        ],
        rows,
    )
}
