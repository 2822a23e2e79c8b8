//! The management API served over real HTTP on 127.0.0.1, over the local
//! stack's tables: party keys decide who calls, and a party sees only its
//! own. (The first routes; the issue's full route table is to come.)
use hubhooks::adapters::api::ApiTables;
use hubhooks::adapters::party_keys::DynamoPartyKeys;
use hubhooks::api::router;
use hubhooks::egress::AllowList;
use hubhooks::party::Party;
use hubhooks::party_key::{self, PartyKey};
use hubhooks::timestamp::Timestamp;
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::sync::Arc;

struct Api {
    base: String,
    keys: DynamoPartyKeys,
    stack: Stack,
}

/// What the API answered: status, content type, headers, body as JSON.
struct Answer {
    status: u16,
    kind: String,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn serve() -> Api {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let sub = |id: &str, partner: i64| {
        json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": partner},
               "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://x.example/"}})
    };
    s.put_config(&[sub("a-1", 1413), sub("a-2", 1413), sub("b-1", 9999)])
        .await
        .unwrap();
    let table = "t-party-keys".to_owned();
    let tables = ApiTables {
        party_keys: table.clone(),
        config: s.stack.tables.config.clone(),
        secrets: s.stack.secrets_table.clone(),
        attempt_log: s.stack.attempt_log_table.clone(),
        attempt_log_days: 30,
    };
    let state = Arc::new(
        hubhooks::adapters::api::state(&s.ddb, &tables, AllowList::default())
            .await
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    Api {
        base,
        keys: DynamoPartyKeys::new(s.ddb.clone(), table),
        stack: s,
    }
}

impl Api {
    async fn key(&self, party: Party, change: impl FnOnce(PartyKey) -> PartyKey) -> String {
        let (plain, stored) = party_key::create(party, None, Timestamp::now()).unwrap();
        self.keys.put(&change(stored)).await.unwrap();
        plain.expose().to_owned()
    }

    async fn get(&self, path: &str, key: Option<&str>) -> (u16, String, Value) {
        let a = self.call(reqwest::Method::GET, path, key, None, &[]).await;
        (a.status, a.kind, a.body)
    }

    /// Any request; `body` is sent as it is (JSON unless a header says
    /// otherwise).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.header("authorization", format!("Bearer {k}"));
        }
        if let Some(b) = body {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("content-type", "application/json");
            }
            req = req.body(b);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let kind = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = res.text().await.unwrap();
        Answer {
            status,
            kind,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn json(&self, method: &str, path: &str, key: &str, body: Value) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.call(
            method,
            path,
            Some(key),
            Some(body.to_string().into_bytes()),
            &[],
        )
        .await
    }

    /// The stored item, as the store holds it.
    async fn stored(&self, id: &str) -> Option<Value> {
        use hubhooks::ports::ConfigStore;
        hubhooks::adapters::config_writer::ConfigWriter::new(
            self.stack.ddb.clone(),
            self.stack.stack.tables.config.clone(),
        )
        .item(id)
        .await
        .unwrap()
        .map(|s| s.value)
    }
}

/// The ids of a list's `data`, in order.
fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_party_sees_its_own_subscriptions_and_another_partys_id_is_not_found() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    let (status, _, body) = api.get("/v1/subscriptions", Some(&a)).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&body), ["a-1", "a-2"]);
    let (status, _, body) = api.get("/v1/subscriptions/a-2", Some(&a)).await;
    assert_eq!((status, body["id"].as_str()), (200, Some("a-2")));
    // Another party's id answers exactly as a missing one.
    let foreign = api.get("/v1/subscriptions/b-1", Some(&a)).await;
    let missing = api.get("/v1/subscriptions/nope", Some(&a)).await;
    assert_eq!(foreign, missing);
    assert_eq!(foreign.0, 404);
    assert_eq!(foreign.1, "application/problem+json");
    assert_eq!(
        foreign.2,
        json!({"title": "Not Found", "status": 404, "detail": "no subscription with this id"})
    );
    // The key's use is noted.
    let id = party_key::id_of(&a).unwrap();
    assert!(
        api.keys
            .get(id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at
            .is_some()
    );
}

