//! What the preflight reads: tables, mappings, config, secrets, queues,
//! alarms. Each reader turns what it found into checks.
use super::{Check, MappingFacts, MappingWant, TableFacts, judge_mapping};
use crate::aws::sdk_err;
use crate::deployment::Deployment;
use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName as Q;
use hubhooks::config::ConfigSet;
use hubhooks::ports::ConfigSource;
use hubhooks::tables::{CaseTable, SECRETS_KEY};
use std::collections::HashMap;

/// The queues keep messages 14 days (template.yaml, local provisioning).
const RETENTION: &str = "1209600";
/// Lambda's SQS batch sizes (template.yaml): 100, and 10 for FIFO.
const DELIVERY_BATCH: i32 = 100;
const ORDERED_BATCH: i32 = 10;
const STREAM_BATCH: i32 = 100;

/// Each case table (None: it does not exist), in [`CaseTable::ALL`] order.
pub async fn tables(sdk: &SdkConfig, dep: &Deployment) -> Vec<Result<Option<TableFacts>, String>> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let mut out = Vec::new();
    for table in CaseTable::ALL {
        let name = dep.tables().name(table).to_owned();
        let found = match ddb.describe_table().table_name(&name).send().await {
            Ok(d) => d.table.map(|t| {
                let types: HashMap<String, String> = t
                    .attribute_definitions()
                    .iter()
                    .map(|a| {
                        (
                            a.attribute_name().to_owned(),
                            a.attribute_type().as_str().to_owned(),
                        )
                    })
                    .collect();
                let stream = t
                    .stream_specification()
                    .filter(|s| s.stream_enabled())
                    .and_then(|s| s.stream_view_type())
                    .map(|v| v.as_str().to_owned());
                TableFacts {
                    keys: t
                        .key_schema()
                        .iter()
                        .map(|k| {
                            let n = k.attribute_name().to_owned();
                            let ty = types.get(&n).cloned().unwrap_or_default();
                            (n, k.key_type().as_str().to_owned(), ty)
                        })
                        .collect(),
                    stream_arn: stream
                        .as_ref()
                        .and(t.latest_stream_arn().map(str::to_owned)),
                    stream_view: stream,
                }
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                None
            }
            Err(e) => {
                out.push(Err(sdk_err(e).to_string()));
                continue;
            }
        };
        out.push(Ok(found));
    }
    out
}

/// The router's six stream mappings and the sender's two queue mappings.
pub async fn mappings(
    sdk: &SdkConfig,
    dep: &Deployment,
    tables: &[Result<Option<TableFacts>, String>],
) -> Vec<Check> {
    let Some(stack) = &dep.stack else {
        return vec![Check::skip(
            "event source mappings",
            "the local stack has none: `hubhooks local run` plays them",
        )];
    };
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let arn = |name: String| {
        let sqs = sqs.clone();
        async move {
            let url = dep.queue_url(&sqs, &name).await.ok()?;
            let a = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(Q::QueueArn)
                .send()
                .await
                .ok()?;
            a.attributes()?.get(&Q::QueueArn).cloned()
        }
    };
    let failures = arn(dep.router_failure_queue()).await.unwrap_or_default();
    let mut checks = Vec::new();
    match list_mappings(sdk, &stack.router_function).await {
        Err(e) => checks.push(Check::fail(
            format!("mappings of {}", stack.router_function),
            e,
            "is the stack deployed? check --stack, --region and --profile",
        )),
        Ok(found) => {
            for ((table, facts), stack_stream) in
                CaseTable::ALL.into_iter().zip(tables).zip(&stack.streams)
            {
                // The table's current stream; the stack's when it has none.
                let source = match facts {
                    Ok(Some(TableFacts {
                        stream_arn: Some(a),
                        ..
                    })) => a.as_str(),
                    _ => stack_stream.as_str(),
                };
                checks.push(judge_mapping(
                    &MappingWant {
                        what: format!("{} stream mapping", table.suffix()),
                        source,
                        batch_size: STREAM_BATCH,
                        on_failure: Some(&failures),
                    },
                    &found,
                ));
            }
        }
    }
    match list_mappings(sdk, &stack.sender_function).await {
        Err(e) => checks.push(Check::fail(
            format!("mappings of {}", stack.sender_function),
            e,
            "is the stack deployed? check --stack, --region and --profile",
        )),
        Ok(found) => {
            for (queue, batch) in [
                (dep.delivery_queue(), DELIVERY_BATCH),
                (dep.ordered_delivery_queue(), ORDERED_BATCH),
            ] {
                let source = arn(queue.clone()).await.unwrap_or_default();
                checks.push(judge_mapping(
                    &MappingWant {
                        what: format!("{queue} mapping"),
                        source: &source,
                        batch_size: batch,
                        on_failure: None,
                    },
                    &found,
                ));
            }
        }
    }
    checks
}

