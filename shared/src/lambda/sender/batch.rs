//! A batch of messages: each subscription's deliveries at most
//! [`PER_SUBSCRIPTION_IN_FLIGHT`] at a time, the ordered queue's by message
//! group one after another (after the first that must come again the rest
//! of its group is held back), then the tally Lambda reports.
use super::message::{from_ordered_queue, parse};
use super::{PER_SUBSCRIPTION_IN_FLIGHT, Sender, Settled};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// The batch's messages by how they are run: the standard queue's at once,
/// the ordered queue's in groups (message group: subscription and case),
/// each group in the order received. Indexes into the batch.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Plan {
    pub standard: Vec<usize>,
    pub groups: Vec<Vec<usize>>,
}

pub(super) fn plan(records: &[SqsMessage]) -> Plan {
    let mut plan = Plan::default();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    for (i, m) in records.iter().enumerate() {
        if !from_ordered_queue(m) {
            plan.standard.push(i);
            continue;
        }
        let group = m
            .attributes
            .get("MessageGroupId")
            .map_or("", String::as_str);
        match group_of.get(group) {
            Some(&g) => plan.groups[g].push(i),
            None => {
                group_of.insert(group, plan.groups.len());
                plan.groups.push(vec![i]);
            }
        }
    }
    plan
}

/// Whether the next message of an ordered group is held back: once one of
/// its group must come again, every later one waits behind it.
pub(super) fn holds_the_rest(held: bool, outcome: &Settled) -> bool {
    held || *outcome == Settled::Failed
}

/// The subscription a message is for, from the attribute the router sets;
/// a message without it shares the "" gate.
fn subscription_of(m: &SqsMessage) -> &str {
    m.message_attributes
        .get(crate::delivery::attributes::SUBSCRIPTION_ID)
        .and_then(|a| a.string_value.as_deref())
        .unwrap_or_default()
}

/// What a batch came to: Lambda's answer (the messages to come again) and
/// the counts logged.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub delivered: usize,
    pub dead_lettered: usize,
    pub deferred: usize,
    /// Indexes of the messages that come again.
    pub failed: Vec<usize>,
}

pub(super) fn tally(outcomes: &[Settled]) -> Tally {
    let mut t = Tally::default();
    for (i, outcome) in outcomes.iter().enumerate() {
        match outcome {
            Settled::Delivered => t.delivered += 1,
            Settled::DeadLettered => t.dead_lettered += 1,
            Settled::Deferred => t.deferred += 1,
            Settled::Failed => t.failed.push(i),
        }
    }
    t
}

impl Sender {
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, lambda_runtime::Error> {
        let records = &event.records;
        let mut gates: HashMap<&str, Arc<Semaphore>> = HashMap::new();
        for m in records {
            gates
                .entry(subscription_of(m))
                .or_insert_with(|| Arc::new(Semaphore::new(PER_SUBSCRIPTION_IN_FLIGHT)));
        }
        let run = |i: usize, ordered: bool| {
            let gate = gates.get(subscription_of(&records[i])).cloned();
            async move {
                // A closed semaphore cannot happen (never closed): go on.
                let _permit = match &gate {
                    Some(g) => g.acquire().await.ok(),
                    None => None,
                };
                (i, self.process_from(&records[i], ordered).await)
            }
        };
        let plan = plan(records);
        let unordered = join_all(plan.standard.iter().map(|&i| run(i, false)));
        let run = &run;
        let ordered = join_all(plan.groups.iter().map(|members| async move {
            let mut out = Vec::with_capacity(members.len());
            let mut held = false;
            for &i in members {
                let (_, outcome) = if held {
                    (i, self.hold(&records[i], Duration::ZERO).await)
                } else {
                    run(i, true).await
                };
                held = holds_the_rest(held, &outcome);
                out.push((i, outcome));
            }
            out
        }));
        let (unordered, ordered) = futures::join!(unordered, ordered);
        let mut outcomes = vec![Settled::Failed; records.len()];
        for (i, o) in unordered.into_iter().chain(ordered.into_iter().flatten()) {
            outcomes[i] = o;
        }
        // The batch's attempts in as few writes as the log can make them.
        if let Err(e) = self.log.flush().await {
            tracing::warn!(error = %e, "could not write the attempt log");
        }
        // Off the delivery path: every delivery of the batch is settled.
        self.send_notices().await;
        Ok(self.answer(records, &outcomes))
    }

