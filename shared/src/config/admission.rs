//! Whether new config items fit what is stored: no conflict with stored
//! items (or with each other), and no secret named that does not exist.
//! The router refuses a conflicting item at run time; here it is refused
//! before it is written, for the CLI and anything else that writes config.
use super::{ConfigError, ConfigItem, ConfigSet, Destination, RawConfigItem};
use std::collections::HashSet;

/// The conflicts `new` would make: with the stored items it does not
/// replace (same id), and among themselves. Stored items go in first, so
/// each error names a new item and the stored one it collides with.
pub fn conflicts(stored: &[RawConfigItem], new: &[ConfigItem]) -> Vec<ConfigError> {
    let replaced: HashSet<&str> = new.iter().map(ConfigItem::id).collect();
    let mut kept: Vec<ConfigItem> = stored
        .iter()
        .filter(|r| !replaced.contains(r.id.as_str()))
        .filter_map(|r| ConfigItem::parse(r).ok())
        .collect();
    kept.sort_by(|a, b| a.id().cmp(b.id()));
    let before = ConfigSet::from_items(kept.clone()).errors.len();
    // As written: `allCurrent` expanded to today's types.
    let new = new.iter().cloned().map(|mut item| {
        if let ConfigItem::Subscription(s) = &mut item {
            s.expand_all_current();
        }
        item
    });
    let set = ConfigSet::from_items(kept.into_iter().chain(new));
    // Stored items that already conflict are the router's to report.
    set.errors.into_iter().skip(before).collect()
}

/// What stands against writing new items: what is refused (conflicts,
/// URLs that need encoding) and the secrets they name that do not exist
/// (refused too, unless the writer accepts waiting for them).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Admission {
    pub refused: Vec<ConfigError>,
    pub missing_secrets: Vec<ConfigError>,
}

/// The admission of `new` given the `stored` items and the names of the
/// secrets that exist.
pub fn admit(stored: &[RawConfigItem], new: &[ConfigItem], secrets: &HashSet<String>) -> Admission {
    Admission {
        refused: conflicts(stored, new)
            .into_iter()
            .chain(unencoded_urls(new))
            .collect(),
        missing_secrets: missing_secrets(new, secrets),
    }
}

/// Destination URLs that would not be sent as written (they need
/// percent-encoding), each with how to write it.
pub fn unencoded_urls(items: &[ConfigItem]) -> Vec<ConfigError> {
    let mut out = Vec::new();
    for item in items {
        let destinations: Vec<(String, &Destination)> = match item {
            ConfigItem::Subscription(s) => s.destinations(),
            ConfigItem::NoticeDestination(n) => vec![("destination".to_owned(), &n.destination)],
            _ => Vec::new(),
        };
        for (field, destination) in destinations {
            if let Destination::Http(h) = destination
                && let Some(why) = super::destination::unencoded(&h.url)
            {
                out.push(ConfigError::new(item.id(), format!("{field}.url"), why));
            }
        }
    }
    out
}

