//! `filter`: conditions on a webhook's rendered body. The router renders
//! each body, then asks the subscription's filter; a webhook filtered out
//! is not enqueued (and is counted). Paths are dot-separated keys into the
//! body, a number indexing an array (`files.0.name`).
use super::FieldError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One condition, or `all` / `any` / `not` of conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    All(Vec<Filter>),
    Any(Vec<Filter>),
    Not(Box<Filter>),
    Test { path: String, test: Test },
}

/// What a condition asks of the value at its path.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// Equal as JSON (numbers by value: `1` equals `1.0`).
    Equals(Value),
    /// Equal to one of these.
    In(Vec<Value>),
    /// `true`: the path holds a value other than `null`; `false`: it does not.
    Exists(bool),
    /// A string that starts with this.
    Prefix(String),
    /// A number (or a string holding one) compared with this.
    Compare(Comparison, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// The most conditions a filter may hold, and how deep it may nest: a
/// filter is evaluated for every webhook of its subscription.
pub const MAX_CONDITIONS: usize = 50;
pub const MAX_DEPTH: usize = 5;
/// The most values an `in` may list.
pub const MAX_IN: usize = 100;

/// The filter as written: exactly one of `all`, `any`, `not`, or `path`
/// with one operator.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    rename = "Filter",
    description = "A condition on the rendered body: {path, equals|in|exists|prefix|gt|gte|lt|lte}, or {all: [...]}, {any: [...]}, {not: {...}}."
)]
struct Written {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Filter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Filter>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not: Option<Box<Filter>>,
    /// Dot-separated keys into the body; a number indexes an array.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Value>,
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    in_: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exists: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gte: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lte: Option<f64>,
}

const SHAPE: &str = "give exactly one of `all`, `any`, `not`, or `path` with one of `equals`, `in`, `exists`, `prefix`, `gt`, `gte`, `lt`, `lte`";

impl TryFrom<Written> for Filter {
    type Error = String;

    fn try_from(w: Written) -> Result<Self, String> {
        let mut tests: Vec<Test> = Vec::new();
        tests.extend(w.equals.map(Test::Equals));
        tests.extend(w.in_.map(Test::In));
        tests.extend(w.exists.map(Test::Exists));
        tests.extend(w.prefix.map(Test::Prefix));
        for (c, n) in [
            (Comparison::Gt, w.gt),
            (Comparison::Gte, w.gte),
            (Comparison::Lt, w.lt),
            (Comparison::Lte, w.lte),
        ] {
            tests.extend(n.map(|n| Test::Compare(c, n)));
        }
        let groups = [w.all.is_some(), w.any.is_some(), w.not.is_some()]
            .iter()
            .filter(|g| **g)
            .count();
        match (groups, w.path, tests.len()) {
            (1, None, 0) => Ok(match (w.all, w.any, w.not) {
                (Some(all), _, _) => Filter::All(all),
                (_, Some(any), _) => Filter::Any(any),
                (_, _, Some(not)) => Filter::Not(not),
                _ => return Err(SHAPE.into()),
            }),
            (0, Some(path), 1) => Ok(Filter::Test {
                path,
                test: tests.remove(0),
            }),
            (0, Some(path), 0) => Err(format!("`{path}`: no operator; {SHAPE}")),
            _ => Err(SHAPE.into()),
        }
    }
}

impl From<&Filter> for Written {
    fn from(f: &Filter) -> Self {
        match f {
            Filter::All(v) => Written {
                all: Some(v.clone()),
                ..Default::default()
            },
            Filter::Any(v) => Written {
                any: Some(v.clone()),
                ..Default::default()
            },
            Filter::Not(v) => Written {
                not: Some(v.clone()),
                ..Default::default()
            },
            Filter::Test { path, test } => {
                let mut w = Written {
                    path: Some(path.clone()),
                    ..Default::default()
                };
                match test.clone() {
                    Test::Equals(v) => w.equals = Some(v),
                    Test::In(v) => w.in_ = Some(v),
                    Test::Exists(b) => w.exists = Some(b),
                    Test::Prefix(p) => w.prefix = Some(p),
                    Test::Compare(Comparison::Gt, n) => w.gt = Some(n),
                    Test::Compare(Comparison::Gte, n) => w.gte = Some(n),
                    Test::Compare(Comparison::Lt, n) => w.lt = Some(n),
                    Test::Compare(Comparison::Lte, n) => w.lte = Some(n),
                }
                w
            }
        }
    }
}

