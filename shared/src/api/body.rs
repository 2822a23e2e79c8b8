//! Request bodies: at most 64 KiB, JSON, read into a type that refuses
//! unknown fields, every refusal a problem naming the field by JSON Pointer.
use super::Problem;
use super::problem::pointer;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// The largest body the API reads.
pub const MAX_BODY: usize = 64 * 1024;

/// A JSON body of `T`, with the raw bytes (for idempotency digests).
pub struct Body<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let kind = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let essence = kind.split(';').next().unwrap_or_default().trim();
        if !essence.is_empty()
            && essence != "application/json"
            && essence != "application/merge-patch+json"
        {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("the body must be application/json, not `{essence}`"),
            ));
        }
        let raw = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                Problem::malformed("the body could not be read")
            }
        })?;
        if raw.len() > MAX_BODY {
            return Err(too_large());
        }
        let value = parse(&raw)?;
        Ok(Body { value, raw })
    }
}

pub fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than {} KiB", MAX_BODY / 1024),
    )
}

/// `raw` as a `T`: not JSON → 400; JSON of the wrong shape → 422 naming
/// the field.
pub fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Problem> {
    let value: serde_json::Value = serde_json::from_slice(raw).map_err(|e| {
        Problem::malformed(format!(
            "the body is not JSON: {} at line {} column {}",
            classify(&e),
            e.line(),
            e.column()
        ))
    })?;
    if !value.is_object() {
        return Err(Problem::invalid(
            "",
            "invalid type: the body must be a JSON object",
        ));
    }
    from_value(value)
}

/// A JSON value as a `T`, naming the field of any refusal.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Problem> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut at = pointer(&e.path().to_string());
        let detail = e.into_inner().to_string();
        // A missing field is refused at its parent; point at the field.
        if let Some(name) = detail
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            at = format!("{at}/{}", name.replace('~', "~0").replace('/', "~1"));
        }
        Problem::invalid(at, detail)
    })
}

/// serde_json's class of syntax error, without echoing input.
fn classify(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Eof => "it ends too soon",
        serde_json::error::Category::Syntax => "a syntax error",
        serde_json::error::Category::Io => "it could not be read",
        serde_json::error::Category::Data => "a value of the wrong kind",
    }
}

/// Applies a JSON merge patch (RFC 7396, section 2): objects merge, `null`
/// removes, anything else replaces.
pub fn merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(fields) = target {
        for (k, v) in changes {
            if v.is_null() {
                fields.remove(k);
            } else {
                merge(fields.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

#[cfg(test)]
mod merge_tests {
    use super::merge;
    use serde_json::json;

    /// RFC 7396, appendix A (a selection).
    #[test]
    fn merge_patches_as_rfc_7396_says() {
        for (target, patch, want) in [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
        ] {
            let mut got = target.clone();
            merge(&mut got, &patch);
            assert_eq!(got, want, "{target} + {patch}");
        }
    }
}
