//! Notices to the party's operators: to the deployment's notice topic and
//! to the party's notice destination, signed like its webhooks. They leave
//! the delivery path: a notice made while a batch is settled waits until
//! every delivery of the batch is settled, then all go out together within
//! the notice budget, so a slow or silent notice destination costs no
//! delivery any time.
use super::Sender;
use crate::notice::Notice;
use futures::future::join_all;
use std::sync::Mutex;
use std::time::Duration;

/// Tries to reach a party's notice destination, and the pauses between
/// them (the notice topic is the durable copy).
const NOTICE_TRIES: crate::backoff::Backoff = crate::backoff::Backoff {
    tries: 3,
    first: Duration::from_millis(250),
};

pub use crate::settings::NOTICE_BUDGET;

/// The notices of the batch being settled.
#[derive(Default)]
pub struct DueNotices(Mutex<Vec<Notice>>);

impl DueNotices {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Notice>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Sender {
    /// A notice to send once the batch's deliveries are settled. Never
    /// fails or delays the delivery it is about.
    pub(super) fn notify(&self, notice: Notice) {
        crate::meter::notice(notice.notice_type.as_str());
        self.due_notices.lock().push(notice);
    }

    /// Sends the notices due, each to the notice topic and to its party's
    /// destination, all at once and within the notice budget.
    pub async fn send_notices(&self) {
        let due = std::mem::take(&mut *self.due_notices.lock());
        if due.is_empty() {
            return;
        }
        let deadline = tokio::time::Instant::now() + self.notice_budget;
        let published = join_all(due.iter().map(|notice| async move {
            if let Err(e) = self.notices.publish(notice).await {
                tracing::error!(notice_id = %notice.id, notice_type = notice.notice_type.as_str(), error = %e, "could not publish a notice");
            }
        }));
        let sent = async {
            published.await;
            join_all(due.iter().map(|notice| self.to_destination(notice))).await;
        };
        if tokio::time::timeout_at(deadline, sent).await.is_err() {
            tracing::error!(
                notices = due.len(),
                budget_ms = self.notice_budget.as_millis() as u64,
                "notices not all sent within the notice budget; the notice topic has what was published"
            );
        }
    }

    /// Delivers a notice to its party's notice destination, signed like its
    /// webhooks, in a few tries.
    async fn to_destination(&self, notice: &Notice) {
        let kind = notice.notice_type.as_str();
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
        let delivered = crate::operations::notices::deliver(
            self.transport.as_ref(),
            self.clock.as_ref(),
            to,
            &secrets,
            notice,
            NOTICE_TRIES,
        )
        .await;
        if let Err(e) = delivered {
            tracing::error!(notice_id = %notice.id, notice_type = kind, destination = %to.id, error = %e, "could not deliver a notice");
        }
    }
}
