//! The `hubhooks` command itself, run as a process against moto: exit
//! codes, what it prints, and what it changes.
use hubhooks_cli::config::put_json;
use hubhooks_cli::local::provision::{LocalStack, QueueSettings, provision};
use hubhooks_cli::local::runner::{Runner, RunnerOptions};
use hubhooks_testkit::moto::Moto;
use hubhooks_testkit::receiver::TestReceiver;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const PREFIX: &str = "ops";
const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";

struct Env {
    moto: Moto,
    sdk: aws_config::SdkConfig,
    stack: LocalStack,
}

async fn env() -> Env {
    let moto = Moto::start().unwrap();
    let sdk = hubhooks_cli::aws::sdk_config(Some(&moto.endpoint)).await;
    let stack = provision(
        &sdk,
        PREFIX,
        &QueueSettings {
            visibility_timeout_secs: 1,
            ..QueueSettings::default()
        },
    )
    .await
    .unwrap();
    Env { moto, sdk, stack }
}

impl Env {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_hubhooks"));
        c.args(args)
            .env("AWS_ENDPOINT_URL", &self.moto.endpoint)
            .env("HUBHOOKS_PREFIX", PREFIX)
            .env("RUST_LOG", "error")
            .env("RUST_BACKTRACE", "0");
        c
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let Output {
            status,
            stdout,
            stderr,
        } = self.command(args).output().unwrap();
        (
            status.code().unwrap_or(-1),
            String::from_utf8_lossy(&stdout).into_owned(),
            String::from_utf8_lossy(&stderr).into_owned(),
        )
    }

    fn ddb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    /// Message bodies of a queue, left in place (released right after).
    async fn bodies(&self, url: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut handles = Vec::new();
        loop {
            let got = self
                .sqs()
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .send()
                .await
                .unwrap()
                .messages
                .unwrap_or_default();
            if got.is_empty() {
                break;
            }
            for m in got {
                out.push(serde_json::from_str(m.body.as_deref().unwrap()).unwrap());
                handles.extend(m.receipt_handle);
            }
        }
        for h in handles {
            self.sqs()
                .change_message_visibility()
                .queue_url(url)
                .receipt_handle(h)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        }
        out
    }
}

/// Runs `c` with `input` on its standard input.
fn with_stdin(mut c: Command, input: &[u8]) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn file(name: &str, text: &str) -> tempfile_path::Path {
    tempfile_path::write(name, text)
}

