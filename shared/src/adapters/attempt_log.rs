//! The attempt log read back (`tables::attempt_log` says how it is kept;
//! `dynamo::DynamoAttemptLog` writes it): a subscription's, a case's or a
//! delivery's attempts, or the failures of a recent period, with the
//! envelopes the pages kept. Pages of every form written are read.
use crate::attempt::AttemptRecord;
use crate::ports::IoError;
use crate::tables::attempt_log as l;
use crate::timestamp::Timestamp;
use aws_sdk_dynamodb::types::AttributeValue;

pub use crate::attempt::{DEFAULT_SEARCH_DAYS, Filter};

/// How long one sender batch can take (Lambda's longest run): a page holds
/// records up to this long after the one it sorts by.
pub const LONGEST_BATCH: chrono::Duration = chrono::Duration::minutes(15);

/// Attempts matching `filter` (and newer than `since`), oldest first.
///
/// A subscription's attempts are on its pages and on the mixed pages of the
/// days searched; failures have their own partitions by day; a case's or a
/// delivery's attempts are found on the pages of the subscriptions the
/// directory lists for the days searched and on those days' mixed pages
/// (see `tables::attempt_log`).
pub async fn query(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    filter: &Filter,
    since: Option<chrono::Duration>,
) -> Result<Vec<AttemptRecord>, IoError> {
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
                            let failed = record(a.clone()).map_err(|e| {
                                IoError::new(format!("reading failure partition {day}"), e)
                            })?;
                            found.push(failed);
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
) -> Result<Pairs, IoError> {
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
) -> Result<Pairs, IoError> {
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
) -> Result<Pairs, IoError> {
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
pub type Pairs = Vec<(AttemptRecord, Option<crate::delivery::Delivery>)>;

/// A page's records with their envelopes: the packed `page` form, or the
/// `attempts` list and `deliveries` of pages written before it. Errors
/// name the page.
fn page(
    pk: &str,
    item: &std::collections::HashMap<String, AttributeValue>,
) -> Result<Pairs, IoError> {
    let sk = match item.get(l::SORT_KEY) {
        Some(AttributeValue::S(sk)) => sk.as_str(),
        _ => "",
    };
    if let Some(AttributeValue::B(blob)) = item.get(l::PAGE) {
        return Ok(crate::attempt_page::unpack(blob.as_ref())
            .map_err(|e| IoError::new(format!("reading page {pk} {sk}"), e))?
            .into_pairs());
    }
    let envelopes = match item.get(l::ENVELOPES) {
        Some(AttributeValue::B(blob)) => crate::attempt_page::unpack_envelopes(blob.as_ref())
            .map_err(|e| IoError::new(format!("reading the envelopes of page {pk} {sk}"), e))?,
        _ => Vec::new(),
    };
    let Some(AttributeValue::L(list)) = item.get(l::ATTEMPTS) else {
        return Ok(Vec::new());
    };
    let attempts = list
        .iter()
        .map(|a| record(a.clone()).map_err(|e| IoError::new(format!("reading page {pk} {sk}"), e)))
        .collect::<Result<_, _>>()?;
    Ok(crate::attempt_page::Contents {
        attempts,
        deliveries: envelopes,
    }
    .into_pairs())
}

fn record(value: AttributeValue) -> Result<AttemptRecord, String> {
    match value {
        AttributeValue::M(item) => serde_dynamo::from_item(item)
            .map_err(|e| format!("an attempt that cannot be read: {e}")),
        other => Err(format!("an attempt that is not a map: {other:?}")),
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
) -> Result<Vec<std::collections::HashMap<String, AttributeValue>>, IoError> {
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
        let page = page.map_err(|e| super::sdk_error(format!("Query {table} ({pk})"), e))?;
        out.extend(page.items.unwrap_or_default());
    }
    Ok(out)
}

/// The attempt log read back, as a port (the management API's).
pub struct DynamoAttemptSearch {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAttemptSearch {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        DynamoAttemptSearch { client, table }
    }
}

#[async_trait::async_trait]
impl crate::ports::AttemptSearch for DynamoAttemptSearch {
    async fn attempts(
        &self,
        filter: &Filter,
        since: chrono::Duration,
    ) -> Result<Vec<AttemptRecord>, IoError> {
        query(&self.client, &self.table, filter, Some(since)).await
    }

    async fn logged(
        &self,
        subscription: &str,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Pairs, IoError> {
        let from_sk = Timestamp(since.0 - LONGEST_BATCH).to_contract_string();
        // Every sort key of a page begun by `until` sorts before this.
        let to_sk = format!("{}~", until.to_contract_string());
        logged(&self.client, &self.table, subscription, &from_sk, &to_sk).await
    }
}