#[tokio::test]
async fn no_key_a_malformed_revoked_expired_or_unknown_one_is_401_alike() {
    let api = serve().await;
    let past = Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap();
    let revoked = api
        .key(Party::partner(1413), |k| PartyKey {
            revoked_at: Some(past),
            ..k
        })
        .await;
    let expired = api
        .key(Party::partner(1413), |k| PartyKey {
            expires_at: Some(past),
            ..k
        })
        .await;
    let (unknown, _) = party_key::create(Party::partner(1413), None, Timestamp::now()).unwrap();
    let good = api.key(Party::partner(1413), |k| k).await;
    let mut forged = good.clone();
    forged.replace_range(good.len() - 2.., "xx");
    let refused = [
        None,
        Some("hhk_nonsense"),
        Some(revoked.as_str()),
        Some(expired.as_str()),
        Some(unknown.expose()),
        Some(forged.as_str()),
    ];
    let mut answers = Vec::new();
    for key in refused {
        let answer = api.get("/v1/subscriptions", key).await;
        assert_eq!(answer.0, 401, "{key:?}");
        assert_eq!(answer.1, "application/problem+json");
        answers.push(answer.2);
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "every refusal reads alike: {answers:?}");
    // No presented key comes back.
    for key in refused.iter().flatten() {
        assert!(!answers[0].to_string().contains(key), "{key}");
    }
    assert_eq!(api.get("/v1/subscriptions", Some(&good)).await.0, 200);
}

#[tokio::test]
async fn the_catalogue_of_event_types_is_served_from_the_payload_types() {
    let api = serve().await;
    let key = api.key(Party::provider(1004), |k| k).await;
    let (status, _, body) = api.get("/v1/event-types", Some(&key)).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"].as_array().unwrap().len(), 8);
    let (status, _, body) = api.get("/v1/event-types/caseUpdated", Some(&key)).await;
    assert_eq!(status, 200);
    let versions: Vec<&str> = body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["v3", "v2"]);
    assert_eq!(api.get("/v1/event-types/nothing", Some(&key)).await.0, 404);
    assert_eq!(api.get("/v1/nowhere", Some(&key)).await.0, 404);
}

fn a_subscription() -> Value {
    json!({
        "description": "statuses to our ERP",
        "eventTypes": ["newStatus", "newMessage"],
        "destination": {"method": "POST", "url": "https://erp.example/hooks"},
        "auth": {"bearerToken": "erp-token-1"}
    })
}

