//! What a delivery needs before it can be attempted, read now: the
//! subscription as configured (destination, auth, attempt limit), its
//! stored body, its secrets. What cannot be read is `Unreadable`, never a
//! failure of the receiver's.
use super::Sender;
use crate::attempt::Secrets;
use crate::config::{Auth, Destination};
use crate::delivery::Delivery;
use crate::outcome::NotAttempted;
use crate::timestamp::Timestamp;

/// The subscription as configured now, beyond where a delivery goes.
pub(super) struct Current {
    pub failing_since: Option<Timestamp>,
    pub max_per_second: Option<u32>,
}

impl Sender {
    /// Takes destination, auth and attempt limit from the subscription as
    /// configured now; `Withdrawn` when it must not be sent any more. Says
    /// since when the subscription is failing, if it is.
    pub(super) async fn follow_config(
        &self,
        delivery: &mut Delivery,
    ) -> Result<Current, NotAttempted> {
        let config =
            self.config.get().await.map_err(|e| {
                NotAttempted::Unreadable(format!("the config could not be read: {e}"))
            })?;
        let (subscription, route) =
            crate::routing::current_route(&config, &delivery.subscription_id, delivery.event_type)
                .map_err(NotAttempted::Withdrawn)?;
        delivery.destination = route.destination.clone();
        delivery.auth = subscription.auth.clone();
        // A test send (`hubhooks send-test`) keeps its single attempt.
        if !delivery.test {
            delivery.max_attempts = subscription.max_attempts();
        }
        Ok(Current {
            failing_since: subscription.failing_since,
            max_per_second: subscription.max_per_second,
        })
    }

    /// The body (fetched when offloaded), the secret values and, for AMQP,
    /// the broker URI.
    pub(super) async fn prepare(
        &self,
        delivery: &Delivery,
    ) -> Result<(String, Secrets, Option<String>), String> {
        let body = match &delivery.body_ref {
            None => delivery.body.clone(),
            Some(key) => self
                .payloads
                .get(key)
                .await
                .map_err(|e| format!("the stored body could not be read: {e}"))?,
        };
        let secrets = self.secrets_of(delivery.auth.as_ref()).await?;
        let broker_uri = match &delivery.destination {
            Destination::Amqp(a) => Some(self.first(&a.uri_secret, "destination.uriSecret").await?),
            Destination::Http(_) => None,
        };
        Ok((body, secrets, broker_uri))
    }

    /// The values of the secrets `auth` names; what could not be read.
    pub(super) async fn secrets_of(&self, auth: Option<&Auth>) -> Result<Secrets, String> {
        let mut secrets = Secrets::default();
        if let Some(Auth {
            x_token_secret,
            bearer_secret,
            signing_secret,
        }) = auth
        {
            if let Some(name) = x_token_secret {
                secrets.x_token = Some(self.first(name, "auth.xTokenSecret").await?);
            }
            if let Some(name) = bearer_secret {
                secrets.bearer = Some(self.first(name, "auth.bearerSecret").await?);
            }
            if let Some(name) = signing_secret {
                secrets.signing = self.all(name, "auth.signingSecret").await?;
            }
        }
        Ok(secrets)
    }

    /// A missing secret is unreadable too: written again (a rotation, a
    /// restore), it is read within seconds.
    async fn all(&self, name: &str, field: &str) -> Result<Vec<String>, String> {
        match self.secrets.secret(name).await {
            Ok(Some(values)) if !values.is_empty() => Ok(values),
            Ok(_) => Err(format!(
                "secret `{name}` named by {field} does not exist or is empty"
            )),
            Err(e) => Err(format!(
                "secret `{name}` named by {field} could not be read: {e}"
            )),
        }
    }

    async fn first(&self, name: &str, field: &str) -> Result<String, String> {
        let mut values = self.all(name, field).await?;
        Ok(values.swap_remove(0))
    }
}