async fn list_mappings(sdk: &SdkConfig, function: &str) -> Result<Vec<MappingFacts>, String> {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let mut pages = lambda
        .list_event_source_mappings()
        .function_name(function)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_err(e).to_string())?;
        for m in page.event_source_mappings() {
            out.push(MappingFacts {
                source: m.event_source_arn().unwrap_or_default().to_owned(),
                state: m.state().unwrap_or_default().to_owned(),
                batch_size: m.batch_size(),
                bisect: m.bisect_batch_on_function_error(),
                report_failures: m
                    .function_response_types()
                    .iter()
                    .any(|t| t.as_str() == "ReportBatchItemFailures"),
                on_failure: m
                    .destination_config()
                    .and_then(|d| d.on_failure())
                    .and_then(|f| f.destination())
                    .map(str::to_owned),
            });
        }
    }
    Ok(out)
}

/// The config table parses; every secret a subscription names exists.
pub async fn config_and_secrets(sdk: &SdkConfig, dep: &Deployment) -> Vec<Check> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let table = dep.config_table();
    let source = hubhooks::adapters::dynamo::DynamoConfigSource::new(ddb.clone(), table.clone());
    let raw = match source.load().await {
        Ok(raw) => raw,
        Err(e) => {
            return vec![Check::fail(
                format!("config table {table}"),
                format!("cannot be read: {e}"),
                dep.hint(),
            )];
        }
    };
    let count = raw.len();
    let set = ConfigSet::from_raw(raw);
    let mut checks: Vec<Check> = set
        .errors
        .iter()
        .map(|e| {
            Check::fail(
                format!("config table {table}"),
                e.to_string(),
                "fix the item and write it again (hubhooks config put FILE), or delete it",
            )
        })
        .collect();
    if checks.is_empty() {
        checks.push(Check::ok(
            format!("config table {table}"),
            format!("{}, all parse", crate::output::plural(count, "item")),
        ));
    }
    let secrets = dep.secrets_table();
    let mut named = 0;
    let mut missing = Vec::new();
    for sub in set.subscriptions() {
        for (field, name) in sub.secret_names() {
            named += 1;
            let found = ddb
                .get_item()
                .table_name(&secrets)
                .key(
                    SECRETS_KEY,
                    aws_sdk_dynamodb::types::AttributeValue::S(name.to_owned()),
                )
                .send()
                .await;
            match found {
                Ok(r) if r.item.is_some() => {}
                Ok(_) => missing.push(Check::fail(
                    format!("secret {name}"),
                    format!(
                        "subscription {} names it ({field}); {secrets} has no such secret",
                        sub.id
                    ),
                    format!("hubhooks secret put {name} < value-file"),
                )),
                Err(e) => missing.push(Check::fail(
                    format!("secret {name}"),
                    format!("cannot be read from {secrets}: {}", sdk_err(e)),
                    dep.hint(),
                )),
            }
        }
    }
    if missing.is_empty() {
        checks.push(Check::ok(
            format!("secrets table {secrets}"),
            format!(
                "all {} the subscriptions name exist",
                crate::output::plural(named, "secret")
            ),
        ));
    }
    checks.extend(missing);
    checks
}

