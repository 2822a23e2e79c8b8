//! Delivery envelopes as the sender reads them off the queue: any text, and
//! a valid envelope with any field removed or given any JSON value. A
//! refusal names the field; a valid envelope round-trips.
use crate::strategies::{Bend, bend, json_value, text};
use hubhooks::delivery::{Delivery, EnvelopeError};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

fn valid() -> Value {
    serde_json::to_value(hubhooks::memory::delivery(
        "d-1",
        "acme",
        "https://r.example/h?token=t",
    ))
    .unwrap()
}

proptest! {
    #![proptest_config(crate::strategies::cases())]

    #[test]
    fn a_bent_envelope_is_refused_naming_the_field_or_read_whole(
        at in any::<Index>(),
        how in bend(json_value(3)),
    ) {
        let mut v = valid();
        let fields: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        let field = fields[at.index(fields.len())].clone();
        match &how {
            Bend::Remove => { v.as_object_mut().unwrap().remove(&field); }
            Bend::Replace(x) => { v[&field] = x.clone(); }
        }
        match Delivery::from_envelope(&v.to_string()) {
            Err(EnvelopeError::Unreadable(why)) => prop_assert!(
                why.contains(&format!("`{field}")),
                "bent `{field}`: {why}"
            ),
            Err(EnvelopeError::Version(n)) => prop_assert_eq!(field.as_str(), "v", "version {}", n),
            Ok(d) => {
                let again = Delivery::from_envelope(&serde_json::to_string(&d).unwrap());
                prop_assert_eq!(again.ok(), Some(d));
            }
        }
    }

    #[test]
    fn an_envelope_of_any_text_never_panics_the_sender(body in prop_oneof![
        text(),
        json_value(5).prop_map(|v| v.to_string()),
    ]) {
        if let Err(e) = Delivery::from_envelope(&body) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}
