//! The OpenAPI 3.1 document of the management API and of every webhook,
//! made from the Rust types: each body's schema is the schemars schema of
//! the type the handler reads or answers with (or, for webhooks, of the
//! type the router renders). Served at `GET /v1/openapi.json`; the copy in
//! docs/openapi.json is checked against it by a test.
mod config_items;
mod dead_letters;
mod notice_destination;
mod portal;

use super::Problem;
use super::replay::ReplayInput;
use super::send_test::TestInput;
use super::subscriptions::{DisableInput, RotateInput, SubscriptionInput};
use super::views::{
    CreatedSubscription, DeliveryDetail, DeliverySummary, Page, ReplayResult, Resent, RotatedKey,
    SubscriptionView, TestResult,
};
use crate::event::{EventType, Version};
use crate::payload::catalogue::EventTypeEntry;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, schema_for};
use serde_json::{Map, Value, json};

/// The whole document.
pub fn document() -> Value {
    let mut c = Components::default();
    let paths = paths(&mut c);
    let webhooks = webhooks(&mut c);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "hubhooks management API",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "A partner's or provider's own subscriptions, deliveries and signing keys, and the webhooks hubhooks sends.",
            "description": "Authenticate with your party key (`Authorization: Bearer hhk_…`, from your hub operator). Another party's id answers 404 exactly as a missing one. Errors are RFC 9457 problem+json naming the field by JSON Pointer. The `webhooks` section documents every webhook type in every payload version, with its headers.",
            "license": {"name": "MIT", "identifier": "MIT"}
        },
        "servers": [{"url": "/", "description": "the deployment's ManagementApiUrl (or `hubhooks local run`'s)"}],
        "security": [{"partyKey": []}],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "schemas": Value::Object(c.schemas),
            "securitySchemes": {
                "partyKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "hhk_<id>_<secret>",
                    "description": "One party's key; shown once when an operator creates it (`hubhooks keys create`)."
                },
                "operatorSigV4": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authtype": "awsSigv4",
                    "description": "In AWS, /v1/admin/… is IAM-authorized: sign with SigV4 (service execute-api) as a principal allowed execute-api:Invoke on it."
                },
                "operatorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "hho_…",
                    "description": "On the local stack only: the token `hubhooks local run` prints."
                }
            },
            "responses": common_responses(),
        }
    })
}

/// `components/schemas`, filled as operations name types.
#[derive(Default)]
struct Components {
    schemas: Map<String, Value>,
}

impl Components {
    /// The schema of what the API answers with, `T`, under `name` (as
    /// serialized: a field skipped when empty is optional); a reference.
    fn add<T: JsonSchema>(&mut self, name: &str) -> Value {
        let schema = SchemaSettings::default()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<T>();
        self.insert(name, serde_json::to_value(schema).unwrap_or_default())
    }

    /// The schema of a body the API reads, `T`, under `name` (as
    /// deserialized: a field with a default is optional); a reference.
    fn add_input<T: JsonSchema>(&mut self, name: &str) -> Value {
        self.insert(
            name,
            serde_json::to_value(schema_for!(T)).unwrap_or_default(),
        )
    }

    /// A generated schema under `name`: its own `$defs` stay inside it,
    /// and its references point there from the document's root.
    fn insert(&mut self, name: &str, mut schema: Value) -> Value {
        if let Some(m) = schema.as_object_mut() {
            m.remove("$schema");
        }
        rebase(&mut schema, &format!("#/components/schemas/{name}/$defs/"));
        self.schemas.insert(name.to_owned(), schema);
        json!({"$ref": format!("#/components/schemas/{name}")})
    }
}

/// Rewrites every `#/$defs/X` reference to `base` + `X`.
fn rebase(v: &mut Value, base: &str) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                match child {
                    Value::String(s) if k == "$ref" => {
                        if let Some(rest) = s.strip_prefix("#/$defs/") {
                            *s = format!("{base}{rest}");
                        }
                    }
                    _ => rebase(child, base),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rebase(c, base)),
        _ => {}
    }
}