/// Redrive, FIFO and retention of every queue; visibility against the
/// sender's timeout on a stack.
pub async fn queues(sdk: &SdkConfig, dep: &Deployment) -> Vec<Check> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut attrs = HashMap::new();
    let mut checks = Vec::new();
    for name in [
        dep.delivery_queue(),
        dep.dead_letter_queue(),
        dep.ordered_delivery_queue(),
        dep.ordered_dead_letter_queue(),
        dep.router_failure_queue(),
    ] {
        let got = match dep.queue_url(&sqs, &name).await {
            Ok(url) => sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(Q::All)
                .send()
                .await
                .map_err(|e| format!("{:#}", sdk_err(e))),
            Err(e) => Err(format!("{e:#}")),
        };
        match got {
            Ok(a) => {
                attrs.insert(name, a.attributes.unwrap_or_default());
            }
            Err(e) => checks.push(Check::fail(format!("queue {name}"), e, dep.hint())),
        }
    }
    let sender_timeout = match &dep.stack {
        Some(s) => aws_sdk_lambda::Client::new(sdk)
            .get_function_configuration()
            .function_name(&s.sender_function)
            .send()
            .await
            .ok()
            .and_then(|c| c.timeout),
        None => None,
    };
    let arn_of = |q: &str| attrs.get(q).and_then(|a| a.get(&Q::QueueArn)).cloned();
    for (queue, dlq) in [
        (dep.delivery_queue(), Some(dep.dead_letter_queue())),
        (dep.dead_letter_queue(), None),
        (
            dep.ordered_delivery_queue(),
            Some(dep.ordered_dead_letter_queue()),
        ),
        (dep.ordered_dead_letter_queue(), None),
        (dep.router_failure_queue(), None),
    ] {
        let Some(a) = attrs.get(&queue) else { continue };
        let mut wrong = Vec::new();
        let get = |k: &Q| a.get(k).map(String::as_str).unwrap_or("");
        if get(&Q::MessageRetentionPeriod) != RETENTION {
            wrong.push(format!(
                "retention {} s, not {RETENTION} (14 days)",
                get(&Q::MessageRetentionPeriod)
            ));
        }
        if queue.ends_with(".fifo") && get(&Q::FifoQueue) != "true" {
            wrong.push("not FIFO".into());
        }
        if let Some(dlq) = &dlq {
            let redrive: serde_json::Value =
                serde_json::from_str(get(&Q::RedrivePolicy)).unwrap_or_default();
            let target = redrive["deadLetterTargetArn"].as_str();
            if target.is_none() || target.map(str::to_owned) != arn_of(dlq) {
                wrong.push(format!("redrive goes to {target:?}, not {dlq}"));
            }
            let receives = redrive["maxReceiveCount"]
                .as_u64()
                .or_else(|| redrive["maxReceiveCount"].as_str()?.parse().ok());
            if receives.is_none_or(|n| n <= u64::from(hubhooks::config::MAX_ATTEMPTS_LIMIT)) {
                wrong.push(format!(
                    "maxReceiveCount {receives:?}: must stay above any maxAttempts ({})",
                    hubhooks::config::MAX_ATTEMPTS_LIMIT
                ));
            }
            if let Some(timeout) = sender_timeout {
                let visibility: i32 = get(&Q::VisibilityTimeout).parse().unwrap_or(0);
                if visibility < 6 * timeout {
                    wrong.push(format!(
                        "visibility {visibility} s, below six times the sender's timeout ({timeout} s)"
                    ));
                }
            }
        }
        checks.push(if wrong.is_empty() {
            Check::ok(
                format!("queue {queue}"),
                match &dlq {
                    Some(d) => format!("redrive to {d}, retention 14 days"),
                    None => "retention 14 days".to_owned(),
                },
            )
        } else {
            Check::fail(
                format!("queue {queue}"),
                wrong.join("; "),
                "redeploy the stack (sam deploy)",
            )
        });
    }
    checks
}

/// Every alarm of the stack notifies a topic.
pub async fn alarms(sdk: &SdkConfig, dep: &Deployment) -> Check {
    let Some(stack) = &dep.stack else {
        return Check::skip("alarms", "the local stack has none");
    };
    let what = "alarms";
    let Some(topic) = &stack.alarm_topic else {
        return Check::fail(
            what,
            "the stack's alarms notify nobody (AlarmTopicArn is empty)",
            "sam deploy --parameter-overrides AlarmTopicArn=arn:aws:sns:REGION:ACCOUNT:TOPIC",
        );
    };
    // The alarms notify the stack's AlarmTopicArn (template.yaml); the topic
    // must exist. (Their actions are not read back: moto answers
    // CloudWatch's CBOR protocol, which the SDK speaks, with XML, and lists
    // a stack's alarms without their type.)
    let sns = aws_sdk_sns::Client::new(sdk);
    match sns.get_topic_attributes().topic_arn(topic).send().await {
        Ok(_) => Check::ok(what, format!("the stack's alarms notify {topic}")),
        Err(e) => Check::fail(
            what,
            format!(
                "the alarms notify {topic}, which cannot be read: {:#}",
                sdk_err(e)
            ),
            "create the topic, or redeploy with AlarmTopicArn naming one that exists",
        ),
    }
}
