//! `make chaos`: about 10,000 webhooks through the local stack (moto, the
//! real router and sender in the local runner) against receivers that
//! fail in every way we know, a broker outage, poison records, an invalid
//! config item, a 300 KiB case and escape-heavy statuses; then the fix
//! (receivers back, the disabled subscription enabled, the refused URL
//! corrected) and a replay of the DLQ. Prints written / delivered / via
//! replay / duplicates / lost and the signatures verified by the
//! `standardwebhooks` crate; exits 1 if anything was lost, a signature
//! failed, or one webhook arrived under two ids. Bounded: `CHAOS_MINUTES`
//! (default 20) for the whole run.
mod receiver;

use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::{RunnerOptions, Stack};
use receiver::{Key, Receivers};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const PARTNER: i64 = 1413;
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const BROKER: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
const AMQP_QUEUE: &str = "hubhooks-chaos";
/// Receivers, each a failure mode; `refused` starts on a closed port.
const HTTP: [(&str, u32); 9] = [
    ("ok", 20),
    ("flaky500", 20),
    ("429", 20),
    ("slow", 20),
    ("timeout", 20),
    ("reset", 20),
    ("gone", 20),
    ("down", 2),
    ("refused", 2),
];
const CASES: i64 = 20;
const STATUSES_PER_CASE: i64 = 50;
const POISON: i64 = 10;
const SUBSCRIPTIONS: usize = HTTP.len() + 1;

fn guid(case: i64) -> String {
    format!("00000000-0000-4000-8000-{case:012}")
}

fn subscription(id: &str, url: &str, max_attempts: u32) -> Value {
    json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
           "eventTypes": ["newStatus"], "maxAttempts": max_attempts,
           "destination": {"method": "POST", "url": url, "timeoutMs": 1000},
           "auth": {"signingSecret": "chaos-signing"}})
}

fn status(case: i64, n: i64, name: String) -> Value {
    json!({"caseId": case, "id": n, "guid": guid(case), "key": format!("k{n}"), "name": name,
           "createdAt": format!("2026-12-04T{:02}:{:02}:{:02}.000Z", n / 3600 % 24, n / 60 % 60, n % 60)})
}