#[tokio::test]
async fn a_party_creates_reads_changes_disables_enables_and_deletes_a_subscription() {
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    // GIVEN a new subscription
    let created = api
        .json("POST", "/v1/subscriptions", &key, a_subscription())
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sub_"), "{id}");
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("/v1/subscriptions/{id}")
    );
    // THEN its signing secret is shown once, and the stored item names
    // only secrets the API keeps for it.
    let secret = created.body["signingSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let stored = api.stored(&id).await.unwrap();
    assert_eq!(
        stored["auth"],
        json!({"signingSecret": format!("api/{id}/signing"), "bearerSecret": format!("api/{id}/bearer")})
    );
    assert_eq!(stored["party"], json!({"type": "partner", "id": 1413}));
    let read = api
        .call(
            reqwest::Method::GET,
            &format!("/v1/subscriptions/{id}"),
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(read.status, 200);
    assert!(read.body.get("signingSecret").is_none());
    assert!(!read.body.to_string().contains("erp-token-1"));
    assert_eq!(
        read.body["auth"],
        json!({"signing": true, "bearerToken": true, "xToken": false})
    );
    assert_eq!(read.body["enabled"], json!(true));
    let etag = read.headers["etag"].to_str().unwrap().to_owned();
    assert_eq!(created.headers["etag"].to_str().unwrap(), etag);

    // WHEN it is patched with the ETag read
    let path = format!("/v1/subscriptions/{id}");
    let patched = api
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&key),
            Some(br#"{"eventTypes": ["newStatus"], "description": null}"#.to_vec()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["eventTypes"], json!(["newStatus"]));
    assert!(patched.body.get("description").is_none());
    assert_eq!(
        patched.body["destination"]["url"],
        "https://erp.example/hooks"
    );
    let new_etag = patched.headers["etag"].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    // THEN a write with the old ETag lost the race: 412, nothing changed.
    let stale = api
        .call(
            reqwest::Method::PUT,
            &path,
            Some(&key),
            Some(a_subscription().to_string().into_bytes()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.body);
    assert_eq!(stale.kind, "application/problem+json");
    assert_eq!(
        api.stored(&id).await.unwrap()["eventTypes"],
        json!(["newStatus"])
    );
    // A replace with the current one is taken.
    let replaced = api
        .call(
            reqwest::Method::PUT,
            &path,
            Some(&key),
            Some(a_subscription().to_string().into_bytes()),
            &[("if-match", &new_etag)],
        )
        .await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(
        replaced.body["eventTypes"],
        json!(["newStatus", "newMessage"])
    );

    // Disable with a reason, then enable: the reason shows, then goes.
    let disabled = api
        .json(
            "POST",
            &format!("{path}/disable"),
            &key,
            json!({"reason": "ERP maintenance"}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["enabled"], json!(false));
    assert_eq!(disabled.body["disabledReason"], "ERP maintenance");
    assert!(disabled.body["disabledAt"].is_string());
    let enabled = api
        .call(
            reqwest::Method::POST,
            &format!("{path}/enable"),
            Some(&key),
            None,
            &[],
        )
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(enabled.body["enabled"], json!(true));
    assert!(enabled.body.get("disabledReason").is_none());

    // Delete: gone, with the secrets the API kept for it.
    let deleted = api
        .call(reqwest::Method::DELETE, &path, Some(&key), None, &[])
        .await;
    assert_eq!(deleted.status, 204);
    assert!(api.stored(&id).await.is_none());
    assert_eq!(api.get(&path, Some(&key)).await.0, 404);
    let secrets = hubhooks::adapters::secrets::SecretAdmin::new(
        api.stack.ddb.clone(),
        api.stack.stack.secrets_table.clone(),
    )
    .list()
    .await
    .unwrap();
    assert!(secrets.iter().all(|s| !s.name.contains(&id)), "{secrets:?}");
}

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
            Some(""),
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

/// Party A's key on party B's subscription, over every subscription route:
/// 404 as for a missing id, and nothing of B's changes.
#[tokio::test]
async fn another_partys_subscription_is_not_found_on_every_route_and_unchanged() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    let before = api.stored("b-1").await.unwrap();
    let body = a_subscription().to_string().into_bytes();
    let reason = br#"{"reason": "x"}"#.to_vec();
    let routes: Vec<(reqwest::Method, &str, Option<Vec<u8>>)> = vec![
        (reqwest::Method::GET, "/v1/subscriptions/{id}", None),
        (
            reqwest::Method::PUT,
            "/v1/subscriptions/{id}",
            Some(body.clone()),
        ),
        (
            reqwest::Method::PATCH,
            "/v1/subscriptions/{id}",
            Some(b"{}".to_vec()),
        ),
        (reqwest::Method::DELETE, "/v1/subscriptions/{id}", None),
        (reqwest::Method::POST, "/v1/subscriptions/{id}/enable", None),
        (
            reqwest::Method::POST,
            "/v1/subscriptions/{id}/disable",
            Some(reason),
        ),
        (
            reqwest::Method::POST,
            "/v1/subscriptions/{id}/secret/rotate",
            Some(b"{}".to_vec()),
        ),
        (
            reqwest::Method::GET,
            "/v1/deliveries?subscription={id}",
            None,
        ),
    ];
    let mut cases = 0;
    for (method, route, body) in routes {
        let foreign = api
            .call(
                method.clone(),
                &route.replace("{id}", "b-1"),
                Some(&a),
                body.clone(),
                &[],
            )
            .await;
        let missing = api
            .call(
                method.clone(),
                &route.replace("{id}", "nope"),
                Some(&a),
                body,
                &[],
            )
            .await;
        assert_eq!(foreign.status, 404, "{method} {route}: {}", foreign.body);
        assert_eq!(
            (foreign.kind, foreign.body),
            (missing.kind, missing.body),
            "{method} {route}"
        );
        assert_eq!(api.stored("b-1").await.unwrap(), before, "{method} {route}");
        cases += 1;
    }
    assert_eq!(cases, 8);
}

/// The api Lambda's path: an API Gateway HTTP API (payload 2.0) event from
/// events/, as lambda_http turns it into a request, through the same
/// router; the key in the fixture is replaced by a real one.
#[tokio::test]
async fn api_gateway_v2_events_reach_the_router_as_the_lambda_serves_them() {
    use tower::ServiceExt;
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let tables = ApiTables {
        party_keys: "t-party-keys".into(),
        config: api.stack.stack.tables.config.clone(),
        secrets: api.stack.stack.secrets_table.clone(),
        attempt_log: api.stack.stack.attempt_log_table.clone(),
        attempt_log_days: 30,
    };
    let state = hubhooks::adapters::api::state(&api.stack.ddb, &tables, AllowList::default())
        .await
        .unwrap();
    let app = router(Arc::new(state));
    let placeholder = "hhk_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let event = |name: &str, key: &str| {
        let text = std::fs::read_to_string(workspace_root().join("events").join(name))
            .unwrap()
            .replace(placeholder, key);
        let request: lambda_http::request::LambdaRequest = serde_json::from_str(&text).unwrap();
        lambda_http::Request::from(request)
    };
    let body = |r: axum::response::Response| async move {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let listed = app
        .clone()
        .oneshot(event("api-list-subscriptions.json", &key))
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(ids(&body(listed).await), ["a-1", "a-2"]);
    let created = app
        .clone()
        .oneshot(event("api-create-subscription.json", &key))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert_eq!(created["eventTypes"], json!(["newStatus"]));
    assert_eq!(created["party"], json!({"type": "partner", "id": 1413}));
    // The fixture's own placeholder key is no key.
    let refused = app
        .oneshot(event("api-list-subscriptions.json", placeholder))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

/// Attempts as the sender logs them (its own writer of the attempt log).
/// (delivery, subscription, attempt, outcome, status, answer)
type Logged<'a> = (&'a str, &'a str, u32, &'a str, Option<u16>, &'a str);

async fn log_attempts(api: &Api, rows: &[Logged<'_>]) {
    use hubhooks::attempt::{AttemptOutcome, AttemptRecord};
    use hubhooks::ports::AttemptLog;
    let log = hubhooks::adapters::dynamo::DynamoAttemptLog::new(
        api.stack.ddb.clone(),
        api.stack.stack.attempt_log_table.clone(),
        30,
        true,
    );
    for (i, (delivery, subscription, attempt, outcome, status, answer)) in rows.iter().enumerate() {
        let raw = api.stored(subscription).await.unwrap();
        let item = hubhooks::config::ConfigItem::parse(&hubhooks::config::RawConfigItem {
            id: subscription.to_string(),
            value: raw,
        })
        .unwrap();
        let hubhooks::config::ConfigItem::Subscription(s) = item else {
            panic!()
        };
        let at = Timestamp(Timestamp::now().0 - chrono::Duration::minutes(60 - i as i64));
        let d = hubhooks::delivery::Delivery::new(
            hubhooks::ids::DeliveryId::new(delivery.to_string()),
            &s,
            hubhooks::event::EventType::NewStatus,
            s.destination.as_ref().unwrap(),
            "68ea1505-a44f-4434-be5a-dcc959be250e",
            "{}".into(),
            "test".into(),
            at,
        );
        let outcome: AttemptOutcome = serde_json::from_value(json!(outcome)).unwrap();
        let record = AttemptRecord {
            delivery_id: d.id.clone(),
            attempt: *attempt,
            subscription_id: s.id.clone(),
            event_type: hubhooks::event::EventType::NewStatus,
            case_guid: hubhooks::ids::CaseGuid::new(
                "68ea1505-a44f-4434-be5a-dcc959be250e".to_owned(),
            ),
            transport: "http".into(),
            outcome,
            status: *status,
            error: status
                .filter(|s| *s >= 400)
                .map(|s| format!("receiver answered {s}")),
            latency_ms: Some(12),
            excerpt: answer.to_string(),
            at,
            test: false,
        };
        log.record(&record, &d).await.unwrap();
    }
    log.flush().await.unwrap();
}

#[tokio::test]
async fn a_party_searches_its_deliveries_a_page_at_a_time_and_reads_one_with_its_attempts() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    log_attempts(
        &api,
        &[
            ("d-1", "a-1", 1, "retrying", Some(503), "busy"),
            ("d-1", "a-1", 2, "delivered", Some(200), "ok"),
            (
                "d-2",
                "a-2",
                1,
                "deadLettered",
                Some(500),
                "<script>alert(1)</script>",
            ),
            ("d-3", "b-1", 1, "delivered", Some(200), "theirs"),
        ],
    )
    .await;
    let (status, _, all) = api.get("/v1/deliveries", Some(&a)).await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(ids(&all), ["d-2", "d-1"], "newest first, only its own");
    assert_eq!(all["data"][1]["attempts"], 2);
    assert_eq!(all["data"][1]["outcome"], "delivered");
    let (_, _, failed) = api.get("/v1/deliveries?outcome=failed", Some(&a)).await;
    assert_eq!(ids(&failed), ["d-2"]);
    let (_, _, by_sub) = api.get("/v1/deliveries?subscription=a-1", Some(&a)).await;
    assert_eq!(ids(&by_sub), ["d-1"]);
    let (_, _, by_case) = api
        .get(
            "/v1/deliveries?case=68ea1505-a44f-4434-be5a-dcc959be250e",
            Some(&a),
        )
        .await;
    assert_eq!(ids(&by_case), ["d-2", "d-1"]);
    // Another party's subscription: as a missing one.
    let foreign = api.get("/v1/deliveries?subscription=b-1", Some(&a)).await;
    let missing = api.get("/v1/deliveries?subscription=nope", Some(&a)).await;
    assert_eq!((foreign.0, &foreign.2), (404, &missing.2));
    // A page at a time, by a signed cursor.
    let (_, _, first) = api.get("/v1/deliveries?limit=1", Some(&a)).await;
    assert_eq!(ids(&first), ["d-2"]);
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let (_, _, second) = api
        .get(&format!("/v1/deliveries?limit=1&cursor={cursor}"), Some(&a))
        .await;
    assert_eq!(ids(&second), ["d-1"]);
    assert!(second["nextCursor"].is_null());
    let mut tampered = cursor.clone();
    tampered.replace_range(0..1, if cursor.starts_with('e') { "f" } else { "e" });
    for (what, path) in [
        (
            "tampered",
            format!("/v1/deliveries?limit=1&cursor={tampered}"),
        ),
        (
            "another query",
            format!("/v1/deliveries?limit=2&cursor={cursor}"),
        ),
    ] {
        let (status, _, body) = api.get(&path, Some(&a)).await;
        assert_eq!(
            (status, body["pointer"].as_str()),
            (400, Some("/cursor")),
            "{what}"
        );
    }
    let b = api.key(Party::partner(9999), |k| k).await;
    let (status, _, _) = api
        .get(&format!("/v1/deliveries?limit=1&cursor={cursor}"), Some(&b))
        .await;
    assert_eq!(status, 400, "another party's cursor");
    // One delivery, every attempt; the receiver's answer as text.
    let (status, _, one) = api.get("/v1/deliveries/d-1", Some(&a)).await;
    assert_eq!(status, 200, "{one}");
    let log = one["attemptLog"].as_array().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["status"], 503);
    assert_eq!(log[0]["answer"], "busy");
    assert_eq!(log[0]["error"], "receiver answered 503");
    assert_eq!(log[1]["outcome"], "delivered");
    assert_eq!(log[1]["durationMs"], 12);
    let (_, _, two) = api.get("/v1/deliveries/d-2", Some(&a)).await;
    assert_eq!(two["attemptLog"][0]["answer"], "<script>alert(1)</script>");
    let foreign = api.get("/v1/deliveries/d-3", Some(&a)).await;
    let missing = api.get("/v1/deliveries/d-404", Some(&a)).await;
    assert_eq!(foreign.0, 404);
    assert_eq!(foreign, missing);
}

#[tokio::test]
async fn a_party_rotates_its_signing_key_with_a_grace_period_it_picks() {
    let api = serve().await;
    let a = api.key(Party::partner(1413), |k| k).await;
    let created = api
        .json("POST", "/v1/subscriptions", &a, a_subscription())
        .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let first = created.body["signingSecret"].as_str().unwrap().to_owned();
    let path = format!("/v1/subscriptions/{id}/secret/rotate");
    let too_long = api
        .json("POST", &path, &a, json!({"graceSeconds": 604_801}))
        .await;
    assert_eq!(
        (too_long.status, too_long.body["pointer"].as_str()),
        (422, Some("/graceSeconds"))
    );
    let rotated = api
        .json("POST", &path, &a, json!({"graceSeconds": 3600}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new = rotated.body["signingSecret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != first);
    let retire = Timestamp::parse(rotated.body["previousKeyRetiresAt"].as_str().unwrap()).unwrap();
    let in_an_hour = Timestamp::now().0 + chrono::Duration::hours(1);
    assert!((retire.0 - in_an_hour).num_seconds().abs() < 60, "{retire}");
    // Both keys sign until then, the new one first (the sender's reading).
    use hubhooks::ports::SecretStore;
    let held = hubhooks::adapters::dynamo::DynamoSecrets::new(
        api.stack.ddb.clone(),
        api.stack.stack.secrets_table.clone(),
    )
    .secret(&format!("api/{id}/signing"))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(held, [new, first]);
    // Another party: as a missing subscription; an operator's shared key:
    // refused.
    let b = api.key(Party::partner(9999), |k| k).await;
    let foreign = api.json("POST", &path, &b, json!({})).await;
    assert_eq!(foreign.status, 404);
}