    fn answer(&self, records: &[SqsMessage], outcomes: &[Settled]) -> SqsBatchResponse {
        let t = tally(outcomes);
        let mut response = SqsBatchResponse::default();
        for &i in &t.failed {
            response.add_failure(records[i].message_id.clone().unwrap_or_default());
        }
        tracing::info!(
            messages = records.len(),
            delivered = t.delivered,
            dead_lettered = t.dead_lettered,
            deferred = t.deferred,
            failed = t.failed.len(),
            "sender batch done"
        );
        response
    }

    /// A message of the ordered queue that waits (held back behind an
    /// earlier one of its group that must come again, or put back because
    /// ours could not be read): not attempted, the receipt counted as a
    /// hold (not an attempt), visible again after `wait`.
    pub(super) async fn hold(&self, message: &SqsMessage, wait: Duration) -> Settled {
        // The id from the attribute the router sets, else from the body.
        let id = message
            .message_attributes
            .get(crate::delivery::attributes::DELIVERY_ID)
            .and_then(|a| a.string_value.as_deref())
            .map(crate::ids::DeliveryId::new)
            .or_else(|| parse(message).ok().map(|d| d.id));
        if let Some(id) = id
            && let Err(e) = self.holds.hold(&id).await
        {
            tracing::warn!(delivery_id = %id, error = %e, "could not count a hold; it counts as an attempt");
        }
        self.retry_later(message, wait).await;
        Settled::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(queue: &str, group: Option<&str>) -> SqsMessage {
        let mut m = SqsMessage::default();
        m.event_source_arn = Some(format!("arn:aws:sqs:eu-central-1:1:{queue}"));
        if let Some(g) = group {
            m.attributes.insert("MessageGroupId".into(), g.into());
        }
        m
    }

    /// Each message's queue and message group.
    type Batch<'a> = &'a [(&'a str, Option<&'a str>)];

    #[test]
    fn the_ordered_queues_messages_run_by_group_in_the_order_received() {
        // (queue, group) of each message, → the plan
        let table: [(Batch, Plan); 3] = [
            (&[], Plan::default()),
            (
                &[("d", None), ("d", None)],
                Plan {
                    standard: vec![0, 1],
                    groups: vec![],
                },
            ),
            (
                &[
                    ("o.fifo", Some("s#c1")),
                    ("d", None),
                    ("o.fifo", Some("s#c2")),
                    ("o.fifo", Some("s#c1")),
                    ("o.fifo", None),
                ],
                Plan {
                    standard: vec![1],
                    groups: vec![vec![0, 3], vec![2], vec![4]],
                },
            ),
        ];
        for (messages, want) in table {
            let records: Vec<SqsMessage> = messages.iter().map(|(q, g)| message(q, *g)).collect();
            assert_eq!(plan(&records), want, "{messages:?}");
        }
    }

    #[test]
    fn after_the_first_that_must_come_again_the_rest_of_its_group_is_held() {
        use Settled::*;
        // (held so far, this one's outcome, → the next held)
        let table = [
            (false, Delivered, false),
            (false, DeadLettered, false),
            (false, Deferred, false),
            (false, Failed, true),
            (true, Delivered, true),
        ];
        for (held, outcome, next) in table {
            assert_eq!(holds_the_rest(held, &outcome), next, "{held} {outcome:?}");
        }
    }

    #[test]
    fn a_batch_reports_only_what_comes_again() {
        use Settled::*;
        let t = tally(&[Delivered, Failed, DeadLettered, Deferred, Failed, Delivered]);
        assert_eq!(
            t,
            Tally {
                delivered: 2,
                dead_lettered: 1,
                deferred: 1,
                failed: vec![1, 4]
            }
        );
        assert_eq!(tally(&[]), Tally::default());
    }
}