/// Quotes, backslashes, control characters, markup and astral characters:
/// each costs escapes in every JSON layer it passes.
fn escape_heavy() -> String {
    "\"\\\n\t\u{1}<tag attr=\"x\">&amp;é😀\u{2028}".repeat(150)
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let minutes: u64 = std::env::var("CHAOS_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(20);
    let deadline = Instant::now() + Duration::from_secs(minutes * 60);
    let started = Instant::now();
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 5,
        ..QueueSettings::default()
    })
    .await?;
    let rx = Receivers::start(SECRET).await;
    let mut config = set_up(&s, &rx).await?;
    let _runner = s
        .run_with(RunnerOptions {
            queue_pollers: 4,
            // Streaks have their own tests; here a streak's disable would stop
            // the router making the webhooks this run counts.
            failure_streak: Duration::from_secs(3600),
            ..RunnerOptions::default()
        })
        .await?;
    rx.gone_at
        .store(CASES * STATUSES_PER_CASE + 3, Ordering::SeqCst);
    let expected = write_statuses(&s).await?;
    let written_at = started.elapsed();
    settle(&s, deadline).await;
    let first_phase = started.elapsed();
    let (in_dlq, replay) = fix_and_replay(&s, &rx, &mut config).await?;
    settle(&s, deadline).await;
    amqp_drain(&rx).await?;
    let poison = s.depth(&s.stack.router_failure_queue_url).await?;
    let left = s.depth(&s.stack.delivery_dlq_url).await?;
    println!(
        "chaos: {} webhooks written ({} statuses × {} subscriptions), {POISON} poison records, 1 invalid config item",
        expected.len(),
        expected.len() / SUBSCRIPTIONS,
        SUBSCRIPTIONS
    );
    println!(
        "  written in {:.0} s, first phase settled at {:.0} s, total {:.0} s",
        written_at.as_secs_f64(),
        first_phase.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "  dead-lettered {in_dlq}, replayed {} (came back {})",
        replay.replayed, replay.came_back
    );
    for (why, n) in &replay.came_back_why {
        println!("    came back: {n} × {why}");
    }
    println!("  poison records dead-lettered by the router {poison}, left in the DLQ {left}");
    let ok = report(&rx, &expected) && poison == POISON as u64;
    if Instant::now() > deadline {
        println!("chaos: stopped at the {minutes}-minute bound");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Secrets, the broker's queue, the subscriptions (returned), an invalid
/// config item written past `config put`, the cases.
async fn set_up(s: &Stack, rx: &Receivers) -> anyhow::Result<Vec<Value>> {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    s.put_secret("chaos-signing", &[SECRET]).await?;
    s.put_secret("chaos-broker", &[BROKER]).await?;
    amqp_queue(true).await?;
    let mut config: Vec<Value> = HTTP
        .iter()
        .map(|(mode, attempts)| {
            let url = if *mode == "refused" {
                format!("http://127.0.0.1:{closed}/refused")
            } else {
                rx.url(mode)
            };
            subscription(mode, &url, *attempts)
        })
        .collect();
    config.push(json!({"id": "amqp", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
        "eventTypes": ["newStatus"], "maxAttempts": 20, "auth": {"signingSecret": "chaos-signing"},
        "destination": {"transport": "amqp", "uriSecret": "chaos-broker", "routingKey": AMQP_QUEUE}}));
    s.put_config(&config).await?;
    // The rest must flow past it.
    hubhooks_cli::config::put_json(&s.ddb, &s.stack.tables.config, &json!({"id": "broken",
        "kind": "subscription", "party": {"type": "partner", "id": PARTNER}, "eventTypes": ["newStatus"],
        "destination": {"method": "POST", "url": "ftp://nowhere"}})).await?;
    for case in 0..=CASES {
        let mut c = json!({"guid": guid(case), "id": case, "partnerId": PARTNER, "serviceProviderId": 1004});
        if case == CASES {
            c["orderData"] = json!({"notes": "x".repeat(300 * 1024)});
        }
        s.put_case(&c).await?;
    }
    Ok(config)
}

/// Every status, the broker stopped for a while in the middle, then the
/// poison records; returns the webhooks that must arrive.
async fn write_statuses(s: &Stack) -> anyhow::Result<BTreeSet<Key>> {
    let mut expected: BTreeSet<Key> = BTreeSet::new();
    let subs: Vec<&str> = HTTP.iter().map(|(m, _)| *m).chain(["amqp"]).collect();
    let mut n = 0;
    for round in 0..STATUSES_PER_CASE {
        if round == STATUSES_PER_CASE / 3 {
            rabbitmqctl("stop_app");
        }
        if round == STATUSES_PER_CASE / 3 + 5 {
            rabbitmqctl("start_app");
        }
        // The 300 KiB case gets three statuses, every body offloaded.
        for case in 0..=CASES {
            if case == CASES && round >= 3 {
                continue;
            }
            n += 1;
            let name = if n % 10 == 0 {
                escape_heavy()
            } else {
                format!("status {n}")
            };
            s.put_status(&status(case, n, name)).await?;
            expected.extend(subs.iter().map(|sub| (sub.to_string(), n)));
        }
    }
    for p in 0..POISON {
        let mut bad = status(p % CASES, 900_000 + p, "poison".into());
        bad["key"] = json!({"not": "a key"});
        bad["createdAt"] = json!(5);
        s.put_status(&bad).await?;
    }
    Ok(expected)
}

/// The fix (receivers back, disabled subscriptions enabled, the refused
/// URL corrected), then the DLQ replayed: what was in it, and the replay.
async fn fix_and_replay(
    s: &Stack,
    rx: &Receivers,
    config: &mut [Value],
) -> anyhow::Result<(u64, hubhooks_cli::dlq::ReplayReport)> {
    rx.fixed.store(true, Ordering::SeqCst);
    // A 410, or a failure streak past its limit, disabled these.
    for id in ["gone", "down", "refused"] {
        hubhooks_cli::items::set_enabled(&s.ddb, &s.stack.tables.config, id, true, None).await?;
    }
    config[8] = subscription("refused", &rx.url("refused"), 2);
    s.put_config(&config[8..9]).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let in_dlq = s.depth(&s.stack.delivery_dlq_url).await?;
    let (letters, back) = hubhooks_cli::dlq::queues(
        &s.sqs,
        &s.stack.delivery_dlq_url,
        &s.stack.delivery_queue_url,
        false,
    );
    let replay = hubhooks_cli::dlq::Replay {
        letters: &letters,
        back: &back,
        selection: Default::default(),
        dry_run: false,
        rate: None,
        hold: Duration::from_secs(60),
        policy: Default::default(),
        clock: &hubhooks::clock::SystemClock,
    }
    .run(|_, _| {})
    .await?;
    Ok((in_dlq, replay))
}

/// Prints what the receivers counted; true when nothing was lost, no
/// signature failed and no webhook came under two ids.
fn report(rx: &Receivers, expected: &BTreeSet<Key>) -> bool {
    let t = rx.tally.lock().unwrap_or_else(|e| e.into_inner());
    let delivered = t.accepted.keys().filter(|k| expected.contains(*k)).count();
    let via_replay = t.after_fix.iter().filter(|k| expected.contains(*k)).count();
    let lost: Vec<&Key> = expected
        .iter()
        .filter(|k| !t.accepted.contains_key(*k))
        .collect();
    let unexpected: Vec<&Key> = t
        .accepted
        .keys()
        .filter(|k| !expected.contains(*k))
        .collect();
    let twice = t.accepted.values().filter(|(_, n)| *n > 1).count();
    let two_ids = t.accepted.values().filter(|(ids, _)| ids.len() > 1).count();
    println!(
        "  requests {} (failed on purpose {})",
        t.requests, t.failed_on_purpose
    );
    println!(
        "  delivered {delivered}: in the first phase {}, after the fix (the replay) {via_replay}",
        delivered - via_replay
    );
    println!("  duplicates {twice} (same webhook-id; under two ids: {two_ids})");
    println!("  lost {}, unexpected {}", lost.len(), unexpected.len());
    if !lost.is_empty() || !unexpected.is_empty() {
        let (l, u) = (
            &lost[..lost.len().min(5)],
            &unexpected[..unexpected.len().min(5)],
        );
        println!("  e.g. lost {l:?}, unexpected {u:?}");
    }
    println!(
        "  signatures checked with standardwebhooks: {} ok, {} failed",
        t.signatures_ok, t.signatures_bad
    );
    lost.is_empty() && unexpected.is_empty() && t.signatures_bad == 0 && two_ids == 0
}

/// Waits until the delivery queues hold nothing, visible or in flight,
/// for 5 s in a row.
async fn settle(s: &Stack, deadline: Instant) {
    let mut quiet = 0;
    while quiet < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut busy = 0;
        for url in [&s.stack.delivery_queue_url, &s.stack.ordered_queue_url] {
            busy += in_queue(s, url).await;
        }
        quiet = if busy == 0 { quiet + 1 } else { 0 };
    }
}

