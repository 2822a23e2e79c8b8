//! docs/receiving-webhooks.md shows how a receiver verifies a signature in
//! Python, Node and Rust. Each snippet, exactly as shown, verifies a real
//! delivery (signed during a key rotation: either key) and refuses the
//! same delivery with its body changed or with another key.
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_testkit::receiver::{Received, TestReceiver};
use hubhooks_tests::fixtures::{self, PARTNER};
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

const GUID: &str = "68ea1505-a44f-4434-be5a-dcc959be250e";
const NEW_KEY: &str = "whsec_bmV3LWtleS0xMjM0NTY3ODkw";
const OLD_KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER_KEY: &str = "whsec_b3RoZXIta2V5LTEyMzQ1Njc4";

/// The code block of `language` under docs' "Verifying a signature".
fn snippet(language: &str) -> String {
    let doc = std::fs::read_to_string(workspace_root().join("docs/receiving-webhooks.md")).unwrap();
    let section = doc
        .split("### Verifying a signature")
        .nth(1)
        .expect("the section");
    let fence = format!("```{language}\n");
    let start = section.find(&fence).expect(&fence) + fence.len();
    section[start..][..section[start..].find("```").unwrap()].to_owned()
}

/// The Rust snippet, as the doc shows it (a test holds the doc to this
/// file's text).
mod shown {
    include!("receiving_verify.rs");
}

const RUST_SHOWN: &str = include_str!("receiving_verify.rs");

