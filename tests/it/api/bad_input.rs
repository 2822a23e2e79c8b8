//! Every field of every body, refused with its pointer and its rule.
use super::*;

/// (what, body, status, pointer, words in the detail)
type BadBody = (
    &'static str,
    Vec<u8>,
    u16,
    Option<&'static str>,
    &'static str,
);

/// Every field of a subscription's body, and the body itself, refused
/// with a problem naming the field by JSON Pointer; nothing is written.
#[tokio::test]
async fn bad_subscription_bodies_are_refused_naming_the_field() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut v = a_subscription();
        change(&mut v);
        v.to_string().into_bytes()
    };
    let big = "x".repeat(70 * 1024);
    // (what, body, status, pointer, words in the detail)
    let table: Vec<BadBody> = vec![
        (
            "not JSON",
            b"{\"eventTypes\": [".to_vec(),
            400,
            None,
            "not JSON",
        ),
        (
            "not an object",
            b"[1]".to_vec(),
            422,
            Some(""),
            "invalid type",
        ),
        (
            "unknown field",
            with(&|v| v["colour"] = json!("red")),
            422,
            Some("/colour"),
            "unknown field `colour`",
        ),
        (
            "id is the service's",
            with(&|v| v["id"] = json!("mine")),
            422,
            Some("/id"),
            "unknown field `id`",
        ),
        (
            "party is the key's",
            with(&|v| v["party"] = json!({"type": "partner", "id": 9999})),
            422,
            Some("/party"),
            "unknown field `party`",
        ),
        (
            "secret names are the service's",
            with(&|v| v["auth"] = json!({"signingSecret": "acme-signing"})),
            422,
            Some("/auth/signingSecret"),
            "unknown field `signingSecret`",
        ),
        (
            "no event types",
            with(&|v| {
                v.as_object_mut().unwrap().remove("eventTypes");
            }),
            422,
            Some("/eventTypes"),
            "missing field `eventTypes`",
        ),
        (
            "empty event types",
            with(&|v| v["eventTypes"] = json!([])),
            422,
            Some("/eventTypes"),
            "",
        ),
        (
            "unknown event type",
            with(&|v| v["eventTypes"] = json!(["newStatus", "newThing"])),
            422,
            Some("/eventTypes/1"),
            "unknown event type `newThing`",
        ),
        (
            "event types not a list",
            with(&|v| v["eventTypes"] = json!("newStatus")),
            422,
            Some("/eventTypes"),
            "invalid type",
        ),
        (
            "unknown version",
            with(&|v| v["version"] = json!("v9")),
            422,
            Some("/version"),
            "unknown variant `v9`",
        ),
        (
            "unknown per-type version",
            with(&|v| {
                v["eventTypes"] = json!(["newStatus"]);
                v["version"] = json!("v1");
                v["perType"] = json!({"newStatus": {"version": "v4"}});
            }),
            422,
            Some("/perType/newStatus/version"),
            "unknown variant",
        ),
        (
            "no destination",
            with(&|v| {
                v.as_object_mut().unwrap().remove("destination");
            }),
            422,
            Some("/destination"),
            "perType gives none",
        ),
        (
            "destination not an object",
            with(&|v| v["destination"] = json!("https://x.example/")),
            422,
            Some("/destination"),
            "invalid type",
        ),
        (
            "unknown destination field",
            with(&|v| v["destination"]["retries"] = json!(3)),
            422,
            Some("/destination/retries"),
            "unknown field `retries`",
        ),
        (
            "AMQP is an operator's",
            with(&|v| v["destination"]["transport"] = json!("amqp")),
            422,
            Some("/destination/transport"),
            "unknown field `transport`",
        ),
        (
            "unknown method",
            with(&|v| v["destination"]["method"] = json!("FETCH")),
            422,
            Some("/destination/method"),
            "unknown variant `FETCH`",
        ),
        (
            "URL not a URL",
            with(&|v| v["destination"]["url"] = json!("erp hooks")),
            422,
            Some("/destination/url"),
            "not a valid URL",
        ),
        (
            "URL not http",
            with(&|v| v["destination"]["url"] = json!("ftp://erp.example/")),
            422,
            Some("/destination/url"),
            "http",
        ),
        (
            "URL wants encoding",
            with(&|v| v["destination"]["url"] = json!("https://erp.example/a b")),
            422,
            Some("/destination/url"),
            "write it as",
        ),
        (
            "URL the guard refuses",
            with(&|v| v["destination"]["url"] = json!("http://169.254.169.254/latest")),
            422,
            Some("/destination/url"),
            "may not reach",
        ),
        (
            "URL to loopback",
            with(&|v| v["destination"]["url"] = json!("http://127.0.0.1:9/")),
            422,
            Some("/destination/url"),
            "loopback",
        ),
        (
            "unknown per-type type",
            with(&|v| v["perType"] = json!({"newThing": {"version": "v3"}})),
            422,
            Some("/perType/newThing"),
            "unknown event type `newThing`",
        ),
        (
            "per-type URL the guard refuses",
            with(
                &|v| v["perType"] = json!({"newMessage": {"destination": {"method": "POST", "url": "http://10.0.0.1/"}}}),
            ),
            422,
            Some("/perType/newMessage/destination/url"),
            "private",
        ),
        (
            "header not sendable",
            with(&|v| v["destination"]["headers"] = json!({"X-Bad": "a\nb"})),
            422,
            Some("/destination/headers/X-Bad"),
            "",
        ),
        (
            "timeout too long",
            with(&|v| v["destination"]["timeoutMs"] = json!(999_999)),
            422,
            Some("/destination/timeoutMs"),
            "30000",
        ),
        (
            "timeout a string",
            with(&|v| v["destination"]["timeoutMs"] = json!("5s")),
            422,
            Some("/destination/timeoutMs"),
            "invalid type",
        ),
        (
            "too many attempts",
            with(&|v| v["maxAttempts"] = json!(99)),
            422,
            Some("/maxAttempts"),
            "20",
        ),
        (
            "negative attempts",
            with(&|v| v["maxAttempts"] = json!(-1)),
            422,
            Some("/maxAttempts"),
            "invalid value",
        ),
        (
            "unknown ordering",
            with(&|v| v["ordering"] = json!("perParty")),
            422,
            Some("/ordering"),
            "unknown variant",
        ),
        (
            "rate too high",
            with(&|v| v["maxPerSecond"] = json!(1_000_000)),
            422,
            Some("/maxPerSecond"),
            "1000",
        ),
        (
            "transition without sides",
            with(&|v| {
                v["eventTypes"] = json!(["statusTransition"]);
                v["transitions"] = json!([{}]);
            }),
            422,
            Some("/transitions/0"),
            "",
        ),
        (
            "transition unknown field",
            with(&|v| v["transitions"] = json!([{"from": "a", "via": "b"}])),
            422,
            Some("/transitions/0/via"),
            "unknown field `via`",
        ),
        (
            "empty bearer token",
            with(&|v| v["auth"] = json!({"bearerToken": ""})),
            422,
            Some("/auth/bearerToken"),
            "1 to 4096",
        ),
        (
            "description not text",
            with(&|v| v["description"] = json!(5)),
            422,
            Some("/description"),
            "invalid type",
        ),
        (
            "over 64 KiB",
            with(&|v| v["description"] = json!(big)),
            413,
            None,
            "64 KiB",
        ),
    ];
    let before = api.stored("a-1").await;
    let mut wrong = Vec::new();
    for (what, body, status, pointer, words) in table {
        let a = api
            .call(
                reqwest::Method::POST,
                "/v1/subscriptions",
                Some(&key),
                Some(body),
                &[],
            )
            .await;
        let detail = a.body["detail"].as_str().unwrap_or_default();
        let right = a.status == status
            && a.kind == "application/problem+json"
            && pointer.is_none_or(|p| a.body["pointer"] == json!(p))
            && detail.contains(words)
            && !detail.contains("hubhooks::");
        if !right {
            wrong.push(format!("{what}: {} {}", a.status, a.body));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Nothing was written: the partner's subscriptions are the two it had.
    let (_, _, listed) = api.get("/v1/subscriptions", Some(&key)).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2, "{listed}");
    assert_eq!(api.stored("a-1").await, before);
    // A body that is not JSON by its type.
    let a = api
        .call(
            reqwest::Method::POST,
            "/v1/subscriptions",
            Some(&key),
            Some(b"x".to_vec()),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(a.status, 415);
}

/// Every field of the action bodies (disable, rotate, test, replay),
/// refused with its pointer and rule; nothing changes and nothing is sent.
#[tokio::test]
async fn bad_action_bodies_are_refused_naming_the_field() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let now = Timestamp::now();
    let ago = |d: chrono::Duration| Timestamp(now.0 - d).to_contract_string();
    let later = Timestamp(now.0 + chrono::Duration::hours(1)).to_contract_string();
    let hour_ago = ago(chrono::Duration::hours(1));
    // (route under /v1/subscriptions/a-1, body, status, pointer, words)
    let table: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "/disable",
            json!({}),
            422,
            "/reason",
            "missing field `reason`",
        ),
        ("/disable", json!({"reason": " "}), 422, "/reason", "1 to"),
        (
            "/disable",
            json!({"reason": "x".repeat(501)}),
            422,
            "/reason",
            "1 to",
        ),
        (
            "/disable",
            json!({"reason": 5}),
            422,
            "/reason",
            "invalid type",
        ),
        (
            "/disable",
            json!({"reason": "x", "why": 1}),
            422,
            "/why",
            "unknown field",
        ),
        (
            "/secret/rotate",
            json!({"graceSeconds": 604_801}),
            422,
            "/graceSeconds",
            "604800",
        ),
        (
            "/secret/rotate",
            json!({"graceSeconds": -1}),
            422,
            "/graceSeconds",
            "invalid value",
        ),
        (
            "/secret/rotate",
            json!({"graceSeconds": "1h"}),
            422,
            "/graceSeconds",
            "invalid type",
        ),
        (
            "/secret/rotate",
            json!({"grace": 1}),
            422,
            "/grace",
            "unknown field",
        ),
        (
            "/test",
            json!({"eventType": "newThing"}),
            422,
            "/eventType",
            "unknown event type",
        ),
        (
            "/test",
            json!({"eventType": 3}),
            422,
            "/eventType",
            "invalid type",
        ),
        ("/test", json!({"case": "x"}), 422, "/case", "unknown field"),
        ("/replay", json!({}), 422, "/since", "missing field `since`"),
        (
            "/replay",
            json!({"since": "yesterday"}),
            422,
            "/since",
            "RFC 3339",
        ),
        (
            "/replay",
            json!({"since": hour_ago, "until": "now"}),
            422,
            "/until",
            "RFC 3339",
        ),
        (
            "/replay",
            json!({"since": ago(chrono::Duration::days(31))}),
            422,
            "/since",
            "older than the attempt log keeps",
        ),
        (
            "/replay",
            json!({"since": hour_ago, "until": later}),
            422,
            "/until",
            "in the future",
        ),
        (
            "/replay",
            json!({"since": hour_ago, "until": ago(chrono::Duration::hours(2))}),
            422,
            "/until",
            "before since",
        ),
        (
            "/replay",
            json!({"since": hour_ago, "dryRun": "yes"}),
            422,
            "/dryRun",
            "invalid type",
        ),
        (
            "/replay",
            json!({"since": hour_ago, "failedOnly": 1}),
            422,
            "/failedOnly",
            "invalid type",
        ),
        (
            "/replay",
            json!({"since": hour_ago, "rate": 5}),
            422,
            "/rate",
            "unknown field",
        ),
    ];
    let before = api.stored("a-1").await;
    let queue = api.stack.stack.delivery_queue_url.clone();
    let mut wrong = Vec::new();
    for (route, body, status, pointer, words) in table {
        let path = format!("/v1/subscriptions/a-1{route}");
        let a = api.json("POST", &path, &key, body.clone()).await;
        let detail = a.body["detail"].as_str().unwrap_or_default();
        let right = a.status == status
            && a.kind == "application/problem+json"
            && a.body["pointer"] == json!(pointer)
            && detail.contains(words);
        if !right {
            wrong.push(format!("{route} {body}: {} {}", a.status, a.body));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(api.stored("a-1").await, before);
    assert_eq!(api.stack.depth(&queue).await.unwrap(), 0);
}