async fn in_queue(s: &Stack, url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let Ok(out) = s
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
    else {
        return 1;
    };
    out.attributes()
        .map(|a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
        .unwrap_or(1)
}

fn rabbitmqctl(what: &str) {
    let done = std::process::Command::new("rabbitmqctl")
        .arg(what)
        .stdout(std::process::Stdio::null())
        .status();
    println!(
        "chaos: rabbitmqctl {what}: {}",
        done.map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string())
    );
}

async fn channel() -> anyhow::Result<lapin::Channel> {
    let conn = lapin::Connection::connect(BROKER, lapin::ConnectionProperties::default()).await?;
    Ok(conn.create_channel().await?)
}

/// Declares the subscription's queue (emptied first when `fresh`).
async fn amqp_queue(fresh: bool) -> anyhow::Result<()> {
    let ch = channel().await?;
    let options = lapin::options::QueueDeclareOptions {
        durable: true,
        ..Default::default()
    };
    ch.queue_declare(AMQP_QUEUE.into(), options, Default::default())
        .await?;
    if fresh {
        ch.queue_purge(AMQP_QUEUE.into(), Default::default())
            .await?;
    }
    Ok(())
}

/// Counts every message in the subscription's queue as accepted.
async fn amqp_drain(rx: &Receivers) -> anyhow::Result<()> {
    use lapin::types::AMQPValue;
    let ch = channel().await?;
    let get = lapin::options::BasicGetOptions { no_ack: true };
    while let Some(m) = ch.basic_get(AMQP_QUEUE.into(), get).await? {
        let mut headers = http::HeaderMap::new();
        if let Some(table) = m.delivery.properties.headers().as_ref() {
            for (name, value) in table.inner() {
                let name = http::HeaderName::from_bytes(name.as_str().as_bytes());
                if let (AMQPValue::LongString(v), Ok(name)) = (value, name)
                    && let Ok(v) = http::HeaderValue::from_str(&v.to_string())
                {
                    headers.insert(name, v);
                }
            }
        }
        rx.accepted("amqp", &headers, &m.delivery.data);
    }
    Ok(())
}
