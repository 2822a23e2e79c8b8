//! The attempt log read back: by case, by subscription, by delivery, or the
//! failures of a recent period (`hubhooks attempts`).
use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::types::AttributeValue;
use hubhooks::attempt::AttemptRecord;
use hubhooks::tables::attempt_log as l;
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

/// How far back a search looks when no `--since` is given.
pub const DEFAULT_SEARCH_DAYS: i64 = 7;

/// How long one sender batch can take (Lambda's longest run): a page holds
/// records up to this long after the one it sorts by.
pub const LONGEST_BATCH: chrono::Duration = chrono::Duration::minutes(15);

/// Attempts matching `filter` (and newer than `since`), oldest first.
///
/// A subscription's attempts are on its pages and on the mixed pages of the
/// days searched; failures have their own partitions by day; a case's or a
/// delivery's attempts are found on the pages of the subscriptions the
/// directory lists for the days searched and on those days' mixed pages
/// (see `hubhooks::tables::attempt_log`).
pub async fn query(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    filter: &Filter,
    since: Option<chrono::Duration>,
) -> Result<Vec<AttemptRecord>> {
    let now = chrono::Utc::now();
    let from = now - since.unwrap_or(chrono::Duration::days(DEFAULT_SEARCH_DAYS));
    // Pages begun up to a batch's length before `from` may hold later records.
    let from_sk = Timestamp(from - LONGEST_BATCH).to_contract_string();
    let days = days(from - LONGEST_BATCH, now);
    let matches = |a: &AttemptRecord| match filter {
        Filter::Subscription(s) => a.subscription_id.as_str() == s,
        Filter::Case(g) => a.case_guid.as_str() == g,
        Filter::Delivery(d) => a.delivery_id.as_str() == d,
        Filter::Failed => a.outcome.is_failure(),
    };
    let mut out: Vec<AttemptRecord> = match filter {
        Filter::Failed => {
            let mut found = Vec::new();
            for day in &days {
                for shard in 0..l::SHARDS {
                    for item in partition(
                        ddb,
                        table,
                        &l::failure_partition(day, shard),
                        &from_sk,
                        None,
                    )
                    .await?
                    {
                        if let Some(a) = item.get(l::ATTEMPT) {
                            found.push(record(a.clone())?);
                        }
                    }
                }
            }
            found
        }
        Filter::Subscription(_) | Filter::Case(_) | Filter::Delivery(_) => {
            // The subscriptions whose own pages to read: the one asked for,
            // or those the directory lists for the days searched.
            let subscriptions: Vec<String> = match filter {
                Filter::Subscription(s) => vec![s.clone()],
                _ => {
                    let mut listed = std::collections::BTreeSet::new();
                    for day in &days {
                        let dir = l::directory_partition(day);
                        for item in partition(ddb, table, &dir, "", None).await? {
                            if let Some(AttributeValue::S(s)) = item.get(l::SORT_KEY) {
                                listed.insert(s.clone());
                            }
                        }
                    }
                    listed.into_iter().collect()
                }
            };
            let own = pages(ddb, table, &subscriptions, &from_sk, None).await?;
            let shared = mixed(ddb, table, &days, &from_sk, None).await?;
            own.into_iter().chain(shared).map(|(r, _)| r).collect()
        }
    };
    out.retain(|a| a.at.0 >= from && matches(a));
    out.sort_by_key(|a: &AttemptRecord| (a.at, a.attempt));
    Ok(out)
}

/// The days (`YYYY-MM-DD`) from `from`'s to `to`'s, both included.
fn days(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let (mut day, last) = (from.date_naive(), to.date_naive());
    let mut days = Vec::new();
    loop {
        days.push(day.format("%Y-%m-%d").to_string());
        match day.succ_opt() {
            Some(next) if day < last => day = next,
            _ => break,
        }
    }
    days
}

/// The records, with their envelopes, on the own pages of `subscriptions`
/// begun in `[from_sk, to_sk]`.
async fn pages(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    subscriptions: &[String],
    from_sk: &str,
    to_sk: Option<&str>,
) -> Result<Pairs> {
    let mut found = Vec::new();
    for s in subscriptions {
        for shard in 0..l::SHARDS {
            let pk = l::page_partition(s, shard);
            for item in partition(ddb, table, &pk, from_sk, to_sk).await? {
                found.extend(page(&pk, &item)?);
            }
        }
    }
    Ok(found)
}

