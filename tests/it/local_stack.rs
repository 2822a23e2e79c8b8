//! The local stack stands in for AWS in every count the other tests make.
//! Where moto differs from the service in a way that changes a count, the
//! local stack's server corrects it (scripts/moto_server.py), held to
//! account here.
use aws_sdk_sqs::types::{
    DeleteMessageBatchRequestEntry, QueueAttributeName, SendMessageBatchRequestEntry,
};
use hubhooks_cli::provision::QueueSettings;
use hubhooks_tests::*;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const POLLERS: usize = 16;
const BATCHES: usize = 150;

#[tokio::test]
async fn concurrent_long_polls_never_receive_one_message_twice() {
    // GIVEN 16 receivers long-polling a queue, each deleting what it got as
    // the runner does (visibility 10 minutes: a message received twice is
    // a duplicate, not a redelivery)
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let url = s
        .sqs
        .create_queue()
        .queue_name("pollers")
        .attributes(QueueAttributeName::VisibilityTimeout, "600")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
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
    let twice: Vec<_> = got.windows(2).filter(|w| w[0] == w[1]).collect();
    assert!(twice.is_empty(), "received more than once: {twice:?}");
    assert_eq!(got, sent);
}
