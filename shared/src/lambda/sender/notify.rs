//! Notices to the party's operators: to the deployment's notice topic and
//! to the party's notice destination, signed like its webhooks.
use super::Sender;
use crate::attempt;
use crate::notice::Notice;
use crate::ports::{DeliveryError, Outgoing};
use std::time::Duration;

/// Tries to reach a party's notice destination (within the batch: notices
/// are rare; the notice topic is the durable copy).
const NOTICE_TRIES: u32 = 3;

impl Sender {
    /// Sends a notice to the notice topic and to the party's notice
    /// destination (signed like its webhooks; a few tries). Never fails
    /// the delivery it is about.
    pub(super) async fn notify(&self, notice: Notice) {
        let kind = notice.notice_type.as_str();
        crate::meter::notice(kind);
        if let Err(e) = self.notices.publish(&notice).await {
            tracing::error!(notice_id = %notice.id, notice_type = kind, error = %e, "could not publish a notice");
        }
        let config = match self.config.get().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(notice_id = %notice.id, error = %e, "config unavailable; notice not sent to the party");
                return;
            }
        };
        let Some(to) = config.notice_destination(notice.party) else {
            return;
        };
        let secrets = match self.secrets_of(to.auth.as_ref()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(notice_id = %notice.id, destination = %to.id, error = %e, "notice not sent");
                return;
            }
        };
        let body = notice.to_json();
        for try_number in 1..=NOTICE_TRIES {
            let timestamp = self.clock.now().0.timestamp();
            let headers = match attempt::signed_headers(
                &notice.id, kind, try_number, timestamp, &body, &secrets, false,
            ) {
                Ok(h) => h,
                Err(e) => {
                    tracing::error!(notice_id = %notice.id, destination = %to.id, error = %e, "notice not sent");
                    return;
                }
            };
            let outgoing = Outgoing {
                id: &notice.id,
                kind,
                subscription_id: &to.id,
                destination: &to.destination,
                body: &body,
                headers,
                broker_uri: None,
            };
            match self.transport.deliver(&outgoing).await {
                Ok(_) => return,
                // A refusal (the SSRF guard, a bad header) will not change.
                Err(e) if try_number == NOTICE_TRIES || matches!(e, DeliveryError::Refused(_)) => {
                    tracing::error!(notice_id = %notice.id, notice_type = kind, destination = %to.id, error = %e, "could not deliver a notice");
                    return;
                }
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(try_number))).await
                }
            }
        }
    }
}
