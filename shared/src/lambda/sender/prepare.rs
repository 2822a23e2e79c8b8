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
    /// The subscription's own retry schedule (`retry`), if it has one.
    pub schedule: Option<crate::retry::RetrySchedule>,
}

impl Sender {
    /// Takes destination, auth, attempt limit and retry schedule from the subscription as
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
        delivery.signature = subscription.signature.clone();
        // A test send (`hubhooks send-test`) keeps its single attempt.
        if !delivery.test {
            delivery.max_attempts = subscription.max_attempts();
        }
        Ok(Current {
            failing_since: subscription.failing_since,
            max_per_second: subscription.max_per_second,
            schedule: subscription.retry.as_ref().map(|r| r.schedule()),
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
            Destination::Amqp(a) => Some(
                crate::auth_secrets::first(
                    self.secrets.as_ref(),
                    &a.uri_secret,
                    "destination.uriSecret",
                )
                .await?,
            ),
            Destination::Http(_) => None,
        };
        Ok((body, secrets, broker_uri))
    }

    pub(super) async fn secrets_of(&self, auth: Option<&Auth>) -> Result<Secrets, String> {
        crate::auth_secrets::read(self.secrets.as_ref(), auth).await
    }
}
