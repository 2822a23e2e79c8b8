//! The local stack stands in for AWS in every count the other tests make.
//! Where moto differs from the service in a way that changes a count, the
//! local stack's server corrects it (scripts/moto_server.py), held to
//! account here.
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, SendMessageBatchRequestEntry};
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const POLLERS: usize = 16;
const BATCHES: usize = 150;

#[tokio::test]
async fn concurrent_long_polls_never_receive_one_message_twice() {
    // GIVEN 16 receivers long-polling the delivery queue, each deleting what it got as
    // the runner does (visibility 10 minutes: a message received twice is
    // a duplicate, not a redelivery)
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 600,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    let url = s.stack.delivery_queue_url.clone();
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let pollers: Vec<_> = (0..POLLERS)
        .map(|_| {
            let (sqs, url, received) = (s.sqs.clone(), url.clone(), received.clone());
            tokio::spawn(async move {
                loop {
                    let out = sqs
                        .receive_message()
                        .queue_url(&url)
                        .max_number_of_messages(10)
                        .wait_time_seconds(1)
                        .send()
                        .await
                        .unwrap();
                    let messages = out.messages.unwrap_or_default();
                    if messages.is_empty() {
                        continue;
                    }
                    let done = messages.iter().enumerate().map(|(i, m)| {
                        DeleteMessageBatchRequestEntry::builder()
                            .id(i.to_string())
                            .set_receipt_handle(m.receipt_handle.clone())
                            .build()
                            .unwrap()
                    });
                    sqs.delete_message_batch()
                        .queue_url(&url)
                        .set_entries(Some(done.collect()))
                        .send()
                        .await
                        .unwrap();
                    received
                        .lock()
                        .unwrap()
                        .extend(messages.into_iter().filter_map(|m| m.body));
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // WHEN 150 batches of 10 are sent 10 ms apart: each wakes every
    // waiting poller (plain moto received 2–6 twice in each of 5 runs)
    let mut sent = Vec::new();
    let t0 = std::time::Instant::now();
    for b in 0..BATCHES {
        let entries = (0..10).map(|i| {
            let body = format!("m{:04}", b * 10 + i);
            sent.push(body.clone());
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .build()
                .unwrap()
        });
        s.sqs
            .send_message_batch()
            .queue_url(&url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // THEN once all arrived (at most a minute), each was received exactly once
    for _ in 0..600 {
        if received.lock().unwrap().len() >= sent.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await; // polls in flight
    eprintln!("{} messages received in {:?}", sent.len(), t0.elapsed());
    pollers.iter().for_each(|p| p.abort());
    let mut got = received.lock().unwrap().clone();
    got.sort();
    assert_eq!(
        repeated(&got),
        Vec::<&String>::new(),
        "received more than once"
    );
    assert_eq!(got, sent);
}

/// Adds per writer, and items each writer races to create.
const ROUNDS: usize = 60;

#[tokio::test]
async fn concurrent_writes_to_one_item_are_atomic() {
    use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
    use hubhooks::tables::attempt_log as l;
    // GIVEN the attempt-log table, where the senders count deliveries per
    // second (moto applies an update as read, change, write)
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let table = s.stack.attempt_log_table.clone();
    let key = |pk: String| {
        [
            (l::PARTITION_KEY.to_owned(), AttributeValue::S(pk)),
            (l::SORT_KEY.to_owned(), AttributeValue::S("test".into())),
        ]
        .into()
    };
    // The counter carries a list of 2,000 numbers: moto copies the item
    // on each update, which stretches its unlocked read-change-write over
    // several of Python's thread switches even on an idle machine.
    s.ddb
        .put_item()
        .table_name(&table)
        .set_item(Some(key("counter".into())))
        .item(
            "pad",
            AttributeValue::L(
                (0..2000)
                    .map(|i| AttributeValue::N(i.to_string()))
                    .collect(),
            ),
        )
        .send()
        .await
        .unwrap();
    // WHEN 16 writers each add 1 to one counter 60 times (as the senders
    // count a subscription's deliveries per second), then race to create 60
    // items, each only if it is absent (as the notices claim a disabling)
    let adders: Vec<_> = (0..POLLERS)
        .map(|_| {
            let (ddb, table) = (s.ddb.clone(), table.clone());
            tokio::spawn(async move {
                let mut counts = Vec::new();
                for _ in 0..ROUNDS {
                    let out = ddb
                        .update_item()
                        .table_name(&table)
                        .set_key(Some(key("counter".into())))
                        .update_expression("ADD #n :one")
                        .expression_attribute_names("#n", "n")
                        .expression_attribute_values(":one", AttributeValue::N("1".into()))
                        .return_values(ReturnValue::UpdatedNew)
                        .send()
                        .await
                        .unwrap();
                    let n = out.attributes.unwrap()["n"]
                        .as_n()
                        .unwrap()
                        .parse::<usize>();
                    counts.push(n.unwrap());
                }
                counts
            })
        })
        .collect();
    let mut counts = Vec::new();
    for a in adders {
        counts.extend(a.await.unwrap());
    }
    let creators: Vec<_> = (0..POLLERS)
        .map(|w| {
            let (ddb, table) = (s.ddb.clone(), table.clone());
            tokio::spawn(async move {
                let mut created = Vec::new();
                for r in 0..ROUNDS {
                    let put = ddb
                        .put_item()
                        .table_name(&table)
                        .set_item(Some(key(format!("item{r}"))))
                        .item("by", AttributeValue::N(w.to_string()))
                        .condition_expression("attribute_not_exists(#k)")
                        .expression_attribute_names("#k", l::PARTITION_KEY)
                        .send()
                        .await;
                    if put.is_ok() {
                        created.push(r);
                    }
                }
                created
            })
        })
        .collect();
    let mut created = Vec::new();
    for c in creators {
        created.extend(c.await.unwrap());
    }
    // THEN every addition counted, and each writer saw a count of its own
    counts.sort();
    assert_eq!(repeated(&counts), Vec::<&usize>::new(), "counts seen twice");
    assert_eq!(counts, (1..=POLLERS * ROUNDS).collect::<Vec<_>>());
    // AND each item was created by exactly one writer
    created.sort();
    assert_eq!(created, (0..ROUNDS).collect::<Vec<_>>());
}

/// The values a sorted list holds more than once (once for each repeat).
fn repeated<T: PartialEq>(sorted: &[T]) -> Vec<&T> {
    sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| &w[1])
        .collect()
}