/// Answers every route may give.
fn common_responses() -> Value {
    let problem = |d: &str| json!({"description": d, "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    json!({
        "Unauthorized": problem("No key, or a key that is malformed, unknown, revoked or expired (all alike)."),
        "NotFound": problem("No such id among the caller's (another party's id answers exactly so)."),
        "Invalid": problem("A field refused: `pointer` names it, `detail` the rule."),
        "Malformed": problem("The body is not JSON (`detail` says where)."),
        "BadCursor": problem("The cursor was tampered with, is another query's, or expired: start again without it."),
        "TooLarge": problem("The body is larger than 64 KiB."),
        "NotJson": problem("The body's type is not application/json."),
        "Conflict": problem("The operation cannot be done to what is there (e.g. a test to a disabled subscription)."),
        "PreconditionFailed": problem("`If-Match` names a version that is no longer stored; nothing was written."),
        "TooManyRequests": problem("The stage's throttling (ApiThrottleBurst, ApiThrottleRate); retry later."),
        "Unavailable": problem("A store could not be reached; nothing is half-done; retry."),
    })
}

/// One operation: method, path, what it does, its body and its answers.
#[derive(Clone)]
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    request: Option<Value>,
    /// (status, description, schema)
    ok: Vec<(u16, &'static str, Option<Value>)>,
    /// Names in `components/responses`.
    errors: &'static [&'static str],
    params: Vec<Value>,
    /// Open to anyone (no key).
    public: bool,
}

fn path_id(name: &str, what: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": what})
}

fn query(name: &str, what: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema, "description": what})
}

/// `limit` and `cursor`.
fn paging() -> Vec<Value> {
    vec![
        query(
            "limit",
            "Page size.",
            json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
        ),
        query(
            "cursor",
            "The previous page's `nextCursor` (signed, bound to the query, 1 h).",
            json!({"type": "string"}),
        ),
    ]
}

fn if_match() -> Value {
    json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
           "description": "The `ETag` read: the write happens only if the subscription is still that version (else 412)."})
}

const READ: &[&str] = &["Unauthorized", "TooManyRequests", "Unavailable"];
const READ_ONE: &[&str] = &["Unauthorized", "NotFound", "TooManyRequests", "Unavailable"];
const SEARCH: &[&str] = &[
    "Unauthorized",
    "NotFound",
    "Invalid",
    "BadCursor",
    "TooManyRequests",
    "Unavailable",
];
const LIST: &[&str] = &[
    "Unauthorized",
    "Invalid",
    "BadCursor",
    "TooManyRequests",
    "Unavailable",
];
const WRITE: &[&str] = &[
    "Unauthorized",
    "NotFound",
    "Invalid",
    "Conflict",
    "PreconditionFailed",
    "TooManyRequests",
    "Unavailable",
];