/// The records, with their envelopes, on the mixed pages of `days` begun
/// in `[from_sk, to_sk]`.
async fn mixed(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    days: &[String],
    from_sk: &str,
    to_sk: Option<&str>,
) -> Result<Pairs> {
    let mut found = Vec::new();
    for day in days {
        for shard in 0..l::SHARDS {
            let pk = l::mixed_partition(day, shard);
            for item in partition(ddb, table, &pk, from_sk, to_sk).await? {
                found.extend(page(&pk, &item)?);
            }
        }
    }
    Ok(found)
}

/// A subscription's attempts on pages begun in `[from_sk, to_sk]` (its
/// own and the mixed pages of those days), each with the envelope its page
/// kept (none on pages written without them).
pub async fn logged(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    subscription: &str,
    from_sk: &str,
    to_sk: &str,
) -> Result<Pairs> {
    let mut found = pages(ddb, table, &[subscription.to_owned()], from_sk, Some(to_sk)).await?;
    let now = chrono::Utc::now();
    let span = (
        day_start(from_sk).unwrap_or(now),
        day_start(to_sk).unwrap_or(now),
    );
    let shared = mixed(ddb, table, &days(span.0, span.1), from_sk, Some(to_sk)).await?;
    found.extend(
        shared
            .into_iter()
            .filter(|(r, _)| r.subscription_id.as_str() == subscription),
    );
    Ok(found)
}

/// Midnight (UTC) of the day a sort key or timestamp begins with.
fn day_start(sk: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let day = chrono::NaiveDate::parse_from_str(l::day(sk), "%Y-%m-%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc())
}

/// Attempt records, each with the envelope of its delivery if kept.
pub type Pairs = Vec<(AttemptRecord, Option<hubhooks::delivery::Delivery>)>;

/// A page's records with their envelopes: the packed `page` form, or the
/// `attempts` list and `deliveries` of pages written before it. Errors
/// name the page.
fn page(pk: &str, item: &std::collections::HashMap<String, AttributeValue>) -> Result<Pairs> {
    let sk = match item.get(l::SORT_KEY) {
        Some(AttributeValue::S(sk)) => sk.as_str(),
        _ => "",
    };
    if let Some(AttributeValue::B(blob)) = item.get(l::PAGE) {
        return Ok(hubhooks::attempt_page::unpack(blob.as_ref())
            .with_context(|| format!("reading page {pk} {sk}"))?
            .into_pairs());
    }
    let envelopes = match item.get(l::ENVELOPES) {
        Some(AttributeValue::B(blob)) => hubhooks::attempt_page::unpack_envelopes(blob.as_ref())
            .with_context(|| format!("reading the envelopes of page {pk} {sk}"))?,
        _ => Vec::new(),
    };
    let Some(AttributeValue::L(list)) = item.get(l::ATTEMPTS) else {
        return Ok(Vec::new());
    };
    let attempts = list
        .iter()
        .map(|a| record(a.clone()).with_context(|| format!("reading page {pk} {sk}")))
        .collect::<Result<_>>()?;
    Ok(hubhooks::attempt_page::Contents {
        attempts,
        deliveries: envelopes,
    }
    .into_pairs())
}

fn record(value: AttributeValue) -> Result<AttemptRecord> {
    match value {
        AttributeValue::M(item) => serde_dynamo::from_item(item).context("reading an attempt"),
        other => anyhow::bail!("an attempt that is not a map: {other:?}"),
    }
}

/// Every item of partition `pk` whose sort key is at least `from_sk` (any,
/// when empty) and at most `to_sk` (if given).
async fn partition(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    pk: &str,
    from_sk: &str,
    to_sk: Option<&str>,
) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>> {
    let mut req = ddb
        .query()
        .table_name(table)
        .expression_attribute_names("#pk", l::PARTITION_KEY)
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()));
    let condition = match (from_sk.is_empty(), to_sk) {
        (true, None) => "#pk = :pk",
        (false, None) => "#pk = :pk AND #sk >= :from",
        (true, Some(_)) => "#pk = :pk AND #sk <= :to",
        (false, Some(_)) => "#pk = :pk AND #sk BETWEEN :from AND :to",
    };
    req = req.key_condition_expression(condition);
    if condition.contains("#sk") {
        req = req.expression_attribute_names("#sk", l::SORT_KEY);
    }
    if !from_sk.is_empty() {
        req = req.expression_attribute_values(":from", AttributeValue::S(from_sk.to_owned()));
    }
    if let Some(to) = to_sk {
        req = req.expression_attribute_values(":to", AttributeValue::S(to.to_owned()));
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page
            .map_err(crate::aws::sdk_err)
            .with_context(|| format!("querying {table} ({pk})"))?;
        out.extend(page.items.unwrap_or_default());
    }
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