impl Serialize for Filter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Written::from(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Filter::try_from(Written::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Filter {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Filter".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        Written::json_schema(g)
    }
}

impl Filter {
    /// Whether `body` passes.
    pub fn matches(&self, body: &Value) -> bool {
        match self {
            Filter::All(v) => v.iter().all(|f| f.matches(body)),
            Filter::Any(v) => v.iter().any(|f| f.matches(body)),
            Filter::Not(f) => !f.matches(body),
            Filter::Test { path, test } => test.holds(lookup(body, path)),
        }
    }

    /// Every condition's path, with where it sits in the filter
    /// (`all[1].path`).
    pub fn paths(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        self.walk("", 0, &mut |at, _, f| {
            if let Filter::Test { path, .. } = f {
                out.push((format!("{at}path"), path.as_str()));
            }
        });
        out
    }

    /// Visits every condition with where it sits (`any[1].not.`) and how
    /// deep (the filter itself is 0).
    fn walk<'a>(&'a self, at: &str, depth: usize, visit: &mut impl FnMut(&str, usize, &'a Filter)) {
        visit(at, depth, self);
        match self {
            Filter::All(v) | Filter::Any(v) => {
                let name = if matches!(self, Filter::All(_)) {
                    "all"
                } else {
                    "any"
                };
                for (i, f) in v.iter().enumerate() {
                    f.walk(&format!("{at}{name}[{i}]."), depth + 1, visit);
                }
            }
            Filter::Not(f) => f.walk(&format!("{at}not."), depth + 1, visit),
            Filter::Test { .. } => {}
        }
    }

    /// Bounded in size and depth; no empty group; paths and `in` sane.
    pub fn validate(&self) -> Result<(), FieldError> {
        let mut count = 0;
        let mut problem: Option<FieldError> = None;
        self.walk("", 0, &mut |at, depth, f| {
            count += 1;
            if problem.is_some() {
                return;
            }
            let at = at.trim_end_matches('.');
            problem = match f {
                _ if depth > MAX_DEPTH => Some(FieldError::new(
                    at,
                    format!("nested deeper than {MAX_DEPTH} levels"),
                )),
                Filter::All(v) | Filter::Any(v) if v.is_empty() => Some(FieldError::new(
                    at,
                    "an empty group: give at least one condition",
                )),
                Filter::Test { path, test } => {
                    check_test(path, test).err().map(|m| FieldError::new(at, m))
                }
                _ => None,
            };
        });
        if let Some(p) = problem {
            return Err(p);
        }
        if count > MAX_CONDITIONS {
            return Err(FieldError::new(
                "",
                format!("{count} conditions; at most {MAX_CONDITIONS}"),
            ));
        }
        Ok(())
    }
}

fn check_test(path: &str, test: &Test) -> Result<(), String> {
    if path.is_empty() || path.len() > 200 || path.split('.').any(str::is_empty) {
        return Err(format!(
            "path `{path}`: dot-separated keys, none empty, at most 200 characters"
        ));
    }
    match test {
        Test::In(v) if v.is_empty() || v.len() > MAX_IN => {
            Err(format!("`in` lists 1 to {MAX_IN} values, not {}", v.len()))
        }
        Test::Compare(_, n) if !n.is_finite() => Err("compare with a finite number".into()),
        _ => Ok(()),
    }
}

/// The value at `path`, if the body has one.
fn lookup<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(body, |v, key| match v {
        Value::Object(m) => m.get(key),
        Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

impl Test {
    fn holds(&self, value: Option<&Value>) -> bool {
        let value = value.filter(|v| !v.is_null());
        match (self, value) {
            (Test::Exists(want), v) => v.is_some() == *want,
            (_, None) => false,
            (Test::Equals(want), Some(v)) => same(v, want),
            (Test::In(wants), Some(v)) => wants.iter().any(|w| same(v, w)),
            (Test::Prefix(p), Some(Value::String(s))) => s.starts_with(p.as_str()),
            (Test::Prefix(_), Some(_)) => false,
            (Test::Compare(c, n), Some(v)) => number(v).is_some_and(|x| match c {
                Comparison::Gt => x > *n,
                Comparison::Gte => x >= *n,
                Comparison::Lt => x < *n,
                Comparison::Lte => x <= *n,
            }),
        }
    }
}

/// JSON equality, numbers by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// A number, or a string holding one (amounts travel as strings in some
/// payload versions).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|x: &f64| x.is_finite()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter(v: Value) -> Filter {
        serde_json::from_value(v).unwrap()
    }

    fn body() -> Value {
        json!({"key": "final", "id": 7, "amount": "120.50",
               "orderData": {"region": "north", "refNo": "REF-9", "serial": null},
               "files": [{"name": "a.pdf"}, {"name": "b.jpg"}]})
    }

    #[test]
    fn each_operator_on_the_body() {
        // (filter, passes)
        let table = [
            (json!({"path": "orderData.region", "equals": "north"}), true),
            (
                json!({"path": "orderData.region", "equals": "south"}),
                false,
            ),
            (json!({"path": "id", "equals": 7.0}), true),
            (json!({"path": "id", "equals": "7"}), false),
            (json!({"path": "key", "in": ["final", "arrived"]}), true),
            (json!({"path": "key", "in": ["arrived"]}), false),
            (json!({"path": "orderData.refNo", "exists": true}), true),
            (json!({"path": "orderData.serial", "exists": true}), false),
            (json!({"path": "orderData.serial", "exists": false}), true),
            (json!({"path": "orderData.nothing", "exists": false}), true),
            (json!({"path": "orderData.refNo", "prefix": "REF-"}), true),
            (json!({"path": "id", "prefix": "7"}), false),
            (json!({"path": "id", "gt": 6}), true),
            (json!({"path": "id", "gt": 7}), false),
            (json!({"path": "id", "gte": 7}), true),
            (json!({"path": "id", "lt": 7}), false),
            (json!({"path": "id", "lte": 7}), true),
            (json!({"path": "amount", "gte": 100}), true),
            (json!({"path": "key", "gt": 0}), false),
            (json!({"path": "files.1.name", "prefix": "b."}), true),
            (json!({"path": "files.2.name", "exists": true}), false),
            (json!({"path": "missing.deeper", "equals": 1}), false),
            (
                json!({"all": [{"path": "key", "equals": "final"}, {"path": "id", "gt": 1}]}),
                true,
            ),
            (
                json!({"all": [{"path": "key", "equals": "final"}, {"path": "id", "gt": 9}]}),
                false,
            ),
            (
                json!({"any": [{"path": "key", "equals": "x"}, {"path": "id", "gt": 1}]}),
                true,
            ),
            (
                json!({"any": [{"path": "key", "equals": "x"}, {"path": "id", "gt": 9}]}),
                false,
            ),
            (
                json!({"not": {"path": "orderData.region", "equals": "north"}}),
                false,
            ),
            (
                json!({"not": {"path": "orderData.region", "equals": "south"}}),
                true,
            ),
        ];
        for (f, passes) in table {
            assert_eq!(filter(f.clone()).matches(&body()), passes, "{f}");
        }
    }

    #[test]
    fn a_filter_reads_back_as_written() {
        let v = json!({"all": [{"path": "key", "in": ["a"]}, {"not": {"path": "id", "lte": 3.0}}]});
        assert_eq!(serde_json::to_value(filter(v.clone())).unwrap(), v);
    }

    #[test]
    fn a_malformed_filter_says_what_to_write() {
        let err = |v: Value| serde_json::from_value::<Filter>(v).unwrap_err().to_string();
        assert_eq!(
            err(json!({"path": "key"})),
            format!("`key`: no operator; {SHAPE}")
        );
        assert_eq!(
            err(json!({"path": "key", "equals": 1, "prefix": "a"})),
            SHAPE
        );
        assert_eq!(err(json!({"all": [], "any": []})), SHAPE);
        assert!(err(json!({"path": "key", "matches": "x"})).starts_with("unknown field `matches`"));
        let invalid = |v: Value| {
            filter(v)
                .validate()
                .map_err(|e| format!("{}: {}", e.path, e.message))
        };
        assert_eq!(
            invalid(json!({"any": [{"path": "a", "equals": 1}, {"all": []}]})),
            Err("any[1]: an empty group: give at least one condition".into())
        );
        assert_eq!(
            invalid(json!({"path": "a..b", "equals": 1})),
            Err(": path `a..b`: dot-separated keys, none empty, at most 200 characters".into())
        );
        assert_eq!(
            invalid(json!({"not": {"path": "a", "in": []}})),
            Err("not: `in` lists 1 to 100 values, not 0".into())
        );
        let deep = (0..6).fold(json!({"path": "a", "equals": 1}), |f, _| json!({"not": f}));
        assert_eq!(
            invalid(deep),
            Err("not.not.not.not.not.not: nested deeper than 5 levels".into())
        );
        let wide = json!({"any": vec![json!({"path": "a", "equals": 1}); 50]});
        assert_eq!(invalid(wide), Err(": 51 conditions; at most 50".into()));
        assert_eq!(
            filter(json!({"all": [{"path": "a", "equals": 1}, {"not": {"path": "b.c", "exists": true}}]}))
                .paths(),
            vec![("all[0].path".to_owned(), "a"), ("all[1].not.path".to_owned(), "b.c")]
        );
    }
}
