//! Ids as types, so that a partner id where a provider id belongs, or a
//! status id where a case id belongs, fails to compile. They serialize as
//! the bare number the tables and payloads hold.
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            schemars::JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

numeric_id!(
    /// A case's number (`Cases.id`, a status's `caseId`).
    CaseId
);
numeric_id!(
    /// A status record's number (`CaseStatuses.id`).
    StatusId
);
numeric_id!(
    /// A partner's hub id (`partnerId`).
    PartnerId
);
numeric_id!(
    /// A service provider's hub id (`serviceProviderId`, `providerId`).
    ProviderId
);

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug,
            Clone,
            Default,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            Serialize,
            Deserialize,
            schemars::JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

string_id!(
    /// A delivery's id: a UUID v5 of (source change, subscription, type),
    /// the same on every attempt (`webhook-id`).
    DeliveryId
);
string_id!(
    /// A subscription's config item id.
    SubscriptionId
);
string_id!(
    /// A case's guid (`Cases.guid`).
    CaseGuid
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_bare_numbers() {
        assert_eq!(serde_json::to_string(&CaseId(1290485)).unwrap(), "1290485");
        assert_eq!(
            serde_json::from_str::<ProviderId>("1004").unwrap(),
            ProviderId(1004)
        );
        assert_eq!(PartnerId(1413).to_string(), "1413");
    }
}
