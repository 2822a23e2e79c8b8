//! How a subscription's webhooks are signed: Standard Webhooks (the
//! default), or one header with an HMAC-SHA256 of the raw body, as the
//! system a receiver migrates from sent it (GitHub's
//! `X-Hub-Signature-256: sha256=<hex>`, Shopify's
//! `X-Shopify-Hmac-Sha256: <base64>`), so existing receivers keep working.
use super::FieldError;
use serde::{Deserialize, Serialize};

/// A subscription's signature scheme (`signature`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "format", rename_all = "camelCase")]
pub enum Signature {
    /// `webhook-signature: v1,<base64>` over `<id>.<timestamp>.<body>`,
    /// with a `whsec_` key (the default).
    StandardWebhooks,
    /// `<header>: <prefix><HMAC-SHA256 of the raw body>`, keyed with the
    /// signing secret's text byte for byte (GitHub's and Shopify's rule);
    /// one header line per key while keys rotate.
    #[serde(rename_all = "camelCase")]
    HmacSha256 {
        /// Default `X-Hub-Signature-256`.
        #[serde(default = "default_header")]
        header: String,
        /// `hex` (default) or `base64`.
        #[serde(default)]
        encoding: Encoding,
        /// Written before the digest; default `sha256=`.
        #[serde(default = "default_prefix")]
        prefix: String,
    },
}

/// How the digest is written.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Encoding {
    /// Lower-case hexadecimal.
    #[default]
    Hex,
    /// Standard base64, padded.
    Base64,
}

fn default_header() -> String {
    "X-Hub-Signature-256".to_owned()
}

fn default_prefix() -> String {
    "sha256=".to_owned()
}

impl Signature {
    /// The header's name must be one a request can carry and not one of
    /// hubhooks' own; the prefix printable ASCII.
    pub fn validate(&self) -> Result<(), FieldError> {
        let Signature::HmacSha256 { header, prefix, .. } = self else {
            return Ok(());
        };
        let name = reqwest::header::HeaderName::from_bytes(header.as_bytes());
        if header.len() > 64 || name.is_err() {
            return Err(FieldError::new(
                "header",
                "must be a header name: 1 to 64 letters, digits and `-`",
            ));
        }
        if crate::headers::is_reserved(header) {
            return Err(FieldError::new(
                "header",
                format!("`{header}` is one of hubhooks' own headers"),
            ));
        }
        if prefix.len() > 32 || !prefix.chars().all(|c| (' '..='~').contains(&c)) {
            return Err(FieldError::new(
                "prefix",
                "must be at most 32 printable ASCII characters",
            ));
        }
        Ok(())
    }

    /// The header this scheme signs in, and its value for each key: `None`
    /// for Standard Webhooks (signed with the delivery's id and time).
    pub fn sign_body(&self, keys: &[String], body: &str) -> Option<(String, Vec<String>)> {
        use base64::Engine;
        use ring::hmac;
        let Signature::HmacSha256 {
            header,
            encoding,
            prefix,
        } = self
        else {
            return None;
        };
        let values = keys
            .iter()
            .map(|key| {
                let tag = hmac::sign(
                    &hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes()),
                    body.as_bytes(),
                );
                let digest = match encoding {
                    Encoding::Hex => tag.as_ref().iter().map(|b| format!("{b:02x}")).collect(),
                    Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(tag),
                };
                format!("{prefix}{digest}")
            })
            .collect();
        Some((header.clone(), values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub() -> Signature {
        serde_json::from_value(serde_json::json!({"format": "hmacSha256"})).unwrap()
    }

    #[test]
    fn defaults_are_githubs_and_a_shopify_style_scheme_is_spelled_out() {
        assert_eq!(
            hub(),
            Signature::HmacSha256 {
                header: "X-Hub-Signature-256".into(),
                encoding: Encoding::Hex,
                prefix: "sha256=".into()
            }
        );
        // GitHub's documented example: secret "It's a Secret to Everybody",
        // payload "Hello, World!".
        let (name, values) = hub()
            .sign_body(&["It's a Secret to Everybody".into()], "Hello, World!")
            .unwrap();
        assert_eq!(name, "X-Hub-Signature-256");
        assert_eq!(
            values,
            ["sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"]
        );
        let shopify: Signature = serde_json::from_value(serde_json::json!(
            {"format": "hmacSha256", "header": "X-Shopify-Hmac-Sha256", "encoding": "base64", "prefix": ""}))
        .unwrap();
        let (_, values) = shopify
            .sign_body(&["k1".into(), "k2".into()], "{}")
            .unwrap();
        assert_eq!(values.len(), 2, "one value per key while keys rotate");
        assert!(values.iter().all(|v| v.len() == 44 && v.ends_with('=')));
        assert_eq!(
            Signature::StandardWebhooks.sign_body(&["k".into()], "{}"),
            None
        );
    }

    #[test]
    fn a_bad_header_or_prefix_is_refused_naming_the_field() {
        let with = |header: &str, prefix: &str| Signature::HmacSha256 {
            header: header.into(),
            encoding: Encoding::Hex,
            prefix: prefix.into(),
        };
        for (s, field, words) in [
            (with("", "x"), "header", "header name"),
            (with("X Sig", "x"), "header", "header name"),
            (with("webhook-signature", "x"), "header", "hubhooks' own"),
            (with("Authorization", "x"), "header", "hubhooks' own"),
            (with("X-Sig", "é"), "prefix", "printable"),
        ] {
            let e = s.validate().unwrap_err();
            assert_eq!(e.path, field, "{s:?}");
            assert!(e.message.contains(words), "{s:?}: {}", e.message);
        }
        assert!(with("X-Signature", "v1=").validate().is_ok());
        let unknown = serde_json::from_value::<Signature>(serde_json::json!({"format": "md5"}));
        assert!(unknown.is_err());
    }
}
