//! `hubhooks dlq list` and `dlq replay` over a dead-letter queue longer than
//! one hold: each pass ends, meets each letter once, and sends each
//! selected letter once (moto, the CLI's own functions).
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use hubhooks_cli::dlq::{self, Replay, Selection};
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Far more letters than one hold covers: on moto a pass over them takes
/// several times `HOLD`.
const LETTERS: usize = 1_500;
const HOLD: Duration = Duration::from_secs(1);
/// A pass that has not ended by then never will.
const BOUND: Duration = Duration::from_secs(240);

/// Fills the DLQ with `n` letters of deliveries `d-0000`…, every other one
/// of subscription `even`, the rest of `odd`.
async fn fill(s: &Stack, n: usize) {
    for chunk in (0..n).collect::<Vec<_>>().chunks(10) {
        let entries = chunk.iter().map(|i| {
            let sub = if i % 2 == 0 { "even" } else { "odd" };
            let d = hubhooks::memory::delivery(&format!("d-{i:04}"), sub, "http://127.0.0.1:9/");
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(serde_json::to_string(&d).unwrap())
                .set_message_attributes(Some(hubhooks::adapters::sqs::delivery_attributes(&d)))
                .build()
                .unwrap()
        });
        let out = s
            .sqs
            .send_message_batch()
            .queue_url(&s.stack.delivery_dlq_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
            .unwrap();
        assert!(out.failed.is_empty(), "{:?}", out.failed);
    }
}

async fn stack_with_letters() -> Stack {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    fill(&s, LETTERS).await;
    s
}

/// How many times each delivery id was met.
fn tally(ids: Vec<String>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for id in ids {
        *counts.entry(id).or_default() += 1;
    }
    counts
}

fn delivery_id(l: &dlq::Letter) -> String {
    l.delivery
        .as_ref()
        .map(|d| d.id.to_string())
        .unwrap_or_default()
}

/// Replays the delivery DLQ, as `hubhooks dlq replay` does.
async fn replay(
    s: &Stack,
    selection: Selection,
    dry_run: bool,
    progress: impl FnMut(&dlq::Letter, &dlq::ReplayReport),
) -> Result<dlq::ReplayReport, hubhooks::ports::IoError> {
    let (letters, back) = dlq::queues(
        &s.sqs,
        &s.stack.delivery_dlq_url,
        &s.stack.delivery_queue_url,
        false,
    );
    Replay {
        letters: &letters,
        back: &back,
        selection,
        dry_run,
        rate: None,
        hold: HOLD,
        policy: Default::default(),
        clock: &hubhooks::clock::SystemClock,
    }
    .run(progress)
    .await
}

#[tokio::test]
async fn a_listing_longer_than_its_hold_ends_and_shows_each_letter_once() {
    // GIVEN a DLQ that takes several holds to read
    let s = stack_with_letters().await;
    // WHEN it is listed
    let mut met = Vec::new();
    let listed = tokio::time::timeout(
        BOUND,
        dlq::list(&s.sqs, &s.stack.delivery_dlq_url, HOLD, |l| {
            met.push(delivery_id(l))
        }),
    )
    .await
    .expect("the listing ended")
    .unwrap();
    // THEN every letter was shown exactly once, and counted
    let counts = tally(met);
    assert_eq!(counts.len(), LETTERS);
    assert!(counts.values().all(|&n| n == 1), "shown twice: {counts:?}");
    assert_eq!(listed.read, LETTERS);
    // AND every letter is still there, visible again
    let left = eventually(Duration::from_secs(20), || async {
        (s.depth(&s.stack.delivery_dlq_url).await.ok()? == LETTERS as u64).then_some(())
    });
    assert!(left.await.is_some(), "the listing left the letters visible");
}

#[tokio::test]
async fn a_dry_run_longer_than_its_hold_ends_and_counts_each_letter_once() {
    let s = stack_with_letters().await;
    let mut met = Vec::new();
    let report = tokio::time::timeout(
        BOUND,
        replay(&s, Selection::default(), true, |l, _| {
            met.push(delivery_id(l))
        }),
    )
    .await
    .expect("the dry run ended")
    .unwrap();
    let counts = tally(met);
    assert_eq!((counts.len(), report.replayed), (LETTERS, LETTERS));
    assert!(
        counts.values().all(|&n| n == 1),
        "counted twice: {counts:?}"
    );
    assert_eq!(s.depth(&s.stack.delivery_queue_url).await.unwrap(), 0);
}

#[tokio::test]
async fn a_selective_replay_longer_than_its_hold_sends_each_selected_letter_once() {
    // GIVEN a long DLQ, half of it subscription `even`'s
    let s = stack_with_letters().await;
    // WHEN `even`'s letters are replayed (nothing consumes the delivery queue)
    let selection = Selection {
        subscription: Some("even".into()),
        ..Selection::default()
    };
    let report = tokio::time::timeout(BOUND, replay(&s, selection, false, |_, _| {}))
        .await
        .expect("the replay ended")
        .unwrap();
    // THEN each of `even`'s was sent once and left the DLQ; `odd`'s stayed
    assert_eq!((report.replayed, report.kept), (LETTERS / 2, LETTERS / 2));
    let sent = s.drain(&s.stack.delivery_queue_url).await.unwrap();
    let ids: Vec<String> = sent
        .iter()
        .map(|(body, _)| {
            serde_json::from_str::<serde_json::Value>(body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (LETTERS / 2, LETTERS / 2));
    let left = s.drain(&s.stack.delivery_dlq_url).await.unwrap();
    assert_eq!(left.len(), LETTERS / 2);
    assert!(
        left.iter()
            .all(|(body, _)| body.contains(r#""subscriptionId":"odd""#))
    );
}