/// Runs `program` (a snippet with a harness after it) on the delivery as
/// JSON on stdin; whether it exited 0, and what it said.
fn run(interpreter: &std::path::Path, program: &str, ext: &str, input: &Value) -> (bool, String) {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Tests run at once in one process: each program its own file.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let file = std::env::temp_dir().join(format!(
        "hubhooks-verify-{}-{}.{ext}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, program).unwrap();
    let mut child = std::process::Command::new(interpreter)
        .arg(&file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_file(&file);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

const PYTHON_HARNESS: &str = r#"
import json, sys
request = json.load(sys.stdin)
try:
    verify(request["secret"], request["body"], request["headers"])
except Exception as e:
    print(f"refused: {e}")
    sys.exit(1)
"#;

const NODE_HARNESS: &str = r#"
const request = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
try {
  verify(request.secret, request.body, request.headers);
} catch (e) {
  console.log(`refused: ${e.message}`);
  process.exit(1);
}
"#;

/// The delivery as a snippet's harness reads it, with `key` and `body`.
fn input(got: &Received, key: &str, body: &str) -> Value {
    let headers: serde_json::Map<String, Value> = got
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({"secret": key, "body": body, "headers": headers})
}

/// The documented Python verifier's verdict on (key, body) of a received
/// delivery, and what it said: what a Python receiver decides.
pub(crate) fn verify_python(got: &Received, key: &str, body: &str) -> (bool, String) {
    run(
        &workspace_root().join(".venv/bin/python"),
        &(snippet("python") + PYTHON_HARNESS),
        "py",
        &input(got, key, body),
    )
}

/// Each snippet's verdict on (key, body) of the received delivery.
fn verdicts(got: &Received, key: &str, body: &str) -> [(&'static str, bool, String); 3] {
    let python = verify_python(got, key, body);
    let node = run(
        std::path::Path::new("node"),
        &(snippet("javascript") + NODE_HARNESS),
        "js",
        &input(got, key, body),
    );
    let mut map = http::HeaderMap::new();
    for (n, v) in &got.headers {
        map.insert(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    let rust = shown::verify(key, body.as_bytes(), &map);
    [
        ("python", python.0, python.1),
        ("node", node.0, node.1),
        ("rust", rust.is_ok(), format!("{rust:?}")),
    ]
}

#[test]
fn the_rust_snippet_is_the_one_the_doc_shows() {
    assert_eq!(snippet("rust"), RUST_SHOWN);
}

#[tokio::test]
async fn each_documented_verifier_accepts_a_real_delivery_and_refuses_a_forgery() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    s.put_config(&[json!({"id": "signed", "kind": "subscription",
        "party": {"type": "partner", "id": PARTNER}, "eventTypes": ["newStatus"],
        "auth": {"signingSecret": "acme-signing"},
        "destination": {"method": "POST", "url": rx.url("/hook")}})])
        .await
        .unwrap();
    // During a rotation: both keys sign.
    s.put_secret("acme-signing", &[NEW_KEY, OLD_KEY])
        .await
        .unwrap();
    s.put_case(&fixtures::case(GUID, 1290485)).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&fixtures::status(1290485, GUID, 1, "registered"))
        .await
        .unwrap();
    let got = rx.wait_for(1, Duration::from_secs(40)).await;
    assert_eq!(got.len(), 1);
    let got = &got[0];
    let forged = got.body.replace("registered", "finalised");
    assert_ne!(forged, got.body);
    // (key, body, accepted)
    let table = [
        (NEW_KEY, got.body.as_str(), true),
        (OLD_KEY, got.body.as_str(), true),
        (NEW_KEY, forged.as_str(), false),
        (OTHER_KEY, got.body.as_str(), false),
    ];
    for (key, body, accepted) in table {
        for (language, verdict, said) in verdicts(got, key, body) {
            assert_eq!(
                verdict, accepted,
                "{language}, key {key}, body {body}: {said}"
            );
        }
    }
}

/// What Python's own `hmac` says of a header value: the digest of `body`
/// under `key`, as a receiver migrating from GitHub or Shopify checks it.
fn python_hmac(key: &str, body: &str, encoding: &str) -> String {
    let program = r#"
import base64, hashlib, hmac, json, sys
i = json.load(sys.stdin)
d = hmac.new(i["key"].encode(), i["body"].encode(), hashlib.sha256)
print(d.hexdigest() if i["encoding"] == "hex" else base64.b64encode(d.digest()).decode())
"#;
    let out = std::process::Command::new(workspace_root().join(".venv/bin/python"))
        .args(["-c", program])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            let input = json!({"key": key, "body": body, "encoding": encoding});
            c.stdin
                .take()
                .unwrap()
                .write_all(input.to_string().as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A subscription migrating from another system keeps its receiver's
/// check: GitHub's `X-Hub-Signature-256: sha256=<hex>` and Shopify's
/// `X-Shopify-Hmac-Sha256: <base64>` over the raw body, as Python's `hmac`
/// computes them, instead of `webhook-signature`; the default subscription
/// beside them still gets Standard Webhooks.
#[tokio::test]
async fn a_subscription_signs_in_the_header_and_format_its_receiver_already_checks() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    let sub = |id: &str, signature: Value| {
        let mut item = json!({"id": id, "kind": "subscription",
            "party": {"type": "partner", "id": PARTNER}, "eventTypes": ["newStatus"],
            "auth": {"signingSecret": "legacy-secret"},
            "destination": {"method": "POST", "url": rx.url(&format!("/{id}"))}});
        if signature.is_null() {
            // Standard Webhooks signs with a whsec_ key.
            item["auth"]["signingSecret"] = json!("standard-signing");
        } else {
            item["signature"] = signature;
        }
        item
    };
    s.put_config(&[
        sub("github", json!({"format": "hmacSha256"})),
        sub(
            "shopify",
            json!({"format": "hmacSha256", "header": "X-Shopify-Hmac-Sha256",
                               "encoding": "base64", "prefix": ""}),
        ),
        sub("standard", Value::Null),
    ])
    .await
    .unwrap();
    // A receiver's existing secret, as it was (not a whsec_ key).
    const LEGACY: &str = "It's a Secret to Everybody";
    s.put_secret("legacy-secret", &[LEGACY]).await.unwrap();
    s.put_secret("standard-signing", &[NEW_KEY]).await.unwrap();
    s.put_case(&fixtures::case(GUID, 1290486)).await.unwrap();
    let _runner = s.run().await.unwrap();
    s.put_status(&fixtures::status(1290486, GUID, 1, "registered"))
        .await
        .unwrap();
    let mut got = rx.wait_for(3, Duration::from_secs(40)).await;
    assert_eq!(got.len(), 3);
    got.sort_by(|a, b| a.path.cmp(&b.path));
    let [github, shopify, standard] = [&got[0], &got[1], &got[2]];
    assert_eq!(
        github.header("x-hub-signature-256"),
        Some(format!("sha256={}", python_hmac(LEGACY, &github.body, "hex")).as_str())
    );
    assert_eq!(github.header("webhook-signature"), None);
    assert_eq!(
        shopify.header("x-shopify-hmac-sha256"),
        Some(python_hmac(LEGACY, &shopify.body, "base64").as_str())
    );
    assert_eq!(shopify.header("webhook-signature"), None);
    assert_eq!(shopify.header("x-hub-signature-256"), None);
    assert!(
        standard
            .header("webhook-signature")
            .is_some_and(|v| v.starts_with("v1,"))
    );
    assert_eq!(standard.header("x-hub-signature-256"), None);
    // A forged body does not match.
    let forged = github.body.replace("registered", "finalised");
    assert_ne!(
        github.header("x-hub-signature-256").unwrap(),
        format!("sha256={}", python_hmac(LEGACY, &forged, "hex"))
    );
}
