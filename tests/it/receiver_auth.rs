//! How receivers check it is us, end to end on the local stack: OAuth2
//! client credentials against a real local token endpoint (caching, expiry,
//! a `401` buying one new token, the endpoint down).
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

use hubhooks_tests::fixtures::PARTNER;
const GUID: &str = "0b0c3e58-3a2b-4f0e-9d7a-7f9a2d1c5e11";
const WAIT: Duration = Duration::from_secs(40);
const GRACE: Duration = Duration::from_millis(2500);
const CLIENT_SECRET: &str = "client-s3cret";

fn status(id: i64) -> Value {
    json!({"caseId": 4242, "id": id, "guid": GUID, "key": format!("k{id}"), "name": "a status",
           "createdAt": "2024-05-01T10:00:00.000Z"})
}

fn token(value: &str, expires_in: u64) -> String {
    format!(r#"{{"access_token":"{value}","token_type":"Bearer","expires_in":{expires_in}}}"#)
}

/// A stack whose one subscription takes OAuth2 tokens from `tok`, with
/// `extra` fields; the case written, the runner running.
async fn oauth2_stack(
    rx: &TestReceiver,
    tok: &TestReceiver,
    extra: Value,
) -> (Stack, hubhooks_cli::local::runner::Runner) {
    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    s.put_secret("acme-oauth", &[CLIENT_SECRET]).await.unwrap();
    let mut sub = json!({"id": "sub", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
        "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": rx.url("/hook")},
        "auth": {"oauth2": {"tokenUrl": tok.url("/oauth/token"), "clientId": "hubhooks",
                            "clientSecret": "acme-oauth", "scopes": ["webhooks", "cases.read"]}}});
    sub.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    s.put_config(&[sub]).await.unwrap();
    s.put_case(&fixtures::case(GUID, 4242)).await.unwrap();
    let runner = s.run().await.unwrap();
    (s, runner)
}

#[tokio::test]
async fn one_oauth2_token_serves_many_deliveries_and_a_401_buys_one_new_token() {
    let rx = TestReceiver::start(200).await.unwrap();
    let tok = TestReceiver::start(200).await.unwrap();
    tok.set_answer_body(&token("tok-1", 3600));
    let (s, _runner) = oauth2_stack(&rx, &tok, json!({})).await;
    for id in 1..=20 {
        s.put_status(&status(id)).await.unwrap();
    }
    let got = rx.wait_for(20, WAIT).await;
    assert_eq!(got.len(), 20);
    assert!(
        got.iter()
            .all(|r| r.header("authorization") == Some("Bearer tok-1")),
        "{got:#?}"
    );
    let asked = tok.received();
    assert_eq!(asked.len(), 1, "one fetch for 20 deliveries: {asked:#?}");
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("hubhooks:{CLIENT_SECRET}"),
    );
    assert_eq!(asked[0].method, "POST");
    assert_eq!(
        asked[0].header("authorization"),
        Some(format!("Basic {basic}").as_str())
    );
    assert_eq!(
        asked[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        asked[0].body,
        "grant_type=client_credentials&scope=webhooks+cases.read"
    );

    // The receiver revokes tok-1: its 401 buys one new token, and the
    // attempt is made again at once (the same attempt, not a retry).
    tok.set_answer_body(&token("tok-2", 3600));
    rx.script(&[401]);
    s.put_status(&status(21)).await.unwrap();
    let got = rx.wait_for(22, WAIT).await;
    tokio::time::sleep(GRACE).await;
    let got = if got.len() >= 22 { rx.received() } else { got };
    assert_eq!(got.len(), 22, "{got:#?}");
    let last: Vec<(Option<&str>, u16, Option<&str>)> = got[20..]
        .iter()
        .map(|r| {
            (
                r.header("authorization"),
                r.answered,
                r.header("webhook-attempt"),
            )
        })
        .collect();
    assert_eq!(
        last,
        [
            (Some("Bearer tok-1"), 401, Some("1")),
            (Some("Bearer tok-2"), 200, Some("1"))
        ]
    );
    assert_eq!(got[20].header("webhook-id"), got[21].header("webhook-id"));
    assert_eq!(tok.received().len(), 2);
    eprintln!(
        "oauth2: {} token fetches for 21 deliveries (one a 401 refresh)",
        tok.received().len()
    );
}

#[tokio::test]
async fn a_token_endpoint_that_fails_is_the_receivers_failure_and_an_expired_token_is_renewed() {
    let rx = TestReceiver::start(200).await.unwrap();
    let tok = TestReceiver::start(503).await.unwrap();
    tok.set_answer_body("down for maintenance");
    let (s, _runner) = oauth2_stack(&rx, &tok, json!({"maxAttempts": 2})).await;
    s.put_status(&status(1)).await.unwrap();
    let parked = s.dead_letters(WAIT).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(
        reason(&parked[0]),
        "gave up after 2 of 2 attempts; last error: request failed: token endpoint answered 503: down for maintenance"
    );
    assert!(rx.received().is_empty(), "no request without a token");
    assert_eq!(tok.received().len(), 2, "one fetch per attempt");
    assert!(!parked[0].0.contains(CLIENT_SECRET));

    // Back, with tokens good for 2 s: renewed once they are near expiry.
    tok.set_status(200);
    tok.set_answer_body(&token("tok-short", 2));
    s.put_status(&status(2)).await.unwrap();
    assert_eq!(rx.wait_for(1, WAIT).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    s.put_status(&status(3)).await.unwrap();
    let got = rx.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2);
    assert!(
        got.iter()
            .all(|r| r.header("authorization") == Some("Bearer tok-short"))
    );
    assert_eq!(tok.received().len(), 4, "2 failed, then one per token life");
}
