//! How receivers check it is us, end to end on the local stack: OAuth2
//! client credentials against a real local token endpoint (caching, expiry,
//! a `401` buying one new token, the endpoint down).
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use rustls::pki_types::pem::PemObject;
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

/// Mutual TLS: a receiver that requires a client certificate from its CA
/// accepts ours, refuses a request without one, and a key that is not the
/// certificate's is refused before any request.
#[tokio::test]
async fn a_receiver_requiring_a_client_certificate_accepts_ours_and_a_wrong_key_sends_nothing() {
    use hubhooks_tests::tls_receiver::{TestCa, TlsReceiver};
    let ca = TestCa::new("Acme partner CA").unwrap();
    let server = ca
        .leaf("hooks.acme.test", &["localhost", "127.0.0.1"])
        .unwrap();
    let client = ca.leaf("hubhooks", &[]).unwrap();
    let stranger = ca.leaf("someone else", &[]).unwrap();
    let tls = TlsReceiver::start(&server, &ca.pem()).await.unwrap();

    // Without a certificate the receiver refuses the handshake.
    hubhooks::adapters::tls::install();
    let bare = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    assert!(bare.post(tls.url("/hook")).send().await.is_err());
    assert_eq!(tls.refused.load(std::sync::atomic::Ordering::SeqCst), 1);

    let s = Stack::start(QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    })
    .await
    .unwrap();
    s.put_secret("acme-client-cert", &[&client.certificate])
        .await
        .unwrap();
    s.put_secret("acme-client-key", &[&client.key])
        .await
        .unwrap();
    s.put_secret("stranger-key", &[&stranger.key])
        .await
        .unwrap();
    s.put_secret("acme-receiver-ca", &[&ca.pem()])
        .await
        .unwrap();
    let sub = |id: &str, key: &str| {
        json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
            "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": tls.url(&format!("/{id}"))},
            "auth": {"mtls": {"certificateSecret": "acme-client-cert", "keySecret": key,
                              "serverCaSecret": "acme-receiver-ca"}}})
    };
    s.put_config(&[
        sub("mtls", "acme-client-key"),
        sub("wrong-key", "stranger-key"),
    ])
    .await
    .unwrap();
    s.put_case(&fixtures::case(GUID, 4242)).await.unwrap();
    let _runner = s
        .run_with(hubhooks_cli::local::runner::RunnerOptions {
            // What cannot be read (here: a key that is not the
            // certificate's) is dead-lettered unsent at once.
            unreadable_limit: Duration::ZERO,
            ..hubhooks_cli::local::runner::RunnerOptions::default()
        })
        .await
        .unwrap();
    for id in 1..=20 {
        s.put_status(&status(id)).await.unwrap();
    }
    let got = tls.wait_for(20, WAIT).await;
    let parked = s.dead_letters(WAIT).await.unwrap();
    tokio::time::sleep(GRACE).await;
    let got = if got.len() >= 20 { tls.requests() } else { got };
    assert_eq!(got.len(), 20, "the mtls subscription's 20 webhooks");
    assert!(got.iter().all(|r| r.path == "/mtls"));
    let ours = rustls::pki_types::CertificateDer::from_pem_slice(client.certificate.as_bytes())
        .unwrap()
        .to_vec();
    assert!(
        got.iter()
            .all(|r| r.client_certificate.as_ref() == Some(&ours))
    );
    let handshakes = tls.handshakes.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..=hubhooks::lambda::sender::PER_SUBSCRIPTION_IN_FLIGHT * 2).contains(&handshakes),
        "connections are pooled: {handshakes} handshakes for 20 deliveries"
    );
    eprintln!("mtls: {handshakes} TLS handshakes for 20 deliveries (2 senders)");
    let parked = if parked.len() < 20 {
        s.dead_letters(WAIT).await.unwrap()
    } else {
        parked
    };
    let wrong: Vec<&str> = parked.iter().map(reason).collect();
    assert!(!wrong.is_empty());
    assert!(
        wrong.iter().all(|r| r.contains(
            "auth.mtls.keySecret does not go with the certificate of auth.mtls.certificateSecret"
        )),
        "{wrong:#?}"
    );
    assert_eq!(tls.refused.load(std::sync::atomic::Ordering::SeqCst), 1);
}