/// A file in a fresh temporary directory (no extra crate for it).
mod tempfile_path {
    pub struct Path(pub std::path::PathBuf);
    impl Path {
        pub fn arg(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }
    impl Drop for Path {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    pub fn write(name: &str, text: &str) -> Path {
        let dir = std::env::temp_dir().join(format!("hubhooks-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        Path(p)
    }
}

#[test]
fn validate_names_the_file_item_and_field_of_every_problem() {
    let bad = file(
        "bad.yaml",
        r#"
- id: s1
  kind: subscription
  party: {type: partner, id: 1413}
  eventTypes: [newStatus, newThing]
  destination: {method: FETCH, url: "https://x.example"}
- id: s2
  kind: subscription
  party: {type: vendor, id: 1}
  eventTypes: [newStatus]
  destination: {method: POST, url: "https://x.example", headers: {"X-A": "a\r\nb"}}
- id: s3
  kind: subscription
  party: {type: partner, id: 1}
  eventTypes: [statusTransition]
  transitions: [{to: final}]
  version: v2
  destination: {method: POST, url: "https://x.example"}
- id: s4
  kind: subscription
  party: {type: partner, id: 1}
  eventTypes: [newStatus]
  destination: {method: POST, url: "ftp://x.example"}
"#,
    );
    let out = Command::new(env!("CARGO_BIN_EXE_hubhooks"))
        .args(["subscriptions", "validate", bad.arg()])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let path = bad.arg();
    // The parser's own messages (a clear message, never a regex dump from a schema),
    // the first problem of each item.
    for line in [
        format!(
            "{path}: config item `s1`, field `destination.method`: unknown variant `FETCH`, expected one of `GET`, `POST`, `PUT`, `PATCH`, `PATH`, `DELETE`"
        ),
        format!(
            "{path}: config item `s2`, field `party.type`: unknown variant `vendor`, expected `partner` or `provider`"
        ),
        format!(
            "{path}: config item `s3`, field `version`: `statusTransition` has no v2 payload (it exists in v3); set its version in perType"
        ),
        format!(
            "{path}: config item `s4`, field `destination.url`: scheme must be http or https, got `ftp`"
        ),
    ] {
        assert!(stderr.contains(&line), "missing:\n{line}\nin:\n{stderr}");
    }
    assert!(!stderr.contains("does not match"), "{stderr}");
    let good = Command::new(env!("CARGO_BIN_EXE_hubhooks"))
        .args(["config", "validate", "../docs/example-config.json"])
        .output()
        .unwrap();
    assert_eq!(good.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&good.stdout),
        "../docs/example-config.json: 7 valid items\n"
    );
}

#[tokio::test]
async fn subscriptions_and_mappings_put_list_get_enable_disable_delete() {
    let e = env().await;
    let subs = file(
        "subs.yaml",
        r#"
- id: acme
  kind: subscription
  party: {type: partner, id: 1413}
  eventTypes: [allCurrent]
  destination: {method: POST, url: "https://acme.example/hooks"}
- id: fixit
  kind: subscription
  party: {type: provider, id: 1004}
  eventTypes: [newMessage]
  destination: {method: POST, url: "https://fixit.example/hooks"}
"#,
    );
    let (code, out, err) = e.run(&["subscriptions", "put", subs.arg()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "wrote 2 items to ops-config\n");
    let (code, out, _) = e.run(&["subscriptions", "get", "acme"]);
    assert_eq!(code, 0);
    let acme: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        acme["eventTypes"].as_array().unwrap().len(),
        7,
        "allCurrent expanded"
    );

    let (_, out, _) = e.run(&["subscriptions", "list", "--party", "partner:1413"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[1].starts_with("acme "), "{out}");
    assert!(lines[1].contains("partner:1413"));
    assert!(lines[1].contains("enabled"));

    let (code, out, _) = e.run(&[
        "subscriptions",
        "disable",
        "acme",
        "--reason",
        "maintenance",
    ]);
    assert_eq!((code, out.as_str()), (0, "disabled acme\n"));
    let (_, out, _) = e.run(&["subscriptions", "get", "acme"]);
    let acme: Value = serde_json::from_str(&out).unwrap();
    // Disabling is operational state; the declared `enabled` stays.
    assert_eq!(acme["enabled"], true);
    assert_eq!(acme["disabledReason"], "maintenance");
    assert!(acme["disabledAt"].is_string());
    let (_, out, _) = e.run(&["subscriptions", "list"]);
    assert!(out.contains("disabled"), "{out}");
    let (code, _, _) = e.run(&["subscriptions", "enable", "acme"]);
    assert_eq!(code, 0);
    let (_, out, _) = e.run(&["subscriptions", "get", "acme"]);
    let acme: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(acme["enabled"], true);
    assert!(acme.get("disabledReason").is_none());

    let mappings = file(
        "mappings.json",
        r#"[{"id": "map", "kind": "statusMapping", "partnerId": 1413, "statuses": {"p": {"key": "arrived"}}},
            {"id": "inv", "kind": "invoiceSettings", "providerId": 1004, "statuses": {"ready": {"sendToClient": true}}}]"#,
    );
    let (code, _, err) = e.run(&["mappings", "put", mappings.arg()]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = e.run(&["subscriptions", "put", mappings.arg()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("config item `map` is a statusMapping, not one of subscription"),
        "{err}"
    );
    let (_, out, _) = e.run(&["mappings", "list", "--json"]);
    assert_eq!(out.lines().count(), 2);
    // The global output switch prints the same JSON lines.
    let (_, global, _) = e.run(&["--output", "json", "mappings", "list"]);
    assert_eq!(global, out);
    assert!(
        out.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "{out}"
    );
    // Mappings have no enable or disable: the command does not offer them.
    let (code, _, err) = e.run(&["mappings", "disable", "map"]);
    assert_eq!(code, 2);
    assert!(err.contains("unrecognized subcommand 'disable'"), "{err}");
    let (code, _, err) = e.run(&["subscriptions", "delete", "map"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("`map` is a statusMapping item, not one of subscription"),
        "{err}"
    );
    let (code, out, _) = e.run(&["subscriptions", "delete", "fixit"]);
    assert_eq!((code, out.as_str()), (0, "deleted fixit\n"));
    let (code, _, err) = e.run(&["subscriptions", "get", "fixit"]);
    assert_eq!(code, 1);
    assert!(err.contains("no item `fixit` in ops-config"));
}

fn case() -> Value {
    json!({"guid": GUID, "id": 1290485, "partnerId": 1413, "serviceProviderId": 1004,
           "orderData": {"refNo": "10-1862"}})
}

#[tokio::test]
async fn the_attempt_log_shows_a_failure_then_the_success() {
    let e = env().await;
    let rx = TestReceiver::start(200).await.unwrap();
    rx.script(&[503]);
    let ddb = e.ddb();
    put_json(
        &ddb,
        &e.stack.tables.config,
        &json!({"id": "acme", "kind": "subscription",
        "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"],
        "destination": {"method": "POST", "url": rx.url("/hook")}}),
    )
    .await
    .unwrap();
    let _runner = Runner::start(&e.sdk, &e.stack, RunnerOptions::default())
        .await
        .unwrap();
    put_json(&ddb, e.stack.tables.cases(), &case())
        .await
        .unwrap();
    put_json(&ddb, e.stack.tables.case_statuses(), &status())
        .await
        .unwrap();
    rx.wait_for(2, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (code, out, err) = e.run(&["attempts", "--case", GUID, "--json"]);
    assert_eq!(code, 0, "{err}");
    let attempts = json_lines(&out);
    assert_eq!(attempts.len(), 2, "{out}");
    assert_eq!(attempts[0]["attempt"], 1);
    assert_eq!(attempts[0]["status"], 503);
    assert_eq!(attempts[0]["outcome"], "retrying");
    assert_eq!(attempts[1]["attempt"], 2);
    assert_eq!(attempts[1]["status"], 200);
    assert_eq!(attempts[1]["outcome"], "delivered");
    assert_eq!(attempts[0]["deliveryId"], attempts[1]["deliveryId"]);
    assert!(attempts[1]["latencyMs"].as_u64().is_some());
    let (_, out, _) = e.run(&["attempts", "--failed", "--since", "1h"]);
    assert_eq!(out.lines().count(), 2, "header and one failure:\n{out}");
    assert!(out.contains("retrying"));
    let (_, out, _) = e.run(&["attempts", "--subscription", "acme"]);
    assert_eq!(out.lines().count(), 3);
    // One delivery again, by id: the same id, its third attempt.
    let id = attempts[0]["deliveryId"].as_str().unwrap();
    let (code, out, err) = e.run(&["resend", "--delivery", id]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("resent delivery {id} (newStatus, case {GUID}, 2 attempts so far) to `acme`\n")
    );
    let got = rx.wait_for(3, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].header("webhook-id"), Some(id));
    assert_eq!(got[2].header("webhook-attempt"), Some("3"));
    assert_eq!(got[2].body, got[1].body);
    let (code, _, err) = e.run(&["resend", "--delivery", "no-such-delivery"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("delivery `no-such-delivery`: no attempt in the attempt log since 7d ago"),
        "{err}"
    );
}

/// The lines of a command's `--json` output.
fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The first attempt of `d`, answered `status`, now (to the millisecond, as
/// the log keeps it).
fn delivered(d: &hubhooks::delivery::Delivery, status: u16) -> hubhooks::attempt::AttemptRecord {
    use hubhooks::timestamp::Timestamp;
    hubhooks::attempt::AttemptRecord::new(
        d,
        1,
        &hubhooks::retry::Verdict::Delivered(hubhooks::outcome::Receipt {
            status,
            latency: Duration::from_millis(7),
            excerpt: String::new(),
        }),
        Timestamp::parse(&Timestamp::now().to_contract_string()).unwrap(),
    )
}

#[tokio::test]
async fn busy_subscriptions_get_own_pages_and_the_rest_share_a_mixed_page() {
    use hubhooks::ports::AttemptLog;
    // GIVEN one sender batch: 12 attempts for `busy`, 2 for `quiet`, 1 for
    // `rare`, written by the real attempt log
    let e = env().await;
    let ddb = e.ddb();
    let log = hubhooks::adapters::dynamo::DynamoAttemptLog::new(
        ddb.clone(),
        e.stack.attempt_log_table.clone(),
        30,
        true,
    );
    let mut sent = Vec::new();
    for (subscription, n) in [("busy", 12), ("quiet", 2), ("rare", 1)] {
        for i in 0..n {
            let d = hubhooks::memory::delivery(
                &format!("{subscription}-{i}"),
                subscription,
                "https://example.com/h",
            );
            log.record(&delivered(&d, 200), &d).await.unwrap();
            sent.push(d);
        }
    }
    log.flush().await.unwrap();
    // THEN `busy` has pages of its own, the other two one mixed page
    let items = ddb
        .scan()
        .table_name(&e.stack.attempt_log_table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let pks: Vec<String> = items
        .iter()
        .filter_map(|i| {
            i.get(hubhooks::tables::attempt_log::PARTITION_KEY)?
                .as_s()
                .ok()
                .cloned()
        })
        .filter(|pk| !pk.starts_with("subs#"))
        .collect();
    assert_eq!(pks.len(), 2, "{pks:?}");
    assert_eq!(
        pks.iter().filter(|p| p.starts_with("sub#busy#")).count(),
        1,
        "{pks:?}"
    );
    assert_eq!(
        pks.iter().filter(|p| p.starts_with("mixed#")).count(),
        1,
        "{pks:?}"
    );
    // AND every search finds each subscription's attempts, no others
    for (subscription, n) in [("busy", 12), ("quiet", 2), ("rare", 1)] {
        let (code, out, err) = e.run(&["attempts", "--subscription", subscription, "--json"]);
        assert_eq!(code, 0, "{err}");
        let ids: Vec<String> = json_lines(&out)
            .iter()
            .map(|l| l["deliveryId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), n, "{subscription}: {out}");
        assert!(ids.iter().all(|id| id.starts_with(subscription)), "{ids:?}");
    }
    let (_, out, _) = e.run(&["attempts", "--case", GUID, "--json"]);
    assert_eq!(out.lines().count(), 15, "{out}");
    let (_, out, _) = e.run(&["attempts", "--delivery", "quiet-1", "--json"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    // AND a replay's reader finds the mixed page's envelopes
    let logged =
        hubhooks_cli::attempts::logged(&ddb, &e.stack.attempt_log_table, "quiet", "0000", "9999")
            .await
            .unwrap();
    let messages: Vec<String> = logged
        .iter()
        .map(|(_, d)| d.as_ref().unwrap().to_message())
        .collect();
    assert_eq!(
        messages,
        [sent[12].to_message(), sent[13].to_message()],
        "quiet's two envelopes, in order"
    );
}

#[tokio::test]
async fn pages_written_before_the_packed_form_are_still_read() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use hubhooks::tables::attempt_log as l;
    use std::io::Write;
    // GIVEN a page as senders wrote it before `page`: the records as a list
    // of maps, the envelopes as a gzip'd JSON array beside them
    let e = env().await;
    let ddb = e.ddb();
    let d = hubhooks::memory::delivery("d-old", "acme", "https://example.com/h");
    let record = delivered(&d, 204);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&serde_json::to_vec(&[&d]).unwrap()).unwrap();
    let at = record.at.to_contract_string();
    ddb.put_item()
        .table_name(&e.stack.attempt_log_table)
        .item(
            l::PARTITION_KEY,
            AttributeValue::S(l::page_partition("acme", 2)),
        )
        .item(l::SORT_KEY, AttributeValue::S(format!("{at}#old-page")))
        .item(
            l::ATTEMPTS,
            AttributeValue::L(vec![AttributeValue::M(
                serde_dynamo::to_item(&record).unwrap(),
            )]),
        )
        .item(l::ENVELOPES, AttributeValue::B(gz.finish().unwrap().into()))
        .send()
        .await
        .unwrap();
    // WHEN the command lists the subscription's attempts (by its old name)
    let (code, out, err) = e.run(&["deliveries", "--subscription", "acme", "--json"]);
    // THEN the old page's record is there, and a replay finds its envelope
    assert_eq!(code, 0, "{err}");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["deliveryId"], "d-old");
    assert_eq!(lines[0]["outcome"], "delivered");
    assert_eq!(lines[0]["status"], 204);
    let logged =
        hubhooks_cli::attempts::logged(&ddb, &e.stack.attempt_log_table, "acme", "0000", "9999")
            .await
            .unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].0, record);
    assert_eq!(
        logged[0]
            .1
            .as_ref()
            .map(hubhooks::delivery::Delivery::to_message),
        Some(d.to_message())
    );
}

/// The case's first status record.
fn status() -> Value {
    json!({"caseId": 1290485, "id": 1, "guid": GUID, "key": "registered", "name": "Registered",
           "createdAt": "2023-01-25T13:11:18.000Z"})
}

/// A dead letter: a delivery as the sender parks it.
fn letter(i: usize) -> Value {
    json!({"v": 2, "id": format!("dead-{i:03}"), "subscriptionId": if i.is_multiple_of(2) { "even" } else { "odd" },
           "eventType": "newStatus", "party": {"type": "partner", "id": 1413}, "caseGuid": GUID,
           "destination": {"transport": "http", "method": "POST", "url": "https://x.example/"},
           "body": "{}", "maxAttempts": 3, "source": "t/x", "createdAt": "2024-01-01T00:00:00.000Z"})
}

/// The subscriptions `letter` names, so `--subscription` can select them.
async fn subscribe_even_and_odd(e: &Env) {
    for id in ["even", "odd"] {
        put_json(
            &e.ddb(),
            &e.stack.tables.config,
            &json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": 1413},
                    "eventTypes": ["newStatus"],
                    "destination": {"method": "POST", "url": "https://x.example/"}}),
        )
        .await
        .unwrap();
    }
}

/// Puts `body` on a DLQ with its reason, as the sender dead-letters.
async fn dead_letter(sqs: &aws_sdk_sqs::Client, url: &str, body: Value, reason: &str) {
    sqs.send_message()
        .queue_url(url)
        .message_body(body.to_string())
        .message_attributes(
            "hubhooksReason",
            aws_sdk_sqs::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(reason)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn dlq_list_and_an_interrupted_replay_loses_nothing() {
    let e = env().await;
    let sqs = e.sqs();
    // `dlq replay --subscription` selects a configured subscription.
    subscribe_even_and_odd(&e).await;
    for i in 0..30 {
        let reason = "gave up after 3 of 3 attempts; last error: receiver answered 500: ";
        dead_letter(&sqs, &e.stack.delivery_dlq_url, letter(i), reason).await;
    }
    sqs.send_message()
        .queue_url(&e.stack.delivery_dlq_url)
        .message_body("not a delivery")
        .send()
        .await
        .unwrap();
    let (code, out, err) = e.run(&["dlq", "list"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 32, "header, 30 letters, 1 unreadable");
    assert!(out.contains("gave up after 3 of 3 attempts; last error: receiver answered 500:"));
    assert!(err.contains("31 dead letters read"));

    let (code, out, _) = e.run(&["dlq", "replay", "--subscription", "even", "--dry-run"]);
    assert_eq!(code, 0);
    assert!(
        out.ends_with("would replay 15, kept 15 (not selected), 1 unreadable (not deliveries)\n"),
        "{out}"
    );
    assert!(e.bodies(&e.stack.delivery_queue_url).await.is_empty());
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Interrupted: killed while replaying at 10 a second.
    let mut child = e
        .command(&["dlq", "replay", "--rate", "10", "--hold-secs", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    child.kill().unwrap();
    let _ = child.wait();
    tokio::time::sleep(Duration::from_secs(3)).await; // held letters come back
    let queued: Vec<String> = e
        .bodies(&e.stack.delivery_queue_url)
        .await
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        !queued.is_empty() && queued.len() < 30,
        "interrupted mid-way: {}",
        queued.len()
    );
    let (code, out, err) = e.run(&["dlq", "replay"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(", kept 0 (not selected), 1 unreadable"),
        "{out}"
    );
    let mut ids: Vec<String> = e
        .bodies(&e.stack.delivery_queue_url)
        .await
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "every dead letter is back on the queue");
    assert!(
        total <= 31,
        "at most the one in flight when killed twice: {total}"
    );
    let (_, out, _) = e.run(&["dlq", "list"]);
    assert_eq!(
        out.lines().count(),
        2,
        "only the unreadable one stays:\n{out}"
    );
    let _ = std::io::stdout().flush();
}

// The command blocks this thread while the runner delivers on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_goes_through_the_real_path_and_prints_the_answer() {
    let e = env().await;
    let rx = TestReceiver::start(200).await.unwrap();
    let ddb = e.ddb();
    put_json(
        &ddb,
        &e.stack.tables.config,
        &json!({"id": "acme", "kind": "subscription",
        "party": {"type": "partner", "id": 1413}, "eventTypes": ["newMessage", "caseUpdated"],
        "perType": {"newMessage": {"version": "v1"}},
        "destination": {"method": "POST", "url": rx.url("/hook")}}),
    )
    .await
    .unwrap();
    put_json(&ddb, e.stack.tables.cases(), &case())
        .await
        .unwrap();
    let _runner = Runner::start(&e.sdk, &e.stack, RunnerOptions::default())
        .await
        .unwrap();
    let (code, out, err) = e.run(&[
        "send-test",
        "--subscription",
        "acme",
        "--type",
        "newMessage",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("receiver answered 200 in "), "{out}");
    let got = rx.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-test"), Some("true"));
    assert_eq!(got[0].header("event-type"), Some("newMessage"));
    assert_eq!(
        got[0].body,
        r#"{"id":59076,"guid":"f5afa004-f48c-4380-9f9b-cc9afa0dd7de","content":"The external workshop updated the status to Product received.","messageType":"serviceComment","createdAt":"2019-11-25T10:33:54.283Z","updatedAt":"2019-11-25T10:33:54.283Z"}"#,
        "the documented sample, in the subscription's version (v1)"
    );
    // From a real case; a refusing receiver makes the command fail.
    rx.set_status(500);
    let (code, _, err) = e.run(&[
        "send-test",
        "--subscription",
        "acme",
        "--type",
        "caseUpdated",
        "--case",
        GUID,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("the receiver did not accept the test webhook: gave up after 1 of 1 attempts; last error: receiver answered 500"), "{err}");
    assert_eq!(
        rx.received()[1].body,
        format!(r#"{{"guid":"{GUID}","orderData":{{"refNo":"10-1862"}}}}"#)
    );
    let (code, _, err) = e.run(&["send-test", "--subscription", "acme", "--type", "invoice"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("subscription `acme` does not send invoice"),
        "{err}"
    );
}

/// A send-test that we refuse says it was ours, at once; a 410 to a test
/// leaves the subscription enabled and says so; the test letters are
/// marked in `dlq list` and left out of `dlq replay` unless `--tests`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_test_says_whose_refusal_it_was_and_a_410_disables_nothing() {
    let e = env().await;
    let rx = TestReceiver::start(200).await.unwrap();
    let ddb = e.ddb();
    put_json(
        &ddb,
        &e.stack.tables.config,
        &json!({"id": "acme", "kind": "subscription",
        "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"],
        "auth": {"signingSecret": "acme-signing"},
        "destination": {"method": "POST", "url": rx.url("/hook")}}),
    )
    .await
    .unwrap();
    let _runner = Runner::start(&e.sdk, &e.stack, RunnerOptions::default())
        .await
        .unwrap();
    let send = ["send-test", "--subscription", "acme", "--type", "newStatus"];
    // The secret is missing: ours, said at once (not after the timeout).
    let started = std::time::Instant::now();
    let (code, _, err) = e.run(&[&send[..], &["--timeout-secs", "50"]].concat());
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "error: hubhooks refused to send the test webhook (the receiver was not contacted): attempt 1: not sent: secret `acme-signing` named by auth.signingSecret does not exist or is empty"
        ),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "answered before the timeout"
    );
    assert!(rx.received().is_empty());
    // A 410 to a test: the real subscription stays enabled.
    let (code, _, err) = e.run(&["secret", "generate", "acme-signing"]);
    assert_eq!(code, 0, "{err}");
    // The sender remembers an absent secret for two seconds.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    rx.set_status(410);
    let (code, _, err) = e.run(&send);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("error: the receiver answered 410 Gone to the test webhook: attempt 1: receiver answered 410: "),
        "{err}"
    );
    assert!(
        err.contains(
            "; a test send: the subscription stays enabled (a webhook answered 410 disables it)"
        ),
        "{err}"
    );
    assert_eq!(rx.received().len(), 1);
    let (_, out, _) = e.run(&["--output", "json", "subscriptions", "list"]);
    let listed: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(listed.get("enabled"), None, "{out}");
    assert_eq!(listed.get("disabledReason"), None, "{out}");
    // Both test letters are marked; replay leaves them unless asked.
    let (_, out, _) = e.run(&["dlq", "list"]);
    assert_eq!(out.matches("[test] ").count(), 2, "{out}");
    let (code, out, err) = e.run(&["dlq", "replay"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("replayed 0, kept 0 (not selected), 0 unreadable (not deliveries)\n2 test sends left in the DLQ (--tests replays them)\n"),
        "{out}"
    );
    let (code, out, err) = e.run(&["dlq", "replay", "--tests", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(": would replay 2, kept 0"), "{out}");
}

/// `dlq list` filters; every command covers the ordered queue's DLQ too;
/// `dlq delete` asks, counts, and deletes only what was selected.
#[tokio::test]
async fn dead_letters_are_filtered_deleted_and_the_ordered_dlq_is_covered() {
    let e = env().await;
    let sqs = e.sqs();
    subscribe_even_and_odd(&e).await;
    let reason = |i: usize| {
        if i < 3 {
            "gave up after 3 of 3 attempts; last error: receiver answered 503: "
        } else {
            "attempt 1: refused: 10.0.0.7 is a private address"
        }
    };
    for i in 0..5 {
        dead_letter(&sqs, &e.stack.delivery_dlq_url, letter(i), reason(i)).await;
    }
    // SQS's own redrive from the ordered queue: no reason attribute.
    let mut ordered = letter(9);
    ordered["ordered"] = json!(true);
    sqs.send_message()
        .queue_url(&e.stack.ordered_dlq_url)
        .message_body(ordered.to_string())
        .message_group_id("odd#g")
        .message_deduplication_id("x")
        .send()
        .await
        .unwrap();
    let (code, out, err) = e.run(&["dlq", "list", "--reason", "RECEIVER ANSWERED 503"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 4, "header and dead-000..002:\n{out}");
    assert_eq!(err, "6 dead letters read, 3 shown\n");
    let (_, out, err) = e.run(&["dlq", "list", "--subscription", "odd"]);
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(ids, ["dead-001", "dead-003", "dead-009"], "{out}{err}");
    let (_, out, _) = e.run(&["--output", "json", "dlq", "list", "--type", "newStatus"]);
    let queues: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["queue"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        queues.iter().filter(|q| *q == "ordered").count(),
        1,
        "{out}"
    );
    assert_eq!(queues.len(), 6);
    // Delete asks first: without a terminal and without --yes, refused.
    let (code, _, err) = e.run(&["dlq", "delete", "--reason", "private address"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("not confirmed: delete 2 dead letters for good? Add --yes"),
        "{err}"
    );
    let (code, out, err) = e.run(&["dlq", "delete", "--reason", "private address", "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with("deleted 2 dead letters\n"), "{out}");
    // The ordered DLQ's letter goes back to the ordered queue.
    let (code, out, err) = e.run(&["dlq", "replay", "--subscription", "odd"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("read 4: replayed 2, kept 2 (not selected)"),
        "{out}"
    );
    let back = e.bodies(&e.stack.ordered_queue_url).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["id"], "dead-009");
    let back = e.bodies(&e.stack.delivery_queue_url).await;
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["id"], "dead-001");
    let (_, out, err) = e.run(&["dlq", "list"]);
    assert_eq!(out.lines().count(), 3, "dead-000 and dead-002 stay:\n{out}");
    assert_eq!(err, "2 dead letters read\n");
}

/// Subscribes `acme` to newStatus, writes `case`, then `status` while a
/// router (no sender) runs, until the router has parked it.
async fn park_a_status(e: &Env, case: &Value, status: &Value) {
    let ddb = e.ddb();
    put_json(
        &ddb,
        &e.stack.tables.config,
        &json!({"id": "acme", "kind": "subscription",
        "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"],
        "destination": {"method": "POST", "url": "https://x.example/"}}),
    )
    .await
    .unwrap();
    put_json(&ddb, e.stack.tables.cases(), case).await.unwrap();
    // Routing only: no sender to take a re-driven delivery off the queue.
    let options = RunnerOptions {
        queue_pollers: 0,
        ..RunnerOptions::default()
    };
    let _runner = Runner::start(&e.sdk, &e.stack, options).await.unwrap();
    put_json(&ddb, e.stack.tables.case_statuses(), status)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, out, _) = e.run(&["router-failures", "list"]);
        if out.lines().count() > 1 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn router_failures_are_listed_and_re_driven_once_fixed() {
    let e = env().await;
    let ddb = e.ddb();
    // The case's id disagrees with the status: the record is parked.
    let mut wrong = case();
    wrong["id"] = json!(7);
    park_a_status(&e, &wrong, &status()).await;
    let (code, out, _) = e.run(&["router-failures", "list"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "status 1 says caseId 1290485 but case `68ea1505-a44f-4434-be5a-dcc959be250e` has id 7"
        ),
        "{out}"
    );
    // Re-driven before the fix, it is parked again, and says so (never
    // counted as re-driven).
    let (code, out, err) = e.run(&["router-failures", "redrive"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with(
            "re-drove 0, dead-lettered again 1 (still malformed: see `router-failures list`), kept 0\n"
        ),
        "{out}"
    );
    let (_, out, _) = e.run(&["router-failures", "list"]);
    assert_eq!(
        out.lines().count(),
        2,
        "a header and the one record, dead-lettered again: {out}"
    );
    assert!(out.starts_with("DEAD-LETTERED "), "{out}");
    assert!(out.contains("ops-case-statuses/"), "{out}");
    // Deleting asks; a dry run counts.
    let (code, _, err) = e.run(&["router-failures", "delete", "--reason", "HAS ID 7"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("not confirmed: delete 1 dead-lettered record for good? Add --yes"),
        "{err}"
    );
    let (code, out, _) = e.run(&[
        "router-failures",
        "delete",
        "--reason",
        "has id 7",
        "--dry-run",
    ]);
    assert_eq!(code, 0);
    assert!(
        out.ends_with("would delete 1 dead-lettered record\n"),
        "{out}"
    );
    let (_, out, _) = e.run(&[
        "router-failures",
        "delete",
        "--origin",
        "nothing-like-it",
        "--yes",
    ]);
    assert_eq!(out, "deleted 0 dead-lettered records\n");
    put_json(&ddb, e.stack.tables.cases(), &case())
        .await
        .unwrap();
    let (code, out, err) = e.run(&["router-failures", "redrive"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with(
            "re-drove 1, dead-lettered again 0 (still malformed: see `router-failures list`), kept 0\n"
        ),
        "{out}"
    );
    let queued = e.bodies(&e.stack.delivery_queue_url).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0]["subscriptionId"], "acme");
    let (_, out, _) = e.run(&["router-failures", "list"]);
    assert_eq!(out.lines().count(), 1, "the header only: {out}");
}

/// GIVEN a status record parked for its own data (a date in no known form)
/// WHEN the item is corrected in its table and the failure re-driven
/// THEN the re-drive routes the item as it is now, not the parked image.
#[tokio::test]
async fn a_redrive_routes_the_items_current_state() {
    let e = env().await;
    let ddb = e.ddb();
    let mut wrong = status();
    wrong["createdAt"] = json!("25.01.2023 13:11");
    park_a_status(&e, &case(), &wrong).await;
    let (_, out, _) = e.run(&["router-failures", "list"]);
    assert!(out.contains("createdAt"), "{out}");
    // The operator corrects the status item itself.
    put_json(&ddb, e.stack.tables.case_statuses(), &status())
        .await
        .unwrap();
    let (code, out, err) = e.run(&["router-failures", "redrive"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.ends_with(
            "re-drove 1, dead-lettered again 0 (still malformed: see `router-failures list`), kept 0\n"
        ),
        "{out}{err}"
    );
    let queued = e.bodies(&e.stack.delivery_queue_url).await;
    assert_eq!(queued.len(), 1);
    let body: Value = serde_json::from_str(queued[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["createdAt"], "2023-01-25T13:11:18.000Z");
    let (_, out, _) = e.run(&["router-failures", "list"]);
    assert_eq!(out.lines().count(), 1, "the header only: {out}");
}

#[tokio::test]
async fn local_provision_and_secret_put() {
    let e = env().await;
    let (code, out, err) = e.run(&["--prefix", "fresh", "local", "provision"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("fresh-deliveries-dlq") && out.contains("fresh-secrets"),
        "{out}"
    );
    // Readable lines, not a Rust debug dump; `--json` for scripts.
    assert!(!out.contains("LocalStack {"), "{out}");
    assert!(out.starts_with("KIND"), "{out}");
    let (_, out, _) = e.run(&["--prefix", "fresh", "local", "provision", "--json"]);
    let described: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(described["tables"]["cases"], "fresh-cases");
    assert_eq!(
        described["tables"]["runner-checkpoints"],
        "fresh-runner-checkpoints"
    );
    assert_eq!(described["payloadBucket"], "fresh-payloads");
    assert!(
        described["queues"]["deliveries-dlq"]
            .as_str()
            .unwrap()
            .ends_with("/fresh-deliveries-dlq")
    );
    let tables = e
        .ddb()
        .list_tables()
        .send()
        .await
        .unwrap()
        .table_names
        .unwrap_or_default();
    for t in [
        "fresh-cases",
        "fresh-invoices",
        "fresh-config",
        "fresh-secrets",
        "fresh-delivery-log",
    ] {
        assert!(tables.iter().any(|n| n == t), "{t} in {tables:?}");
    }

    let out = with_stdin(
        e.command(&["secret", "put", "acme-signing"]),
        b"whsec_bmV3\nwhsec_b2xk\n",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "stored secret `acme-signing` (2 values) in ops-secrets\n"
    );
    assert_eq!(
        stored_values(&e, "acme-signing").await,
        json!(["whsec_bmV3", "whsec_b2xk"])
    );
    // A value where a name belongs is refused, and nothing is written.
    let (code, _, err) = e.run(&["secret", "put", "whsec_pasted"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("secret name `whsec_pasted`: must name a secret"),
        "{err}"
    );
    // A value far larger than any key or token is refused with a message,
    // not the SDK's dump of DynamoDB's refusal; nothing is written.
    let big = format!("whsec_{}\n", "A".repeat(500_000));
    let out = with_stdin(e.command(&["secret", "put", "too-big"]), big.as_bytes());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "error: secret `too-big`: its values are 500006 bytes; at most 65536 (a secret is a key, a token or a URI)\n"
    );
    // PEM (a client certificate for auth.mtls) is one value with its lines
    // with --pem, and refused without: a line per value would break it.
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n";
    let out = with_stdin(e.command(&["secret", "put", "acme-cert"]), pem.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: secret `acme-cert`: standard input holds PEM, which would be stored a line per value; use `secret put acme-cert --pem`\n"
    );
    let out = with_stdin(
        e.command(&["secret", "put", "acme-cert", "--pem"]),
        pem.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stored_values(&e, "acme-cert").await, json!([pem]));
}

/// The values the secrets table holds for `name` (table `ops-secrets`).
async fn stored_values(e: &Env, name: &str) -> Value {
    let item = e
        .ddb()
        .get_item()
        .table_name("ops-secrets")
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S(name.into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    serde_dynamo::from_item::<_, Value>(item).unwrap()["values"].clone()
}

/// Verifies a received webhook with the reference library and `key`.
fn verifies(key: &str, got: &hubhooks_testkit::receiver::Received) -> bool {
    let mut headers = http::HeaderMap::new();
    for (n, v) in &got.headers {
        headers.insert(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    standardwebhooks::Webhook::new(key)
        .unwrap()
        .verify(got.body.as_bytes(), &headers)
        .is_ok()
}

/// `secret rotate`: the new key is shown once; during the grace period
/// webhooks carry both signatures (a receiver with either key verifies),
/// after it only the new key's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_key_signs_beside_the_old_one_until_its_grace_ends() {
    let e = env().await;
    let rx = TestReceiver::start(200).await.unwrap();
    let (code, old, err) = e.run(&["secret", "generate", "acme-signing"]);
    assert_eq!(code, 0, "{err}");
    let old = old.trim().to_owned();
    let sub = file(
        "rotating.json",
        &format!(
            r#"{{"id": "acme", "kind": "subscription", "party": {{"type": "partner", "id": 1413}}, "eventTypes": ["newStatus"], "auth": {{"signingSecret": "acme-signing"}}, "destination": {{"method": "POST", "url": "{}"}}}}"#,
            rx.url("/hook")
        ),
    );
    assert_eq!(e.run(&["config", "put", sub.arg()]).0, 0);
    let (code, new, err) = e.run(&["secret", "rotate", "acme-signing", "--grace", "5s"]);
    assert_eq!(code, 0, "{err}");
    let new = new.trim().to_owned();
    assert!(new.starts_with("whsec_") && new != old, "{new}");
    assert!(
        err.contains("webhooks carry both signatures until "),
        "{err}"
    );
    let (_, listed, _) = e.run(&["--output", "json", "secret", "list"]);
    let listed: Value = serde_json::from_str(listed.trim()).unwrap();
    assert_eq!(listed["values"], 2, "{listed}");
    assert!(listed["retireAt"].is_string(), "{listed}");
    let send = ["send-test", "--subscription", "acme", "--type", "newStatus"];
    {
        let _runner = Runner::start(&e.sdk, &e.stack, RunnerOptions::default())
            .await
            .unwrap();
        let (code, _, err) = e.run(&send);
        assert_eq!(code, 0, "{err}");
    }
    let during = rx.received()[0].clone();
    let signatures = during.header("webhook-signature").unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    assert!(verifies(&new, &during) && verifies(&old, &during));
    // After the grace period (a sender that has not cached the secret).
    tokio::time::sleep(Duration::from_secs(5)).await;
    {
        let _runner = Runner::start(&e.sdk, &e.stack, RunnerOptions::default())
            .await
            .unwrap();
        let (code, _, err) = e.run(&send);
        assert_eq!(code, 0, "{err}");
    }
    let after = rx.received()[1].clone();
    assert_eq!(
        after
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        1
    );
    assert!(verifies(&new, &after) && !verifies(&old, &after));
    let (_, listed, _) = e.run(&["--output", "json", "secret", "list"]);
    let listed: Value = serde_json::from_str(listed.trim()).unwrap();
    assert_eq!(listed["values"], 1, "{listed}");
    // Longer than a week is refused; a missing secret is named.
    let (code, _, err) = e.run(&["secret", "rotate", "acme-signing", "--grace", "8d"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("a grace period of 691200 s is longer than 7 days"),
        "{err}"
    );
    let (code, _, err) = e.run(&["secret", "rotate", "nope"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no secret `nope`: `secret generate nope` makes its first key"),
        "{err}"
    );
}

/// `--output json` is honoured by every command that prints: each line of
/// stdout is a JSON value (send-test, replay, dlq replay, config validate
/// and put printed tables or prose).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_answers_json_when_asked() {
    let e = env().await;
    let rx = TestReceiver::start(200).await.unwrap();
    let sub = file(
        "json-sub.json",
        &format!(
            r#"{{"id": "acme", "kind": "subscription", "party": {{"type": "partner", "id": 1413}}, "eventTypes": ["newStatus"], "destination": {{"method": "POST", "url": "{}"}}}}"#,
            rx.url("/hook")
        ),
    );
    let _runner = Runner::start(&e.sdk, &e.stack, RunnerOptions::default())
        .await
        .unwrap();
    let json = |args: &[&str]| {
        let argv = [&["--output", "json"], args].concat();
        let (code, out, err) = e.run(&argv);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!out.is_empty(), "{args:?} printed nothing");
        out.lines()
            .map(|l| {
                serde_json::from_str::<Value>(l)
                    .unwrap_or_else(|_| panic!("{args:?}: not JSON: {l}"))
            })
            .collect::<Vec<_>>()
    };
    let put = json(&["config", "put", sub.arg()]);
    assert_eq!(
        put,
        [json!({"written": ["acme"], "table": format!("{PREFIX}-config")})]
    );
    let valid = json(&["config", "validate", sub.arg()]);
    assert_eq!(valid[0]["valid"], 1);
    let tested = json(&["send-test", "--subscription", "acme", "--type", "newStatus"]);
    assert_eq!(tested.len(), 1);
    assert_eq!(tested[0]["outcome"], "delivered");
    assert_eq!(tested[0]["test"], true);
    put_json(&e.ddb(), e.stack.tables.cases(), &case())
        .await
        .unwrap();
    put_json(&e.ddb(), e.stack.tables.case_statuses(), &status())
        .await
        .unwrap();
    rx.wait_for(2, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let replay = json(&[
        "replay",
        "--subscription",
        "acme",
        "--since",
        "1h",
        "--dry-run",
    ]);
    assert_eq!(replay.last().unwrap()["selected"], 1, "{replay:?}");
    assert_eq!(replay.last().unwrap()["tests"], 1, "{replay:?}");
    let id = replay[0]["deliveryId"].as_str().unwrap().to_owned();
    let resent = json(&["resend", "--delivery", &id]);
    assert_eq!(resent[0]["resent"], true);
    let generated = json(&["secret", "generate", "json-key"]);
    assert_eq!(generated[0]["name"], "json-key");
    for args in [
        &["attempts", "--subscription", "acme"][..],
        &["subscriptions", "list"],
        &["dlq", "replay", "--dry-run"],
        &["secret", "list"],
        &["secret", "rotate", "json-key", "--grace", "1h"],
        &["secret", "delete", "json-key"],
    ] {
        json(args);
    }
}

/// `keys create` shows a key once and stores only its hash; the stored key
/// authenticates the party until it is revoked; `keys list` never shows a
/// key; revoking twice says when the first one was.
#[tokio::test]
async fn party_keys_are_shown_once_stored_as_hashes_and_revoked() {
    use hubhooks::party_key;
    let e = env().await;
    let store = hubhooks::adapters::party_keys::DynamoPartyKeys::new(
        e.ddb(),
        format!("{PREFIX}-party-keys"),
    );
    let (code, key, err) = e.run(&[
        "keys",
        "create",
        "--party",
        "partner:1413",
        "--expires",
        "90d",
    ]);
    assert_eq!(code, 0, "{err}");
    let key = key.trim().to_owned();
    assert!(err.contains("this is the only time it is shown"), "{err}");
    let id = party_key::id_of(&key).unwrap().to_owned();
    let stored = store.get(&id).await.unwrap().unwrap();
    let now = hubhooks::timestamp::Timestamp::now();
    assert_eq!(
        party_key::authenticate(&key, Some(&stored), now),
        Ok(hubhooks::party::Party::partner(1413))
    );
    assert!(stored.expires_at.unwrap() > now);
    assert!(store.touch(&id, now).await.unwrap());
    let (code, _, _) = e.run(&["keys", "create", "--party", "provider:1004"]);
    assert_eq!(code, 0);
    // The table and every listing hold no key.
    let scanned = e
        .ddb()
        .scan()
        .table_name(format!("{PREFIX}-party-keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(scanned.count(), 2);
    assert!(!format!("{:?}", scanned.items()).contains(&key[21..]));
    let (_, listed, err) = e.run(&["keys", "list", "--party", "partner:1413"]);
    assert!(
        listed.contains(&id) && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(&key[21..]));
    assert_eq!(err, "1 key\n");
    let (_, listed, _) = e.run(&["--output", "json", "keys", "list"]);
    assert_eq!(listed.lines().count(), 2);
    let first: Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert!(first["lastUsedAt"].is_string(), "{first}");
    // Revoked: refused from now on; revoking again names the first time.
    let (code, out, err) = e.run(&["keys", "revoke", &id]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("revoked key {id}: it is refused from now on\n")
    );
    let stored = store.get(&id).await.unwrap().unwrap();
    let later =
        hubhooks::timestamp::Timestamp(stored.revoked_at.unwrap().0 + chrono::Duration::seconds(1));
    assert_eq!(
        party_key::authenticate(&key, Some(&stored), later),
        Err(party_key::Refusal::Revoked)
    );
    let (code, _, err) = e.run(&["keys", "revoke", &id]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("key `{id}` was revoked already, at ")),
        "{err}"
    );
    let (code, _, err) = e.run(&["keys", "revoke", "0000000000000000"]);
    assert_eq!(code, 1);
    assert!(err.contains("no key `0000000000000000`"), "{err}");
    let (code, _, err) = e.run(&["keys", "create", "--party", "acme"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--party: `acme`: expected partner:ID or provider:ID"),
        "{err}"
    );
}

/// `config put` refuses what would conflict with the stored config (two
/// black lists for one party were both written, then one refused at run
/// time) and subscriptions naming secrets that do not exist, unless asked.
#[tokio::test]
async fn config_put_refuses_conflicts_and_missing_secrets() {
    let e = env().await;
    let black_list = |id: &str| {
        format!(
            r#"{{"id": "{id}", "kind": "blackList", "party": {{"type": "partner", "id": 1413}}, "keys": ["cancelled"]}}"#
        )
    };
    let first = file("bl-a.json", &black_list("bl-a"));
    let (code, _, err) = e.run(&["config", "put", first.arg()]);
    assert_eq!(code, 0, "{err}");
    let second = file("bl-b.json", &black_list("bl-b"));
    let (code, _, err) = e.run(&["config", "put", second.arg()]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!(
            "error: {}: nothing was written:\nconfig item `bl-b`, field `party`: partner:1413 already has black list `bl-a`\n",
            second.arg()
        )
    );
    let (_, out, _) = e.run(&["--output", "json", "mappings", "list"]);
    assert_eq!(out.lines().count(), 1, "{out}");
    // Two in one file: `validate` says so too (both were listed valid).
    let both = file(
        "both.json",
        &format!("[{}, {}]", black_list("bl-c"), black_list("bl-d")),
    );
    let (code, _, err) = e.run(&["config", "validate", both.arg()]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "config item `bl-d`, field `party`: partner:1413 already has black list `bl-c`"
        ),
        "{err}"
    );
    // Replacing the stored item under its own id is no conflict.
    let (code, _, err) = e.run(&["config", "put", first.arg()]);
    assert_eq!(code, 0, "{err}");
    // A subscription naming a secret nobody stored.
    let sub = file(
        "signed.json",
        r#"{"id": "signed", "kind": "subscription", "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"], "auth": {"signingSecret": "signed-key"}, "destination": {"method": "POST", "url": "https://a.example/"}}"#,
    );
    let (code, _, err) = e.run(&["subscriptions", "put", sub.arg()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("config item `signed`, field `auth.signingSecret`: secret `signed-key` does not exist (hubhooks secret generate signed-key) (--allow-missing-secrets writes it anyway)"),
        "{err}"
    );
    let (code, out, err) = e.run(&["subscriptions", "put", sub.arg(), "--allow-missing-secrets"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("wrote 1 item to {PREFIX}-config\n"));
    assert!(err.starts_with("warning: config item `signed`, field `auth.signingSecret`: secret `signed-key` does not exist"), "{err}");
    // A URL that would be sent percent-encoded: refused with its encoded form.
    let spaced = file(
        "spaced.json",
        r#"{"id": "spaced", "kind": "subscription", "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://a.example/neue hooks"}}"#,
    );
    for verb in ["validate", "put"] {
        let (code, _, err) = e.run(&["config", verb, spaced.arg()]);
        assert_eq!(code, 1, "{verb}");
        assert!(
            err.contains("config item `spaced`, field `destination.url`: has characters a URL cannot carry as written (spaces, non-ASCII, quotes or brackets): write it as `https://a.example/neue%20hooks`"),
            "{verb}: {err}"
        );
    }
    // Once the secret exists, no warning.
    let (code, _, _) = e.run(&["secret", "generate", "signed-key"]);
    assert_eq!(code, 0);
    let (code, _, err) = e.run(&["subscriptions", "put", sub.arg()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
}

/// A file is written whole or not at all. Every item is checked
/// against DynamoDB's limits and for duplicates first; the error names the
/// file and the item. Before: the first item of a file whose second item
/// DynamoDB refused was written, and duplicates silently kept the last.
#[tokio::test]
async fn config_put_writes_a_file_whole_or_not_at_all() {
    let e = env().await;
    let sub = |id: &str| {
        format!(
            r#"{{"id": "{id}", "kind": "subscription", "party": {{"type": "partner", "id": 1413}}, "eventTypes": ["newStatus"], "destination": {{"method": "POST", "url": "https://a.example/"}}}}"#
        )
    };
    let stored = |id: String| {
        let ddb = e.ddb();
        let table = e.stack.tables.config.clone();
        async move {
            ddb.get_item()
                .table_name(table)
                .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id))
                .send()
                .await
                .unwrap()
                .item
                .is_some()
        }
    };
    // An id over DynamoDB's 2,048-byte key limit, second in the file.
    let long = "x".repeat(3000);
    let f = file(
        "too-long.json",
        &format!("[{}, {}]", sub("first"), sub(&long)),
    );
    let (code, _, err) = e.run(&["config", "put", f.arg()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(f.arg()), "names the file: {err}");
    assert!(err.contains("over DynamoDB's 2048-byte key limit"), "{err}");
    assert!(!stored("first".into()).await, "nothing written");
    // An item over 400 KB.
    let big = format!(
        r#"{{"id": "big", "kind": "subscription", "party": {{"type": "partner", "id": 1413}}, "eventTypes": ["newStatus"], "description": "{}", "destination": {{"method": "POST", "url": "https://a.example/"}}}}"#,
        "d".repeat(500_000)
    );
    let f = file("too-big.json", &format!("[{}, {big}]", sub("first")));
    let (code, _, err) = e.run(&["config", "put", f.arg()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("over DynamoDB's 400 KB item limit"), "{err}");
    assert!(!stored("first".into()).await);
    // The same id twice, and a key twice within one item.
    let f = file("twice.json", &format!("[{}, {}]", sub("dup"), sub("dup")));
    let (code, _, err) = e.run(&["config", "put", f.arg()]);
    assert_eq!(code, 1);
    assert!(err.contains("items #0 and #1 both have id `dup`"), "{err}");
    let f = file(
        "keys.json",
        r#"{"id": "k", "kind": "subscription", "kind": "blackList"}"#,
    );
    let (code, _, err) = e.run(&["config", "put", f.arg()]);
    assert_eq!(code, 1);
    assert!(err.contains("duplicate key `kind`"), "{err}");
    // 150 valid items: written in two transactions, all of them.
    let many: Vec<String> = (0..150).map(|i| sub(&format!("s{i:03}"))).collect();
    let f = file("many.json", &format!("[{}]", many.join(",")));
    let (code, out, err) = e.run(&["config", "put", f.arg()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote 150 items"), "{out}");
    assert!(stored("s000".into()).await && stored("s149".into()).await);
}

/// A refusal reads as a message, not a backtrace, whatever
/// RUST_BACKTRACE says.
#[tokio::test]
async fn refusals_read_as_messages_even_with_backtraces_asked_for() {
    let e = env().await;
    let out = e
        .command(&["config", "validate", "no-such-file.json"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("no-such-file.json"), "{err}");
    assert!(!err.to_lowercase().contains("backtrace"), "{err}");
    // The local egress allow-list is settable, and checked.
    let (code, _, err) = e.run(&["local", "run", "--egress-allow", "10.0.0.0/33"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: --egress-allow: `10.0.0.0/33` is not an address or CIDR network\n"
    );
    // Provisioning a stack that exists with other queue settings (the
    // tests' short visibility timeout) uses it as it is.
    let (code, out, err) = e.run(&["local", "provision"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ops-deliveries"), "{out}");
}

/// The README's commands do what it says, run in its order
/// against a local stack (the one its `--prefix`/`HUBHOOKS_PREFIX` name),
/// from the repository's root; every one exits 0. Two are left to their own
/// tests, which run them for real: `send-test` (it waits for a receiver's
/// answer) and `local run` (it runs until Ctrl-C); those naming a stack
/// run in tests/it/deploy.rs, against a rehearsed one.
#[tokio::test]
async fn the_readmes_commands_run_against_the_local_stack() {
    let e = env().await;
    for prefix in ["hubhooks-dev", "hubhooks-local"] {
        provision(&e.sdk, prefix, &QueueSettings::default())
            .await
            .unwrap();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The front door first, then the operators' reference, in their order.
    let readme = ["README.md", "docs/operations.md"]
        .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
        .join("\n");
    let mut ran = 0;
    for i in hubhooks_testkit::readme::invocations(&readme, "hubhooks") {
        let verb = i
            .args
            .iter()
            .find(|a| !a.starts_with('-') && !a.contains("hubhooks-"));
        // `local receiver|subscribe|write` need a running stack: the
        // local-path test below runs them as the README block does.
        let local_path = i.args.first().map(String::as_str) == Some("local")
            && matches!(
                i.args.get(1).map(String::as_str),
                Some("receiver" | "subscribe" | "write")
            );
        // `resend` needs a delivery in the log: the attempt-log test runs it.
        if matches!(verb.map(String::as_str), Some("send-test" | "resend"))
            || i.args.contains(&"run".to_owned())
            || local_path
        {
            continue;
        }
        // A deployed stage's commands run against a rehearsed stack
        // (tests/it/deploy.rs, the_readmes_stack_commands_…).
        if i.args.contains(&"--stack".to_owned())
            || i.env.iter().any(|(k, _)| k == "HUBHOOKS_STACK")
        {
            continue;
        }
        let args: Vec<&str> = i.args.iter().map(String::as_str).collect();
        let mut c = e.command(&args);
        c.current_dir(&root).env("HUBHOOKS_PREFIX", "hubhooks-dev");
        let out = if i.piped {
            with_stdin(c, b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")
        } else {
            c.output().unwrap()
        };
        assert_eq!(
            out.status.code(),
            Some(0),
            "hubhooks {}\n{}{}",
            i.args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 18, "ran {ran}");
}

/// `hubhooks replay` refuses a window it cannot serve, with a message, and
/// never panics: a duration past what a time can hold, a start before the
/// attempt log's retention (it would read ~146,000 partitions for nothing),
/// an end in the future, an unknown or empty subscription. Such windows
/// once panicked (exit 101), ran for minutes, or said "0 deliveries".
#[tokio::test]
async fn replay_refuses_windows_and_subscriptions_it_cannot_serve() {
    let e = env().await;
    let ddb = e.ddb();
    put_json(
        &ddb,
        &e.stack.tables.config,
        &json!({"id": "acme", "kind": "subscription", "party": {"type": "partner", "id": 1413},
                "eventTypes": ["newStatus"],
                "destination": {"method": "POST", "url": "https://partner.example.com/hooks"}}),
    )
    .await
    .unwrap();
    // (arguments, what the refusal names)
    let table: [(&[&str], &str); 7] = [
        (&["--since", "99999999999999d"], "--since"),
        (&["--since", "9223372036854775807s"], "--since"),
        (&["--since", "999999999d"], "--since"),
        (&["--since", "36500d"], "older than the attempt log keeps"),
        (
            &["--since", "1d", "--until", "2099-01-01T00:00:00Z"],
            "--until",
        ),
        (
            &["--since", "1d", "--subscription", "nobody"],
            "no subscription `nobody`",
        ),
        (&["--since", "1d", "--subscription", ""], "--subscription"),
    ];
    for (args, names) in table {
        let mut argv = vec!["replay", "--dry-run"];
        if !args.contains(&"--subscription") {
            argv.extend(["--subscription", "acme"]);
        }
        argv.extend(args);
        let (code, out, err) = e.run(&argv);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(
            err.starts_with("error: ") && err.contains(names),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    // A window the log can serve is answered.
    let (code, out, err) = e.run(&[
        "replay",
        "--dry-run",
        "--subscription",
        "acme",
        "--since",
        "1d",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("0 deliveries"), "{out}");
}

/// `hubhooks … | head -1`: a reader that goes away ends the command
/// quietly (as SIGPIPE ends `ls`), and a full disk is one line of error,
/// never a panic (exit 101) with a backtrace.
#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_one_line() {
    use std::os::unix::process::ExitStatusExt;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(env!("CARGO_BIN_EXE_hubhooks"))
        .args(["config", "validate", "docs/example-config.json"])
        .current_dir(&root)
        .env("RUST_BACKTRACE", "1")
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err, "", "{:?}", out.status);
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);

    let full = std::fs::File::create("/dev/full").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hubhooks"))
        .args(["config", "validate", "docs/example-config.json"])
        .current_dir(&root)
        .env("RUST_BACKTRACE", "1")
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "error: writing standard output: No space left on device (os error 28)\n"
    );
}

/// A subscription id nobody configured is a mistake to name, not an empty
/// answer: `deliveries`, `dlq replay` and `replay` say there is no such
/// subscription (they once printed "0 attempt(s)" or replayed nothing).
#[tokio::test]
async fn an_unknown_subscription_id_is_an_error_naming_it() {
    let e = env().await;
    let commands: [&[&str]; 3] = [
        &["deliveries", "--subscription", "nope"],
        &["dlq", "replay", "--subscription", "nope", "--dry-run"],
        &["replay", "--subscription", "nope", "--since", "1h"],
    ];
    for args in commands {
        let (code, out, err) = e.run(args);
        assert_eq!(code, 1, "{args:?}\n{out}{err}");
        assert_eq!(out, "", "{args:?}");
        assert!(
            err.starts_with(&format!(
                "error: no subscription `nope` in {PREFIX}-config (`hubhooks subscriptions list` names them)"
            )),
            "{args:?}: {err}"
        );
    }
}

/// A wrong `--prefix`: one line that names what was tried and how to point
/// the CLI elsewhere, the service's words once (they were doubled, and the
/// attempt log's query added a debug dump of the response).
#[tokio::test]
async fn a_missing_table_or_queue_is_named_once_with_how_to_choose_another() {
    let e = env().await;
    let cases: [(&[&str], &str); 3] = [
        (
            &["--prefix", "wrong", "subscriptions", "list"],
            "wrong-config",
        ),
        (
            &["--prefix", "wrong", "deliveries", "--failed"],
            "wrong-delivery-log",
        ),
        (
            &["--prefix", "wrong", "dlq", "list"],
            "wrong-deliveries-dlq",
        ),
    ];
    for (args, name) in cases {
        let (code, _, err) = e.run(args);
        assert_eq!(code, 1, "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: the names come from --prefix wrong; for a deployed stage give --stack STACK_NAME (or HUBHOOKS_STACK), for another local stack --prefix: "), "{err}");
        assert!(err.contains(name), "{args:?}: {err}");
        assert!(!err.contains("(ServiceError"), "{err}");
        for words in [
            "Requested resource not found",
            "The specified queue does not exist",
        ] {
            assert!(err.matches(words).count() <= 1, "{args:?}: {err}");
        }
    }
}

/// `--since yesterday` says which forms are accepted.
#[tokio::test]
async fn a_since_it_cannot_read_says_which_forms_it_accepts() {
    let e = env().await;
    for args in [
        &["deliveries", "--failed", "--since", "yesterday"][..],
        &["dlq", "replay", "--since", "yesterday", "--dry-run"],
    ] {
        let (code, out, err) = e.run(args);
        assert_eq!((code, out.as_str()), (1, ""), "{args:?}: {err}");
        assert_eq!(
            err,
            "error: --since: `yesterday`: a span back from now is a whole number and a unit: 90s, 30m, 2h, 7d (a bare number is hours)\n"
        );
    }
}

/// No credentials anywhere: one line that says so and names the profile
/// tried (not the SDK's IMDS warnings and debug structures).
#[test]
fn no_credentials_is_one_line_naming_the_profile() {
    let out = Command::new(env!("CARGO_BIN_EXE_hubhooks"))
        .args(["subscriptions", "list"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("AWS_PROFILE", "nosuch")
        .env("AWS_REGION", "eu-central-1")
        .env("AWS_CONFIG_FILE", "/nonexistent/config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        "error: no AWS credentials for profile `nosuch` (region eu-central-1): give --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID, or sign in (`aws sso login`); for the local stack give --endpoint (or AWS_ENDPOINT_URL)\n"
    );
}

/// Secrets an operator can hand over: `generate` prints a fresh key once
/// (and stores exactly that), refuses to replace one; `list` shows names,
/// counts and dates, never a value; `delete` refuses a secret a
/// subscription names unless --force.
#[tokio::test]
async fn secrets_are_generated_shown_once_listed_without_values_and_deleted_deliberately() {
    let e = env().await;
    let (code, key, err) = e.run(&["secret", "generate", "acme-signing"]);
    assert_eq!(code, 0, "{err}");
    let key = key.trim_end().to_owned();
    assert!(key.starts_with("whsec_") && key.len() == 50, "{key}");
    assert!(err.contains("the only time it is shown"), "{err}");
    let stored = e
        .ddb()
        .get_item()
        .table_name(&e.stack.secrets_table)
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S("acme-signing".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(
        stored["values"].as_l().unwrap(),
        &vec![aws_sdk_dynamodb::types::AttributeValue::S(key.clone())]
    );
    let (code, out, err) = e.run(&["secret", "generate", "acme-signing"]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert!(err.contains("secret `acme-signing` exists"), "{err}");

    let (code, out, err) = e.run(&["secret", "list"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("NAME"), "{out}");
    assert!(lines[1].starts_with("acme-signing"), "{out}");
    assert!(!out.contains(&key[6..20]), "a value was listed: {out}");
    assert_eq!(err, format!("1 secret in {PREFIX}-secrets\n"));
    let (_, json, _) = e.run(&["--output", "json", "secret", "list"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["name"], "acme-signing");
    assert_eq!(row["values"], 1);
    assert!(row["updatedAt"].as_str().unwrap().ends_with('Z'), "{row}");

    put_json(
        &e.ddb(),
        &e.stack.tables.config,
        &json!({"id": "acme", "kind": "subscription", "party": {"type": "partner", "id": 1413},
                "eventTypes": ["newStatus"], "auth": {"signingSecret": "acme-signing"},
                "destination": {"method": "POST", "url": "https://partner.example.com/hooks"}}),
    )
    .await
    .unwrap();
    let (code, _, err) = e.run(&["secret", "delete", "acme-signing"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: secret `acme-signing` is named by acme (auth.signingSecret): their deliveries would wait unsent; change them first, or give --force\n"
    );
    let (code, out, err) = e.run(&["secret", "delete", "acme-signing", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("deleted secret `acme-signing` from {PREFIX}-secrets\n")
    );
    let (code, _, err) = e.run(&["secret", "delete", "acme-signing", "--force"]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        format!("error: no secret `acme-signing` in {PREFIX}-secrets\n")
    );
}

/// Counts read as English: `1 valid item`, `wrote 1 item` (once `1 items`).
#[tokio::test]
async fn a_count_of_one_is_singular() {
    let e = env().await;
    let file = std::env::temp_dir().join(format!("one-{}.json", std::process::id()));
    std::fs::write(
        &file,
        r#"{"id": "one", "kind": "subscription", "party": {"type": "partner", "id": 1413},
            "eventTypes": ["newStatus"],
            "destination": {"method": "POST", "url": "https://partner.example.com/hooks"}}"#,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (code, out, err) = e.run(&["config", "validate", path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{path}: 1 valid item\n"));
    let (code, out, err) = e.run(&["config", "put", path]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("wrote 1 item to {PREFIX}-config\n"));
    let (_, _, err) = e.run(&["subscriptions", "list"]);
    assert_eq!(err, "1 item\n");
}

/// The README's local path, run as written (but for `cargo install`: the
/// command this test built is first on PATH): the webhook arrives at the
/// receiver it starts, once per party, with the status it wrote.
#[test]
fn the_readmes_local_path_reaches_the_receiver() {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = readme
        .split("### To your own receiver in five commands")
        .nth(1)
        .and_then(|r| r.split("```sh\n").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("the README's local path");
    let script: Vec<&str> = block
        .lines()
        .filter(|l| !l.starts_with("cargo install --path cli"))
        .collect();
    assert_eq!(script.len(), 5, "{block}");
    // The reader's shell stays open (moto.sh stops moto when it exits).
    let mut script = script;
    script.push("wait");
    let path = path_with_this_hubhooks();
    let errlog =
        std::env::temp_dir().join(format!("hubhooks-local-path-{}.err", std::process::id()));
    let mut child = Command::new("bash")
        .args(["-ec", &script.join("\n")])
        .current_dir(&root)
        .env("PATH", path)
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("HUBHOOKS_PREFIX")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&errlog).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = child.id() as i32;
    let mut stdout = child.stdout.take().unwrap();
    // The reader keeps reading until the group is stopped, so a webhook
    // arriving after the second one is counted too.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buf) {
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while seen.lock().unwrap().matches("── POST /hooks").count() < 2
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // A moment for anything extra to arrive.
    std::thread::sleep(std::time::Duration::from_secs(3));
    unsafe {
        libc::kill(-pgid, libc::SIGTERM);
    }
    let _ = reader.join();
    let seen = seen.lock().unwrap().clone();
    let _ = child.wait();
    let webhooks: Vec<&str> = seen
        .split("── ")
        .filter(|w| w.starts_with("POST"))
        .collect();
    let errors = std::fs::read_to_string(&errlog).unwrap_or_default();
    assert_eq!(webhooks.len(), 2, "{seen}\n── stderr\n{errors}");
    for w in webhooks {
        assert!(w.starts_with("POST /hooks\n"), "{w}");
        assert!(w.contains("\n   event-type: newStatus\n"), "{w}");
        let body: serde_json::Value =
            serde_json::from_str(w.lines().last().unwrap().trim()).unwrap();
        let at = body["createdAt"].clone();
        assert_eq!(
            body,
            json!({"caseId": 1290485, "id": 1, "guid": "68ea1505-a44f-4434-be5a-dcc959be250e",
                   "key": "registered", "name": "Registered",
                   "createdAt": at, "updatedAt": at, "declaredAt": at})
        );
    }
}

/// `event-types` lists every type and version with a schema and a sample
/// body; each sample is valid against its schema (both come from the code
/// that renders webhooks), and the schema refuses a sample missing a field
/// it requires.
#[test]
fn event_types_show_each_versions_schema_and_a_sample_that_fits_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_hubhooks"))
        .args(["--output", "json", "event-types"])
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let entries: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "newStatus",
            "statusTransition",
            "newCostProposal",
            "newMessage",
            "messageConfirmed",
            "newFile",
            "caseUpdated",
            "invoice"
        ]
    );
    let mut checked = 0;
    for e in &entries {
        for v in e["versions"].as_array().unwrap() {
            let validator = jsonschema::validator_for(&v["schema"]).unwrap();
            let sample = &v["sample"];
            let problems: Vec<String> = validator
                .iter_errors(sample)
                .map(|e| e.to_string())
                .collect();
            assert!(
                problems.is_empty(),
                "{} {}: {problems:?}",
                e["name"],
                v["version"]
            );
            let first = v["schema"]["required"][0].as_str().unwrap();
            let mut missing = sample.clone();
            missing.as_object_mut().unwrap().remove(first);
            assert!(
                !validator.is_valid(&missing),
                "{} {} without {first}",
                e["name"],
                v["version"]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 17);
}

/// Logs are JSON lines when asked (or piped) and lines for people when
/// asked (or on a terminal): `HUBHOOKS_LOG_FORMAT` chooses.
#[tokio::test]
async fn logs_are_json_or_text_as_asked() {
    let e = env().await;
    e.run(&["local", "provision"]);
    // An item that is no party key: `keys list` warns and skips it.
    e.ddb()
        .put_item()
        .table_name(format!("{PREFIX}-party-keys"))
        .item(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S("junk".into()),
        )
        .send()
        .await
        .unwrap();
    let run = |format: &str| {
        let out = e
            .command(&["keys", "list"])
            .env_remove("RUST_LOG")
            .env("HUBHOOKS_LOG_FORMAT", format)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stderr).unwrap()
    };
    let json = run("json");
    let line: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(line["level"], "WARN", "{json}");
    assert_eq!(
        line["fields"]["message"], "not a party key; skipped",
        "{json}"
    );
    let text = run("text");
    let first = text.lines().next().unwrap();
    assert!(!first.starts_with('{'), "{text}");
    assert!(
        first.contains("WARN") && first.contains("not a party key; skipped"),
        "{text}"
    );
}

/// `local run` serves the management API on 127.0.0.1 and prints its URL
/// and an operator token; a party key made with `keys create` reads that
/// party's subscriptions, the token every party's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_run_serves_the_management_api_and_prints_its_url() {
    use std::io::{BufRead, BufReader};
    let e = env().await;
    let sub = file(
        "api-sub.json",
        r#"[{"id": "mine", "kind": "subscription", "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://a.example/"}},
            {"id": "theirs", "kind": "subscription", "party": {"type": "partner", "id": 7}, "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://b.example/"}}]"#,
    );
    assert_eq!(e.run(&["config", "put", sub.arg()]).0, 0);
    let (code, key, err) = e.run(&["keys", "create", "--party", "partner:1413"]);
    assert_eq!(code, 0, "{err}");
    let mut child = e
        .command(&["local", "run", "--api-port", "0"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let line = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("management API on "))
        .expect("the URL is printed");
    let base = line
        .split("management API on ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap()
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let answer = reqwest::Client::new()
        .get(format!("{base}/v1/subscriptions"))
        .header("authorization", format!("Bearer {}", key.trim()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mine"]);
    let refused = reqwest::get(format!("{base}/v1/subscriptions"))
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    // The operator token it printed reaches every party's; a party key
    // does not reach the admin routes.
    let token = line
        .split("operator token for /v1/admin: ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .unwrap();
    assert!(token.starts_with("hho_"), "{line}");
    let admin = |bearer: String| {
        reqwest::Client::new()
            .get(format!("{base}/v1/admin/subscriptions"))
            .header("authorization", format!("Bearer {bearer}"))
            .send()
    };
    // As text: the cli's reqwest has no `json` feature of its own.
    let all = admin(token.to_owned()).await.unwrap().text().await.unwrap();
    let all: Value = serde_json::from_str(&all).unwrap();
    let ids: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mine", "theirs"]);
    let party = admin(key.trim().to_owned()).await.unwrap();
    assert_eq!(party.status().as_u16(), 401);
    child.kill().unwrap();
    let _ = child.wait();
}

/// The curl examples of the README's API section and of docs/api.md, run
/// as written with bash against the management API served over a local
/// stack (the runner delivering): every command exits 0 (`--fail-with-body`
/// fails on any error answer), and what they did is there.
// Several threads: the API and the runner answer while bash runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_examples_run_against_the_local_stack() {
    let e = env().await;
    let _runner = Runner::start(&e.sdk, &e.stack, RunnerOptions::default())
        .await
        .unwrap();
    let resources = hubhooks_cli::local::api::resources(&e.stack, PREFIX);
    let base = hubhooks_cli::local::api::serve_on(
        &e.sdk,
        &resources,
        hubhooks::egress::AllowList::default(),
        0,
        None,
    )
    .await
    .unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let block = |file: &str, after: &str| {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        text.split(after)
            .nth(1)
            .and_then(|r| r.split("```sh\n").nth(1))
            .and_then(|b| b.split("```").next())
            .unwrap_or_else(|| panic!("{file}: no sh block after {after}"))
            .to_owned()
    };
    let blocks = [
        block("README.md", "## The management API"),
        block("docs/api.md", "## Examples"),
    ];
    let path = path_with_this_hubhooks();
    let dir = std::env::temp_dir().join(format!("hubhooks-api-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for script in &blocks {
        assert!(script.contains("curl"), "{script}");
        // A command that hangs fails the test instead of holding it.
        let out = Command::new("timeout")
            .args(["120", "bash", "-euo", "pipefail", "-c", script])
            .current_dir(&dir)
            .env("PATH", &path)
            .env("HUBHOOKS_API", &base)
            .env("AWS_ENDPOINT_URL", &e.moto.endpoint)
            .env("HUBHOOKS_PREFIX", PREFIX)
            .env("RUST_LOG", "error")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{script}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The subscription the examples made, changed, rotated and tested.
    let created: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("created.json")).unwrap()).unwrap();
    assert!(
        created["signingSecret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
    let id = created["id"].as_str().unwrap();
    let (code, out, err) = e.run(&["subscriptions", "get", id]);
    assert_eq!(code, 0, "{err}");
    let stored: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stored["description"], "ERP: statuses and messages");
    assert_eq!(stored["party"], json!({"type": "partner", "id": 1413}));
    assert_eq!(stored["enabled"], true);
    assert_eq!(stored["destination"]["url"], "https://erp.example/hooks");
    let notices: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("notices.json")).unwrap()).unwrap();
    assert_eq!(notices["id"], "notices_partner_1413");
    let catalogue: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("newStatus.json")).unwrap())
            .unwrap();
    assert_eq!(catalogue["name"], "newStatus");
    let _ = std::fs::remove_dir_all(&dir);
}

/// PATH with the command this test built first (as `cargo install` would
/// put it there for a reader).
fn path_with_this_hubhooks() -> String {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_hubhooks"))
        .parent()
        .unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `hubhooks portal-link` prints a link into the portal whose key opens
/// once, for the party asked; a lifetime past a day is refused.
#[tokio::test]
async fn a_portal_link_opens_once_for_its_party() {
    use hubhooks::operations::portal;
    let e = env().await;
    let store = hubhooks::adapters::party_keys::DynamoPartyKeys::new(
        e.ddb(),
        format!("{PREFIX}-party-keys"),
    );
    let (code, out, err) = e.run(&[
        "portal-link",
        "--party",
        "provider:1004",
        "--ttl",
        "30m",
        "--api-url",
        "https://hooks.example/",
    ]);
    assert_eq!(code, 0, "{err}");
    let url = out.trim();
    let key = url
        .strip_prefix("https://hooks.example/portal/enter#")
        .unwrap_or_else(|| panic!("{url}"));
    assert!(err.contains("opens once"), "{err}");
    let now = hubhooks::timestamp::Timestamp::now();
    let stored = store
        .get(hubhooks::party_key::id_of(key).unwrap())
        .await
        .unwrap()
        .unwrap();
    let minutes = (stored.expires_at.unwrap().0 - now.0).num_minutes();
    assert!((29..=30).contains(&minutes), "{minutes}");
    let (_, session) = portal::open(&store, key, now).await.unwrap().unwrap();
    assert_eq!(session.party, hubhooks::party::Party::provider(1004));
    assert_eq!(
        portal::open(&store, key, now).await.unwrap().err(),
        Some(portal::LinkRefusal::Used)
    );
    let (code, _, err) = e.run(&["portal-link", "--party", "partner:1413", "--ttl", "2d"]);
    assert_eq!(code, 1);
    assert!(err.contains("--ttl") && err.contains("24 hours"), "{err}");
    // Without --api-url, a local prefix's link points at `local run`.
    let (code, out, _) = e.run(&["portal-link", "--party", "partner:1413"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("http://127.0.0.1:8600/portal/enter#hhk_"),
        "{out}"
    );
}
