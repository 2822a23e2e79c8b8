//! Inputs: arbitrary JSON and DynamoDB attribute values, weighted towards
//! what breaks parsers (wrong types, deep nesting, huge and odd strings).
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

/// Cases a property runs: `PROPTEST_CASES` when set (`make fuzz`), else
/// 1,000 (`make test`: a few seconds for all of them).
pub fn cases() -> Config {
    let set = std::env::var_os("PROPTEST_CASES").is_some();
    Config {
        cases: if set { Config::default().cases } else { 1_000 },
        ..Config::default()
    }
}

/// Strings a parser may meet: empty, short, unicode, control characters,
/// numbers in text, and some of 100,000 characters.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,12}",
        2 => "[0-9a-zA-Z_.:/?&=@#%+-]{0,40}",
        1 => Just(String::new()),
        1 => "[\u{0}-\u{1f}\u{7f}\u{fffd}\u{202e}\u{1f600}]{1,8}",
        1 => (1usize..100_000).prop_map(|n| "x".repeat(n)),
        1 => Just("-9223372036854775809".to_owned()),
        1 => Just("1e400".to_owned()),
    ]
}

/// Numbers as DynamoDB writes them in `N`, and some it never would.
pub fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        Just("1e400".to_owned()),
        Just("99999999999999999999999999999999999999".to_owned()),
        text(),
    ]
}

/// Any JSON value, nested up to `depth`.
pub fn json_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A DynamoDB attribute value (DynamoDB JSON), any type, nested up to
/// `depth` (deep nesting: 30 levels and more).
pub fn attribute_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        text().prop_map(|s| json!({"S": s})),
        number_text().prop_map(|n| json!({"N": n})),
        any::<bool>().prop_map(|b| json!({"BOOL": b})),
        Just(json!({"NULL": true})),
        "[A-Za-z0-9+/]{0,16}={0,2}".prop_map(|b| json!({"B": b})),
        prop::collection::vec(text(), 1..4).prop_map(|v| json!({"SS": v})),
        prop::collection::vec(number_text(), 1..4).prop_map(|v| json!({"NS": v})),
    ];
    leaf.prop_recursive(depth, 128, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(|l| json!({"L": l})),
            prop::collection::btree_map("[a-zA-Z]{1,10}", inner, 0..5)
                .prop_map(|m| json!({"M": m})),
        ]
    })
}

/// A value nested `levels` deep: `{"M": {"a": {"M": …}}}`.
pub fn deeply_nested(levels: usize) -> Value {
    (0..levels).fold(json!({"S": "bottom"}), |v, _| json!({"M": {"a": v}}))
}

/// How to bend one field of a valid input.
#[derive(Debug, Clone)]
pub enum Bend {
    Remove,
    Replace(Value),
}

pub fn bend(value: impl Strategy<Value = Value>) -> impl Strategy<Value = Bend> {
    prop_oneof![1 => Just(Bend::Remove), 4 => value.prop_map(Bend::Replace)]
}
