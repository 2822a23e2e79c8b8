//! The partner portal in a real browser: headless Chromium (Debian's
//! `chromium`, installed by scripts/chromium.sh) driven by Playwright
//! (tests/portal/flows.py, from .venv) against the API served here, with
//! the local runner delivering to real receivers. The browser script asks
//! this test for what only the hub can do (write case statuses, fix a
//! receiver) over its stdin and stdout; the test then checks what the
//! receivers got. Screenshots land in `target/portal/`.
use super::*;
use hubhooks::operations::portal;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const GUID: &str = "5c0ffee0-1413-4d1e-9a7e-0b5e55ed0a11";
/// What the good receiver answers: it must show as text, never run.
const XSS: &str = "<script>alert(1)</script>";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// A portal link for `party`, made over the admin API as an operator would.
async fn link(api: &Api, party: &str) -> String {
    let (kind, id) = party.split_once(':').unwrap();
    let made = api
        .json(
            "POST",
            "/v1/admin/portal-links",
            OPERATOR,
            json!({"party": {"type": kind, "id": id.parse::<i64>().unwrap()}, "ttlSeconds": 600}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    made.body["url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_partner_portal_works_in_a_real_browser() {
    // GIVEN the API and the local runner, a receiver that answers with
    // markup and one that fails until fixed
    let api = serve_delivering().await;
    let rx = TestReceiver::start(200).await.unwrap();
    rx.set_answer_body(XSS);
    let failing = TestReceiver::start(503).await.unwrap();
    failing.set_answer_body("down for maintenance");
    // a subscription of the partner's that has been failing (one attempt
    // each, so its deliveries fail for good at once)
    api.stack
        .put_config(&[json!({"id": "p-fail", "kind": "subscription",
            "party": {"type": "partner", "id": 1413}, "description": "Failing receiver",
            "eventTypes": ["newStatus"], "maxAttempts": 1,
            "destination": {"method": "POST", "url": failing.url("/hooks")}})])
        .await
        .unwrap();
    let _runner = api.stack.run().await.unwrap();
    // AND links: the partner's, another party's, one that expired
    let partner = link(&api, "partner:1413").await;
    let other = link(&api, "partner:9999").await;
    let keys = &api.keys;
    let then = Timestamp(Timestamp::now().0 - chrono::Duration::hours(2));
    let (expired, _) =
        portal::create_link(keys, Party::partner(1413), chrono::Duration::hours(1), then)
            .await
            .unwrap();
    let expired = hubhooks::api::portal::link_url(&api.base, expired.expose());
    let shots = root().join("target").join("portal");
    std::fs::create_dir_all(&shots).unwrap();

    // WHEN the browser runs every flow
    let python = root().join(".venv/bin/python");
    assert!(
        python.exists(),
        "no {} (scripts/bootstrap.sh installs it)",
        python.display()
    );
    let mut child = tokio::process::Command::new(python)
        .arg(root().join("tests/portal/flows.py"))
        .env("PORTAL_LINK", &partner)
        .env("OTHER_LINK", &other)
        .env("EXPIRED_LINK", &expired)
        .env("API_BASE", &api.base)
        .env("RECEIVER_URL", rx.url("/hooks"))
        .env("XSS", XSS)
        .env("SHOTS", &shots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut to_browser = child.stdin.take().unwrap();
    let mut from_browser = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut report = None;
    let mut log = Vec::new();
    while let Ok(Some(line)) =
        tokio::time::timeout(Duration::from_secs(240), from_browser.next_line())
            .await
            .expect("the browser flows stalled for 4 minutes")
    {
        log.push(line.clone());
        let answer = match line.split_once(' ') {
            Some(("ASK", "write-statuses")) => {
                // The hub records two statuses of a case of the partner.
                api.stack
                    .put_case(&json!({"guid": GUID, "id": 77, "partnerId": 1413, "serviceProviderId": 1004}))
                    .await
                    .unwrap();
                for n in 1..=2 {
                    api.stack
                        .put_status(&fixtures::status(77, GUID, n, &format!("s{n}")))
                        .await
                        .unwrap();
                }
                let got = failing.wait_for(2, Duration::from_secs(40)).await;
                format!("{}", got.len())
            }
            Some(("ASK", "fix-receiver")) => {
                failing.set_status(200);
                failing.set_answer_body("ok");
                "fixed".to_owned()
            }
            Some(("REPORT", json)) => {
                report = Some(serde_json::from_str::<Value>(json).unwrap());
                continue;
            }
            _ => continue,
        };
        to_browser
            .write_all(format!("{answer}\n").as_bytes())
            .await
            .unwrap();
        to_browser.flush().await.unwrap();
    }
    let status = child.wait().await.unwrap();
    assert!(
        status.success(),
        "the browser flows failed:\n{}",
        log.join("\n")
    );
    let report = report.unwrap_or_else(|| panic!("no report:\n{}", log.join("\n")));

    // THEN every flow passed, each with its screenshot
    let flows: Vec<&str> = report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    assert_eq!(
        flows,
        [
            "open-link",
            "create-subscription",
            "test-send",
            "delivery-attempts",
            "rotate-secret",
            "disable-enable",
            "replay-window",
            "narrow-screen",
            "catalogue",
            "other-party",
            "refused-links",
            "sign-out",
        ]
    );
    for f in &flows {
        let shot = shots.join(format!("{f}.png"));
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 1000),
            "{}",
            shot.display()
        );
    }
    // AND the test send reached the receiver once, signed with the secret
    // the portal showed once
    let tests: Vec<Received> = rx
        .received()
        .into_iter()
        .filter(|r| r.header("webhook-test") == Some("true"))
        .collect();
    assert_eq!(tests.len(), 1);
    let secret = report["signingSecret"].as_str().unwrap();
    assert!(super::journey::verifies(secret, &tests[0]));
    // AND the failing receiver got both statuses twice: failed, then
    // replayed from the portal after the fix, with the same delivery ids
    let got = failing.received();
    assert_eq!(
        got.len(),
        4,
        "{:?}",
        got.iter().map(|r| &r.body).collect::<Vec<_>>()
    );
    let ids = |rs: &[Received]| {
        let mut v: Vec<String> = rs
            .iter()
            .map(|r| r.header("webhook-id").unwrap_or_default().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&got[..2]), ids(&got[2..]));
    assert_eq!(report["replayed"], 2);
    // AND the portal's page weight is what the closing note gives
    let weight = report["pageWeight"].as_u64().unwrap();
    eprintln!("the portal's first load: {weight} bytes of HTML, JS and CSS");
    assert!(weight > 10_000 && weight < 200_000, "{weight} bytes");
}

/// The portal's session over plain HTTP: what the browser test relies on,
/// with exact headers. A link opens once for a strict cookie; the cookie
/// works only with the portal's header and is no bearer key; a bearer key
/// is no cookie; the pages carry the policy.
#[tokio::test]
async fn a_link_opens_one_strict_session_that_is_no_bearer_key() {
    let api = serve().await;
    let http = reqwest::Client::new();
    let url = link(&api, "partner:1413").await;
    let (base, key) = url.split_once("/portal/enter#").unwrap();
    assert_eq!(base, api.base);
    let open = |link: &str| {
        http.post(format!("{base}/portal/session"))
            .header("x-hubhooks-portal", "1")
            .header("content-type", "application/json")
            .body(json!({"link": link}).to_string())
            .send()
    };
    // GIVEN the link opened once
    let opened = open(key).await.unwrap();
    assert_eq!(opened.status(), 201);
    let cookie = opened.headers()["set-cookie"].to_str().unwrap().to_owned();
    let session = cookie
        .strip_prefix("hh_portal=")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    assert_eq!(
        cookie,
        format!("hh_portal={session}; Path=/; Max-Age=28800; HttpOnly; SameSite=Strict")
    );
    let body: Value = serde_json::from_str(&opened.text().await.unwrap()).unwrap();
    assert_eq!(body["party"], json!({"type": "partner", "id": 1413}));
    // WHEN it is opened again THEN refused, saying why
    let again = open(key).await.unwrap();
    assert_eq!(again.status(), 401);
    let problem: Value = serde_json::from_str(&again.text().await.unwrap()).unwrap();
    assert_eq!(problem["pointer"], "/link/used");
    assert_eq!(problem["detail"], "this link was used already");
    // AND the cookie opens the API only with the portal's header
    let with = |cookie: &str, header: bool| {
        let mut r = http
            .get(format!("{base}/v1/subscriptions"))
            .header("cookie", format!("hh_portal={cookie}"));
        if header {
            r = r.header("x-hubhooks-portal", "1");
        }
        r.send()
    };
    assert_eq!(with(&session, true).await.unwrap().status(), 200);
    assert_eq!(with(&session, false).await.unwrap().status(), 401);
    // AND a session is no bearer key, a bearer key no session
    assert_eq!(api.get("/v1/subscriptions", Some(&session)).await.0, 401);
    let bearer = api.key(Party::partner(1413), |k| k).await;
    assert_eq!(with(&bearer, true).await.unwrap().status(), 401);
    assert_eq!(api.get("/v1/subscriptions", Some(&bearer)).await.0, 200);
    // AND the page and its files carry the policy; files revalidate
    let page = http.get(format!("{base}/portal/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let h = page.headers();
    assert_eq!(h["content-security-policy"], hubhooks::api::portal::CSP);
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-type"], "text/html; charset=utf-8");
    let js = http
        .get(format!("{base}/portal/assets/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(js.headers()["cache-control"], "public, max-age=300");
    let tag = js.headers()["etag"].to_str().unwrap().to_owned();
    let fresh = http
        .get(format!("{base}/portal/assets/app.js"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 304);
    for name in ["nothing.js", "..%2Findex.html", "%2e%2e%2fapp.js"] {
        let missing = http
            .get(format!("{base}/portal/assets/{name}"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404, "{name}");
    }
    // AND signing out revokes the session
    let out = http
        .delete(format!("{base}/portal/session"))
        .header("cookie", format!("hh_portal={session}"))
        .header("x-hubhooks-portal", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    assert_eq!(
        out.headers()["set-cookie"],
        "hh_portal=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    );
    assert_eq!(with(&session, true).await.unwrap().status(), 401);
}

#[tokio::test]
async fn a_portal_links_lifetime_and_party_are_checked() {
    let api = serve().await;
    for (body, pointer) in [
        (
            json!({"party": {"type": "partner", "id": 1413}, "ttlSeconds": 0}),
            "/ttlSeconds",
        ),
        (
            json!({"party": {"type": "partner", "id": 1413}, "ttlSeconds": 86401}),
            "/ttlSeconds",
        ),
        (
            json!({"party": {"type": "partner", "id": 1413}, "colour": 1}),
            "/colour",
        ),
        (json!({"ttlSeconds": 60}), "/party"),
    ] {
        let a = api
            .json("POST", "/v1/admin/portal-links", OPERATOR, body.clone())
            .await;
        assert_eq!(a.status, 422, "{body}: {}", a.body);
        assert_eq!(a.body["pointer"], pointer, "{body}: {}", a.body);
    }
    let a = api
        .json(
            "POST",
            "/v1/admin/portal-links",
            OPERATOR,
            json!({"party": {"type": "provider", "id": 1004}}),
        )
        .await;
    assert_eq!(a.status, 201);
    let expires = Timestamp::parse(a.body["expiresAt"].as_str().unwrap()).unwrap();
    let hour = (expires.0 - Timestamp::now().0).num_seconds();
    assert!((3590..=3600).contains(&hour), "{hour}");
}
