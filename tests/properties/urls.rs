//! Destination URLs: whatever a subscription names is refused naming
//! `destination.url` or accepted as an http(s) URL with a host; whatever
//! URL is written down shows none of its query values or password.
use crate::strategies::text;
use hubhooks::config::{ConfigItem, RawConfigItem};
use hubhooks::masked_url::masked_text;
use proptest::prelude::*;
use serde_json::json;

fn url() -> impl Strategy<Value = String> {
    prop_oneof![
        text(),
        (
            "(https?|ftp|amqps?|gopher|file|javascript)",
            "(//)?",
            "([a-z]{1,8}(:[a-z0-9]{0,8})?@)?",
            "([a-z0-9.-]{0,20}|\\[[0-9a-f:]{2,12}\\]|[0-9]{1,3}(\\.[0-9]{1,3}){3})",
            "(:[0-9]{0,6})?",
            "(/[^?#]{0,12})?",
            "(\\?[^#]{0,30})?",
            "(#.{0,8})?",
        )
            .prop_map(|(s, sl, u, h, p, path, q, f)| format!("{s}:{sl}{u}{h}{p}{path}{q}{f}")),
    ]
}

proptest! {
    #![proptest_config(crate::strategies::cases())]

    #[test]
    fn a_destination_url_is_refused_naming_the_field_or_is_http_with_a_host(u in url()) {
        let value = json!({"id": "s", "kind": "subscription", "party": {"type": "partner", "id": 1},
                           "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": u}});
        match ConfigItem::parse(&RawConfigItem { id: "s".into(), value }) {
            Err(e) => prop_assert_eq!(e.field.as_str(), "destination.url", "{}", e),
            Ok(_) => {
                let parsed = reqwest::Url::parse(&u).unwrap();
                prop_assert!(matches!(parsed.scheme(), "http" | "https"));
                prop_assert!(parsed.host_str().is_some_and(|h| !h.is_empty()));
            }
        }
    }

    #[test]
    fn a_url_written_down_shows_no_query_value_and_no_password(
        base in "https?://[a-z]{1,8}\\.example(:[0-9]{2,5})?(/[a-z]{0,6}){0,2}",
        user in prop::option::of("[a-z]{1,6}"),
        password in "[A-Z0-9]{8,16}",
        pairs in prop::collection::vec(("[a-z]{1,6}", "[A-Z0-9]{8,16}"), 0..4),
        bare in prop::option::of("[A-Z0-9]{8,16}"),
    ) {
        let (scheme, rest) = base.split_once("://").unwrap();
        let auth = user.map(|u| format!("{u}:{password}@")).unwrap_or_default();
        let mut query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        query.extend(bare.clone());
        let url = if query.is_empty() {
            format!("{scheme}://{auth}{rest}")
        } else {
            format!("{scheme}://{auth}{rest}?{}", query.join("&"))
        };
        let written = masked_text(&url);
        if !auth.is_empty() {
            prop_assert!(!written.contains(&password), "{url} → {written}");
        }
        // A URL that does not parse (a port past 65535) is cut before its
        // query; one that parses keeps each name.
        let parses = reqwest::Url::parse(&url).is_ok();
        for (name, value) in &pairs {
            prop_assert!(!written.contains(value.as_str()), "{url} → {written}");
            prop_assert!(!parses || written.contains(&format!("{name}=***")), "{url} → {written}");
        }
        if let Some(b) = bare {
            prop_assert!(!written.contains(&b), "{url} → {written}");
        }
    }

    #[test]
    fn masking_any_text_never_panics(s in text()) {
        let _ = masked_text(&s);
    }
}

proptest! {
    #![proptest_config(crate::strategies::cases())]

    #[test]
    fn a_broker_uri_is_amqp_or_refused_naming_the_secret_never_its_value(
        value in prop_oneof![
            text(),
            ("amqps?|https?|ftp", "[a-z]{1,6}:[A-Z0-9]{8,12}@[a-z.]{0,12}(:[0-9]{1,6})?(/[a-z%0-9]{0,6})?")
                .prop_map(|(s, rest)| format!("{s}://{rest}")),
        ],
    ) {
        use hubhooks::adapters::amqp::parse_broker_uri;
        match parse_broker_uri(&value, "broker-uri") {
            Ok(uri) => prop_assert!(matches!(uri.scheme(), "amqp" | "amqps")),
            Err(e) => {
                let why = e.to_string();
                prop_assert!(why.contains("`broker-uri`"), "{}", why);
                prop_assert!(value.len() < 8 || !why.contains(&value), "{}", why);
            }
        }
    }
}
