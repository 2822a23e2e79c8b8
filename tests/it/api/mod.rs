//! The management API served over real HTTP on 127.0.0.1, over the local
//! stack's tables: party keys decide who calls, and a party sees only its
//! own. The helpers; the tests by concern in the modules.
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

pub struct Api {
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

/// The API's state over a local stack (prefix `t`);
/// destinations are checked against `egress` when written.
async fn api_state(s: &Stack, egress: AllowList) -> hubhooks::api::ApiState {
    let resources = hubhooks_cli::local::api::resources(&s.stack, "t");
    let mut state = hubhooks::adapters::api::state(&s.ddb, &s.sqs, &resources, egress)
        .await
        .unwrap();
    state.operator_token = Some(hubhooks::api::operator::token_hash(OPERATOR));
    state
}

/// The operator token the tests' API takes (as `local run` prints one).
const OPERATOR: &str = "hho_test-operator-token";

async fn serve() -> Api {
    serve_with(QueueSettings::default(), AllowList::default()).await
}

/// Served over a stack whose runner delivers to receivers on 127.0.0.1
/// (the local egress), retrying after 1 s.
async fn serve_delivering() -> Api {
    let egress = AllowList::parse(hubhooks_cli::local::runner::LOCAL_EGRESS).unwrap();
    let queues = QueueSettings {
        visibility_timeout_secs: 1,
        ..QueueSettings::default()
    };
    serve_with(queues, egress).await
}

/// Served over a stack with these queues; destinations checked against
/// `egress` (the local runner's to reach receivers on 127.0.0.1).
async fn serve_with(queues: QueueSettings, egress: AllowList) -> Api {
    let s = Stack::start(queues).await.unwrap();
    let sub = |id: &str, partner: i64| {
        json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": partner},
               "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://x.example/"}})
    };
    s.put_config(&[sub("a-1", 1413), sub("a-2", 1413), sub("b-1", 9999)])
        .await
        .unwrap();
    let table = "t-party-keys".to_owned();
    let state = Arc::new(api_state(&s, egress).await);
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
        let mut req =
            reqwest::Client::new().request(method.clone(), format!("{}{path}", self.base));
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
        let answer = Answer {
            status,
            kind,
            headers,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        };
        // Every answer of every test is as the published document says.
        if let Err(e) = conforms(method.as_str(), path, &answer, &text) {
            panic!("{method} {path} → {}: {e}\n{text}", answer.status);
        }
        answer
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

/// Whether an answer is one the OpenAPI document gives for the operation:
/// its status is listed, its media type is, and its body is valid against
/// the schema (Draft 2020-12, references resolved in the document).
fn conforms(method: &str, path: &str, a: &Answer, text: &str) -> Result<(), String> {
    static DOC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(hubhooks::api::openapi::document);
    let path = path.split('?').next().unwrap_or_default();
    let matches = |template: &str| {
        let (t, p): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len()
            && t.iter()
                .zip(&p)
                .all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
    };
    let Some((_, item)) = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(t, _)| matches(t))
    else {
        // Undocumented paths are the router's fallback.
        return (a.status == 404)
            .then_some(())
            .ok_or("an undocumented path".into());
    };
    let Some(op) = item.get(method.to_lowercase()) else {
        return (a.status == 405)
            .then_some(())
            .ok_or("an undocumented method".into());
    };
    let mut response = op["responses"]
        .get(a.status.to_string())
        .ok_or_else(|| format!("status {} is not documented", a.status))?
        .clone();
    if let Some(r) = response["$ref"].as_str() {
        let pointer = r.trim_start_matches('#');
        response = doc.pointer(pointer).ok_or(format!("no {r}"))?.clone();
    }
    let Some(content) = response.get("content") else {
        return text
            .is_empty()
            .then_some(())
            .ok_or("a body where none is documented".into());
    };
    let essence = a.kind.split(';').next().unwrap_or_default().trim();
    let schema = &content
        .get(essence)
        .ok_or_else(|| format!("media type `{essence}` is not documented"))?["schema"];
    let mut root = doc.clone();
    root["$ref"] = schema["$ref"].clone();
    if root["$ref"].is_null() {
        root = schema.clone();
    }
    let validator = jsonschema::draft202012::new(&root).map_err(|e| e.to_string())?;
    let errors: Vec<String> = validator
        .iter_errors(&a.body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    errors.is_empty().then_some(()).ok_or(errors.join("; "))
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

mod access;
mod admin;
mod bad_input;
mod config_items;
mod dead_letters;
mod deliveries;
mod isolation;
mod journey;
mod lambda;
mod notices;
mod paging;
mod portal;
mod subscriptions;

fn a_subscription() -> Value {
    json!({
        "description": "statuses to our ERP",
        "eventTypes": ["newStatus", "newMessage"],
        "destination": {"method": "POST", "url": "https://erp.example/hooks"},
        "auth": {"bearerToken": "erp-token-1"}
    })
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