/// Every route the router serves, by path.
fn paths(c: &mut Components) -> Value {
    c.add::<Problem>("Problem");
    let sub_view = c.add::<SubscriptionView>("Subscription");
    let sub_page = c.add::<Page<SubscriptionView>>("SubscriptionPage");
    let admin_page = sub_page.clone();
    let input = c.add_input::<SubscriptionInput>("SubscriptionInput");
    let created = c.add::<CreatedSubscription>("CreatedSubscription");
    let disable = c.add_input::<DisableInput>("DisableInput");
    let rotate = c.add_input::<RotateInput>("RotateInput");
    let rotated = c.add::<RotatedKey>("RotatedKey");
    let test_in = c.add_input::<TestInput>("TestInput");
    let test_out = c.add::<TestResult>("TestResult");
    let replay_in = c.add_input::<ReplayInput>("ReplayInput");
    let replay_out = c.add::<ReplayResult>("ReplayResult");
    let deliveries = c.add::<Page<DeliverySummary>>("DeliveryPage");
    let delivery = c.add::<DeliveryDetail>("Delivery");
    let resent = c.add::<Resent>("Resent");
    let catalogue = c.add::<Page<EventTypeEntry>>("EventTypeList");
    let entry = c.add::<EventTypeEntry>("EventType");
    let sub_id = || vec![path_id("id", "The subscription's id.")];
    let key_in = c.add_input::<super::admin::KeyInput>("KeyInput");
    let key_made = c.add::<super::admin::CreatedKey>("CreatedKey");
    let key_page = c.add::<Page<super::admin::KeyView>>("KeyPage");
    let party_q = || {
        vec![query(
            "party",
            "Only this party's: partner:ID or provider:ID.",
            json!({"type": "string", "pattern": "^(partner|provider):-?[0-9]+$"}),
        )]
    };
    let ops = vec![
        Op {
            method: "get",
            path: "/v1/openapi.json",
            id: "openapi",
            summary: "This document.",
            request: None,
            ok: vec![(
                200,
                "The OpenAPI 3.1 document.",
                Some(json!({"type": "object"})),
            )],
            errors: &[],
            params: vec![],
            public: true,
        },
        Op {
            method: "get",
            path: "/v1/event-types",
            id: "listEventTypes",
            summary: "Every webhook type, its versions, each version's JSON Schema and a sample body.",
            request: None,
            ok: vec![(200, "The catalogue.", Some(catalogue))],
            errors: READ,
            params: vec![],
            public: false,
        },
        Op {
            method: "get",
            path: "/v1/event-types/{name}",
            id: "getEventType",
            summary: "One webhook type.",
            request: None,
            ok: vec![(200, "The type.", Some(entry))],
            errors: READ_ONE,
            params: vec![path_id("name", "The type, e.g. newStatus.")],
            public: false,
        },
        Op {
            method: "get",
            path: "/v1/subscriptions",
            id: "listSubscriptions",
            summary: "The caller's subscriptions, by id, a page at a time.",
            request: None,
            ok: vec![(200, "A page.", Some(sub_page))],
            errors: LIST,
            params: paging(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/subscriptions",
            id: "createSubscription",
            summary: "A new subscription of the caller's; its signing key is shown this once.",
            request: Some(input.clone()),
            ok: vec![(
                201,
                "Made; `Location` and `ETag` name it (`Idempotent-Replayed: true` on a replay of a kept answer).",
                Some(created),
            )],
            errors: WRITE,
            params: vec![
                json!({"name": "Idempotency-Key", "in": "header", "required": false,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": "Makes the create once: the same key and body within a day get the first answer again; the same key with another body 422; while the first still runs 409. A refused or failed create frees the key."}),
            ],
            public: false,
        },
        Op {
            method: "get",
            path: "/v1/subscriptions/{id}",
            id: "getSubscription",
            summary: "One subscription, with its `ETag`.",
            request: None,
            ok: vec![(200, "The subscription.", Some(sub_view.clone()))],
            errors: READ_ONE,
            params: sub_id(),
            public: false,
        },
        Op {
            method: "put",
            path: "/v1/subscriptions/{id}",
            id: "replaceSubscription",
            summary: "Replaces what the party writes of it (state and secrets are kept).",
            request: Some(input),
            ok: vec![(200, "Replaced.", Some(sub_view.clone()))],
            errors: WRITE,
            params: [sub_id(), vec![if_match()]].concat(),
            public: false,
        },
        Op {
            method: "patch",
            path: "/v1/subscriptions/{id}",
            id: "patchSubscription",
            summary: "A JSON merge patch (RFC 7396) of what the party writes of it.",
            request: Some(json!({"type": "object"})),
            ok: vec![(200, "Changed.", Some(sub_view.clone()))],
            errors: WRITE,
            params: [sub_id(), vec![if_match()]].concat(),
            public: false,
        },
        Op {
            method: "delete",
            path: "/v1/subscriptions/{id}",
            id: "deleteSubscription",
            summary: "Deletes it and the secrets the API kept for it.",
            request: None,
            ok: vec![(204, "Deleted.", None)],
            errors: WRITE,
            params: [sub_id(), vec![if_match()]].concat(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/subscriptions/{id}/enable",
            id: "enableSubscription",
            summary: "Sends again (clears a disable, a `410`'s or a streak's).",
            request: None,
            ok: vec![(200, "Enabled.", Some(sub_view.clone()))],
            errors: WRITE,
            params: sub_id(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/subscriptions/{id}/disable",
            id: "disableSubscription",
            summary: "Stops sending, with a reason shown on the subscription.",
            request: Some(disable),
            ok: vec![(200, "Disabled.", Some(sub_view))],
            errors: WRITE,
            params: sub_id(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/subscriptions/{id}/secret/rotate",
            id: "rotateSigningKey",
            summary: "A new signing key (shown once); the old one signs beside it for the grace period.",
            request: Some(rotate),
            ok: vec![(200, "Rotated.", Some(rotated))],
            errors: WRITE,
            params: sub_id(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/subscriptions/{id}/test",
            id: "testSubscription",
            summary: "A test webhook (`webhook-test: true`) of the documented sample through the real delivery path; the receiver's answer.",
            request: Some(test_in),
            ok: vec![
                (200, "The receiver's answer.", Some(test_out.clone())),
                (
                    202,
                    "Sent; no attempt yet (`Location` shows it later).",
                    Some(test_out),
                ),
            ],
            errors: WRITE,
            params: sub_id(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/subscriptions/{id}/replay",
            id: "replayWindow",
            summary: "Sends again what was attempted in a window (same delivery ids), or counts it (`dryRun`).",
            request: Some(replay_in),
            ok: vec![
                (200, "Counted (dry run).", Some(replay_out.clone())),
                (202, "Sent to the delivery queue.", Some(replay_out)),
            ],
            errors: WRITE,
            params: sub_id(),
            public: false,
        },
        Op {
            method: "get",
            path: "/v1/deliveries",
            id: "searchDeliveries",
            summary: "The caller's deliveries, newest first, a page at a time.",
            request: None,
            ok: vec![(200, "A page.", Some(deliveries))],
            errors: SEARCH,
            params: [
                vec![
                query(
                    "subscription",
                    "Only this subscription's.",
                    json!({"type": "string"}),
                ),
                query(
                    "case",
                    "Only this case's (its guid).",
                    json!({"type": "string"}),
                ),
                query(
                    "eventType",
                    "Only this type.",
                    json!({"type": "string", "enum": EventType::ALL.map(|t| t.as_str())}),
                ),
                query(
                    "outcome",
                    "By the last attempt's outcome; `failed` is any but delivered.",
                    json!({"type": "string", "enum": crate::attempt::AttemptOutcome::ALL.iter().map(|o| o.as_str()).chain(["failed"]).collect::<Vec<_>>()}),
                ),
                query(
                    "since",
                    "From (RFC 3339); default 7 days ago, at most what the log keeps.",
                    json!({"type": "string", "format": "date-time"}),
                ),
                query(
                    "until",
                    "To (RFC 3339); default now.",
                    json!({"type": "string", "format": "date-time"}),
                ),
                ],
                paging(),
            ]
            .concat(),
            public: false,
        },
        Op {
            method: "get",
            path: "/v1/deliveries/{id}",
            id: "getDelivery",
            summary: "One delivery with every attempt.",
            request: None,
            ok: vec![(200, "The delivery.", Some(delivery))],
            errors: READ_ONE,
            params: vec![path_id("id", "The delivery's id (its `webhook-id`).")],
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/deliveries/{id}/resend",
            id: "resendDelivery",
            summary: "Sends one delivery again: same id, attempts counting on, the subscription's current destination.",
            request: None,
            ok: vec![(202, "Sent to the delivery queue.", Some(resent))],
            errors: WRITE,
            params: vec![path_id("id", "The delivery's id.")],
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/admin/keys",
            id: "createPartyKey",
            summary: "A key for one party, shown this once (operators).",
            request: Some(key_in),
            ok: vec![(201, "Made; give the key to the party now.", Some(key_made))],
            errors: WRITE,
            params: vec![],
            public: false,
        },
        Op {
            method: "get",
            path: "/v1/admin/keys",
            id: "listPartyKeys",
            summary: "Every party key (never the key or its hash), oldest first (operators).",
            request: None,
            ok: vec![(200, "The keys.", Some(key_page))],
            errors: SEARCH,
            params: party_q(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/admin/keys/{id}/revoke",
            id: "revokePartyKey",
            summary: "Revokes a key: refused from now on (operators).",
            request: None,
            ok: vec![(204, "Revoked.", None)],
            errors: WRITE,
            params: vec![path_id("id", "The key's id (its public part).")],
            public: false,
        },
        Op {
            method: "get",
            path: "/v1/admin/subscriptions",
            id: "listAllSubscriptions",
            summary: "Every party's subscriptions, by id, a page at a time (operators).",
            request: None,
            ok: vec![(200, "A page.", Some(admin_page))],
            errors: LIST,
            params: [party_q(), paging()].concat(),
            public: false,
        },
    ];
    let mirrored: Vec<Op> = ops
        .iter()
        .filter(|op| AS_OPERATOR.contains(&op.id))
        .cloned()
        .collect();
    let ops = ops
        .into_iter()
        .chain(notice_destination::ops(c))
        .chain(dead_letters::ops(c))
        .chain(config_items::ops(c))
        .chain(portal::ops(c));
    let mut out = Map::new();
    for op in ops {
        let item = out
            .entry(op.path)
            .or_insert_with(|| Value::Object(Map::new()));
        let method = op.method;
        item[method] = operation(op);
    }
    for op in mirrored {
        let path = op.path.replacen("/v1/", "/v1/admin/", 1);
        let method = op.method;
        let item = out.entry(path).or_insert_with(|| Value::Object(Map::new()));
        item[method] = as_operator(op);
    }
    Value::Object(out)
}

/// The party operations an operator also calls under `/v1/admin/…`, on
/// any party's items (the same handlers).
const AS_OPERATOR: &[&str] = &[
    "createSubscription",
    "getSubscription",
    "replaceSubscription",
    "patchSubscription",
    "deleteSubscription",
    "enableSubscription",
    "disableSubscription",
    "rotateSigningKey",
    "testSubscription",
    "replayWindow",
    "searchDeliveries",
    "getDelivery",
    "resendDelivery",
];

/// A party operation as an operator's: `admin…`, any party's, signed as
/// an operator; a create names the party.
fn as_operator(mut op: Op) -> Value {
    if op.id == "createSubscription" {
        op.params
            .push(json!({"name": "party", "in": "query", "required": true,
            "schema": {"type": "string", "pattern": "^(partner|provider):-?[0-9]+$"},
            "description": "Whose subscription it is: partner:ID or provider:ID."}));
    }
    let id = op.id;
    let summary = op.summary;
    let mut v = operation(op);
    let mut chars = id.chars();
    let upper: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect();
    v["operationId"] = json!(format!("admin{upper}"));
    v["summary"] = json!(format!("{summary} (operators: any party's)"));
    v["security"] = json!([{"operatorSigV4": []}, {"operatorToken": []}]);
    v["tags"] = json!(["operators"]);
    v
}

fn operation(op: Op) -> Value {
    let mut responses = Map::new();
    for (status, description, schema) in op.ok {
        let mut r = json!({"description": description});
        if let Some(s) = schema {
            r["content"] = json!({"application/json": {"schema": s}});
        }
        responses.insert(status.to_string(), r);
    }
    let codes = [
        ("Unauthorized", "401"),
        ("BadCursor", "400"),
        ("NotFound", "404"),
        ("Invalid", "422"),
        ("Conflict", "409"),
        ("PreconditionFailed", "412"),
        ("TooManyRequests", "429"),
        ("Unavailable", "503"),
    ];
    for name in op.errors {
        if let Some((_, code)) = codes.iter().find(|(n, _)| n == name) {
            responses.insert(
                (*code).to_owned(),
                json!({"$ref": format!("#/components/responses/{name}")}),
            );
        }
    }
    if op.request.is_some() {
        for (code, name) in [
            ("400", "Malformed"),
            ("413", "TooLarge"),
            ("415", "NotJson"),
        ] {
            responses.insert(
                code.to_owned(),
                json!({"$ref": format!("#/components/responses/{name}")}),
            );
        }
    }
    let mut o = json!({
        "operationId": op.id,
        "summary": op.summary,
        "responses": responses,
    });
    if !op.params.is_empty() {
        o["parameters"] = Value::Array(op.params);
    }
    if let Some(schema) = op.request {
        let kind = if op.method == "patch" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        o["requestBody"] = json!({"required": true, "content": {kind: {"schema": schema}}});
    }
    if op.public {
        o["security"] = json!([]);
    } else if op.path.starts_with("/v1/admin/") {
        o["security"] = json!([{"operatorSigV4": []}, {"operatorToken": []}]);
        o["tags"] = json!(["operators"]);
    }
    o
}

/// The name of a webhook in the document: `newStatus.v3`.
pub fn webhook_name(t: EventType, v: Version) -> String {
    format!("{}.{}", t.as_str(), v.as_str())
}

/// Every webhook type × payload version, as hubhooks sends it.
fn webhooks(c: &mut Components) -> Value {
    let mut out = Map::new();
    for t in EventType::ALL {
        for v in Version::of(t) {
            let Some(schema) = crate::payload::schema::of(t, *v) else {
                continue;
            };
            let name = webhook_name(t, *v);
            let component = format!("Webhook.{}.{}", t.as_str(), v.as_str());
            let body = c.insert(&component, serde_json::to_value(schema).unwrap_or_default());
            let mut op = json!({
                "operationId": format!("{}_{}", t.as_str(), v.as_str()),
                "summary": format!("{} webhook, payload version {}", t.as_str(), v.as_str()),
                "parameters": webhook_headers(t),
                "requestBody": {"required": true, "content": {"application/json": {"schema": body}}},
                "responses": {
                    "2XX": {"description": "Taken: not sent again."},
                    "410": {"description": "Gone: the subscription is disabled (a notice says so)."},
                    "default": {"description": "Any other answer, or none in time: retried on the schedule, then dead-lettered."}
                }
            });
            if v.is_deprecated() {
                op["deprecated"] = Value::Bool(true);
            }
            out.insert(name, json!({"post": op}));
        }
    }
    Value::Object(out)
}

/// The headers of every webhook (docs/receiving-webhooks.md).
fn webhook_headers(t: EventType) -> Value {
    use crate::headers as h;
    let header = |name: &str, required: bool, schema: Value, what: &str| json!({"name": name, "in": "header", "required": required, "schema": schema, "description": what});
    json!([
        header(
            h::DELIVERY_ID,
            true,
            json!({"type": "string"}),
            "The delivery's id: the same on every attempt, a resend and a replay (deduplicate by it)."
        ),
        header(
            h::EVENT_TYPE,
            true,
            json!({"const": t.as_str()}),
            "The webhook type."
        ),
        header(
            h::ATTEMPT,
            true,
            json!({"type": "string", "pattern": "^[1-9][0-9]*$"}),
            "1 on the first attempt, 2 on the first retry, …"
        ),
        header(
            h::TIMESTAMP,
            true,
            json!({"type": "string", "pattern": "^[0-9]+$"}),
            "Unix seconds of this attempt (Standard Webhooks)."
        ),
        header(
            h::SIGNATURE,
            false,
            json!({"type": "string", "pattern": "^v1,[A-Za-z0-9+/=]+( v1,[A-Za-z0-9+/=]+)*$"}),
            "`v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{body}` per signing key, space-separated (two during a key rotation). Present when the subscription signs."
        ),
        header(
            h::TEST,
            false,
            json!({"const": "true"}),
            "On test sends only."
        ),
        header(
            h::X_TOKEN,
            false,
            json!({"type": "string"}),
            "The subscription's `xToken`, when it has one."
        ),
    ])
}
