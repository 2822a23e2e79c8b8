//! The values of the secrets an `auth` names (token, bearer, signing keys,
//! OAuth2 client secret, client certificate),
//! read for one attempt of a webhook or a notice. What cannot be read is
//! said by name and field, never by value.
use crate::attempt::Secrets;
use crate::config::Auth;
use crate::ports::SecretStore;

/// The values of the secrets `auth` names; what could not be read.
pub async fn read(store: &dyn SecretStore, auth: Option<&Auth>) -> Result<Secrets, String> {
    let mut secrets = Secrets::default();
    if let Some(Auth {
        x_token_secret,
        bearer_secret,
        signing_secret,
        oauth2,
        mtls,
    }) = auth
    {
        if let Some(name) = x_token_secret {
            secrets.x_token = Some(first(store, name, "auth.xTokenSecret").await?);
        }
        if let Some(name) = bearer_secret {
            secrets.bearer = Some(first(store, name, "auth.bearerSecret").await?);
        }
        if let Some(name) = signing_secret {
            secrets.signing = all(store, name, "auth.signingSecret").await?;
        }
        if let Some(grant) = oauth2 {
            secrets.oauth2_client =
                Some(first(store, &grant.client_secret, "auth.oauth2.clientSecret").await?);
        }
        if let Some(m) = mtls {
            secrets.client_tls = Some(client_tls(store, m).await?);
        }
    }
    Ok(secrets)
}

/// The client certificate `auth.mtls` names, read and checked: a key that
/// is not the certificate's is refused here, before any request.
async fn client_tls(
    store: &dyn SecretStore,
    m: &crate::config::Mtls,
) -> Result<std::sync::Arc<crate::adapters::client_tls::ClientTls>, String> {
    let certificate = first(store, &m.certificate_secret, "auth.mtls.certificateSecret").await?;
    let key = first(store, &m.key_secret, "auth.mtls.keySecret").await?;
    let ca = match &m.server_ca_secret {
        Some(name) => Some(first(store, name, "auth.mtls.serverCaSecret").await?),
        None => None,
    };
    crate::adapters::client_tls::ClientTls::parse(&certificate, &key, ca.as_deref())
}

/// Every value of `name`, newest first. A missing secret is unreadable
/// too: written again (a rotation, a restore), it is read within seconds.
pub async fn all(store: &dyn SecretStore, name: &str, field: &str) -> Result<Vec<String>, String> {
    match store.secret(name).await {
        Ok(Some(values)) if !values.is_empty() => Ok(values),
        Ok(_) => Err(format!(
            "secret `{name}` named by {field} does not exist or is empty"
        )),
        Err(e) => Err(format!(
            "secret `{name}` named by {field} could not be read: {e}"
        )),
    }
}

/// The newest value of `name`.
pub async fn first(store: &dyn SecretStore, name: &str, field: &str) -> Result<String, String> {
    let mut values = all(store, name, field).await?;
    Ok(values.swap_remove(0))
}
