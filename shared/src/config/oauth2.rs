//! `auth.oauth2`: the receiver takes an OAuth2 access token (client
//! credentials grant, RFC 6749 §4.4) as `Authorization: Bearer`. The sender
//! gets one from the token endpoint and keeps it until shortly before it
//! expires (crate::oauth2).
use super::FieldError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuth2 {
    /// The token endpoint: https (http only to a loopback address, for
    /// tests); it passes the SSRF guard like any destination.
    pub token_url: String,
    pub client_id: String,
    /// The name of the secret holding the client secret.
    pub client_secret: String,
    /// Scopes asked for (`scope`, space-separated on the wire).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Sent as `audience` (Auth0 and others ask for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// How the client authenticates: HTTP Basic (the default,
    /// `client_secret_basic`) or in the form (`client_secret_post`).
    #[serde(default, skip_serializing_if = "is_basic")]
    pub client_auth: ClientAuth,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum ClientAuth {
    #[default]
    Basic,
    Post,
}

fn is_basic(c: &ClientAuth) -> bool {
    *c == ClientAuth::Basic
}

/// A value OAuth2 puts in a form or a header: printable ASCII, bounded.
fn printable(s: &str, most: usize) -> bool {
    !s.is_empty() && s.len() <= most && s.chars().all(|c| c.is_ascii_graphic() || c == ' ')
}

impl OAuth2 {
    pub fn validate(&self) -> Result<(), FieldError> {
        let url = reqwest::Url::parse(&self.token_url)
            .map_err(|e| FieldError::new("tokenUrl", format!("not a valid URL: {e}")))?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost",
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            other => {
                return Err(FieldError::new(
                    "tokenUrl",
                    format!("must be https (the client secret travels to it), got `{other}`"),
                ));
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(FieldError::new("tokenUrl", "has no host"));
        }
        if !printable(&self.client_id, 256) {
            return Err(FieldError::new(
                "clientId",
                "1 to 256 printable ASCII characters",
            ));
        }
        super::validate_secret_name(&self.client_secret)
            .map_err(|e| FieldError::new("clientSecret", e.to_string()))?;
        if self.scopes.len() > 20 {
            return Err(FieldError::new("scopes", "at most 20 scopes"));
        }
        for (i, scope) in self.scopes.iter().enumerate() {
            if !printable(scope, 128) || scope.contains(' ') {
                return Err(FieldError::new(
                    format!("scopes[{i}]"),
                    "1 to 128 printable ASCII characters, no space",
                ));
            }
        }
        if let Some(a) = &self.audience
            && !printable(a, 512)
        {
            return Err(FieldError::new(
                "audience",
                "1 to 512 printable ASCII characters",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_grant_is_checked_field_by_field() {
        let base = json!({"tokenUrl": "https://login.example/oauth/token", "clientId": "hubhooks",
                          "clientSecret": "acme-oauth", "scopes": ["webhooks.write"]});
        let err = |patch: serde_json::Value| {
            let mut v = base.clone();
            v.as_object_mut()
                .unwrap()
                .extend(patch.as_object().unwrap().clone());
            serde_json::from_value::<OAuth2>(v)
                .unwrap()
                .validate()
                .map_err(|e| format!("{}: {}", e.path, e.message))
        };
        assert_eq!(err(json!({})), Ok(()));
        assert_eq!(
            err(json!({"tokenUrl": "http://127.0.0.1:8080/token"})),
            Ok(())
        );
        assert_eq!(
            err(json!({"tokenUrl": "http://login.example/token"})),
            Err("tokenUrl: must be https (the client secret travels to it), got `http`".into())
        );
        assert_eq!(
            err(json!({"clientSecret": "s3cr3t value!"})),
            Err("clientSecret: must name a secret in the secrets table (letters, digits, `._-/`, at most 128), not hold its value".into())
        );
        assert_eq!(
            err(json!({"scopes": ["a b"]})),
            Err("scopes[0]: 1 to 128 printable ASCII characters, no space".into())
        );
        assert_eq!(
            err(json!({"clientId": ""})),
            Err("clientId: 1 to 256 printable ASCII characters".into())
        );
    }
}