/// Every secret an item names, with the field that names it.
pub fn secret_names(item: &ConfigItem) -> Vec<(String, &str)> {
    match item {
        ConfigItem::Subscription(s) => s.secret_names(),
        ConfigItem::NoticeDestination(n) => {
            let mut out: Vec<(String, &str)> = n
                .auth
                .iter()
                .flat_map(|a| a.names())
                .map(|(field, name)| (format!("auth.{field}"), name))
                .collect();
            if let Destination::Amqp(d) = &n.destination {
                out.push(("destination.uriSecret".into(), d.uri_secret.as_str()));
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The secrets `items` name that are not among `existing`: webhooks of
/// such an item could never be sent (they would wait, then dead-letter).
pub fn missing_secrets(items: &[ConfigItem], existing: &HashSet<String>) -> Vec<ConfigError> {
    items
        .iter()
        .flat_map(|item| {
            secret_names(item)
                .into_iter()
                .filter(|(_, name)| !existing.contains(*name))
                .map(|(field, name)| {
                    ConfigError::new(
                        item.id(),
                        field,
                        format!("secret `{name}` does not exist (hubhooks secret generate {name})"),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn raw(v: Value) -> RawConfigItem {
        RawConfigItem {
            id: v["id"].as_str().unwrap().to_owned(),
            value: v,
        }
    }

    fn item(v: Value) -> ConfigItem {
        ConfigItem::parse(&raw(v)).unwrap()
    }

    fn black_list(id: &str, party: i64) -> Value {
        json!({"id": id, "kind": "blackList", "party": {"type": "partner", "id": party}, "keys": ["x"]})
    }

    #[test]
    fn a_second_black_list_for_a_party_conflicts_with_the_stored_one() {
        // (stored, new, errors)
        let table: [(Vec<Value>, Vec<Value>, Vec<&str>); 5] = [
            (
                vec![black_list("bl-a", 1413)],
                vec![black_list("bl-b", 1413)],
                vec![
                    "config item `bl-b`, field `party`: partner:1413 already has black list `bl-a`",
                ],
            ),
            // Replacing the stored item under its id is no conflict.
            (
                vec![black_list("bl-a", 1413)],
                vec![black_list("bl-a", 1413)],
                vec![],
            ),
            // Another party's is none either.
            (
                vec![black_list("bl-a", 1413)],
                vec![black_list("bl-b", 1414)],
                vec![],
            ),
            // Two in one file.
            (
                vec![],
                vec![black_list("bl-b", 7), black_list("bl-c", 7)],
                vec!["config item `bl-c`, field `party`: partner:7 already has black list `bl-b`"],
            ),
            // A conflict already stored is not the new item's.
            (
                vec![black_list("bl-a", 7), black_list("bl-b", 7)],
                vec![black_list("bl-c", 8)],
                vec![],
            ),
        ];
        for (stored, new, want) in table {
            let stored: Vec<RawConfigItem> = stored.into_iter().map(raw).collect();
            let new: Vec<ConfigItem> = new.into_iter().map(item).collect();
            let got: Vec<String> = conflicts(&stored, &new)
                .iter()
                .map(|e| e.to_string())
                .collect();
            assert_eq!(got, want);
        }
    }

    /// A URL that would be sent percent-encoded is refused with how to
    /// write it; one already encoded, or merely normalised, passes.
    #[test]
    fn a_url_that_needs_percent_encoding_is_refused_with_its_encoded_form() {
        // (url, refused with)
        let table = [
            (
                "https://a.example/hooks/ä b",
                Some("write it as `https://a.example/hooks/%C3%A4%20b`"),
            ),
            (
                "https://a.example/h?q=\"x\"",
                Some("write it as `https://a.example/h?q=%22x%22`"),
            ),
            (
                "https://a.example/h{1}",
                Some("write it as `https://a.example/h%7B1%7D`"),
            ),
            ("https://a.example/hooks/%C3%A4%20b", None),
            ("https://A.example", None),
            ("https://a.example/h?q=a+b&r=1", None),
        ];
        for (url, refused) in table {
            let s = item(json!({"id": "s", "kind": "subscription",
                "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"],
                "perType": {"newStatus": {"destination": {"method": "POST", "url": url}}},
                "destination": {"method": "POST", "url": "https://ok.example/"}}));
            let got: Vec<String> = unencoded_urls(&[s]).iter().map(|e| e.to_string()).collect();
            match refused {
                None => assert!(got.is_empty(), "{url}: {got:?}"),
                Some(why) => {
                    assert_eq!(got.len(), 1, "{url}");
                    assert!(got[0].starts_with("config item `s`, field `perType.newStatus.destination.url`: has characters"), "{}", got[0]);
                    assert!(got[0].contains(why), "{url}: {}", got[0]);
                }
            }
        }
    }

    #[test]
    fn secrets_that_do_not_exist_are_named_with_their_field() {
        let s = item(json!({"id": "acme", "kind": "subscription",
            "party": {"type": "partner", "id": 1413}, "eventTypes": ["newStatus"],
            "auth": {"signingSecret": "acme-signing", "bearerSecret": "acme-bearer"},
            "destination": {"method": "POST", "url": "https://x.example/"}}));
        let existing: HashSet<String> = ["acme-signing".to_owned()].into();
        let got: Vec<String> = missing_secrets(&[s], &existing)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            got,
            [
                "config item `acme`, field `auth.bearerSecret`: secret `acme-bearer` does not exist (hubhooks secret generate acme-bearer)"
            ]
        );
    }
}
