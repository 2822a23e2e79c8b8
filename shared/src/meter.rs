//! What the functions count, through the `metrics` facade: the Lambdas
//! install a CloudWatch EMF recorder (namespace `hubhooks`), so every count
//! below becomes a CloudWatch metric; elsewhere (tests, the local runner)
//! nothing is recorded.
use crate::retry::Verdict;
use std::time::Duration;

pub const NAMESPACE: &str = "hubhooks";

/// One delivery attempt: `DeliveriesSucceeded`, `DeliveriesRetried`,
/// `DeliveriesDeadLettered` (with `DeliveriesGone` for 410s), each with an
/// `EventType` and `Transport` dimension, and `DeliveryLatency` (ms) of
/// attempts the receiver answered.
pub fn attempt(event_type: &str, transport: &'static str, verdict: &Verdict) {
    let labels = [
        ("EventType", event_type.to_owned()),
        ("Transport", transport.to_owned()),
    ];
    let (name, latency): (&'static str, Option<Duration>) = match verdict {
        Verdict::Delivered(r) => ("DeliveriesSucceeded", Some(r.latency)),
        Verdict::Retry { error, .. } => ("DeliveriesRetried", error.latency),
        Verdict::GiveUp { last, .. } => (
            "DeliveriesDeadLettered",
            last.as_ref().and_then(|l| l.latency),
        ),
        Verdict::Gone { .. } => ("DeliveriesGone", None),
    };
    metrics::counter!(name, &labels).increment(1);
    if !matches!(verdict, Verdict::Delivered(_)) {
        metrics::counter!("DeliveriesFailed", &labels).increment(1);
    }
    if let Verdict::Gone { .. } = verdict {
        metrics::counter!("DeliveriesDeadLettered", &labels).increment(1);
    }
    if let Some(l) = latency {
        metrics::histogram!("DeliveryLatency", &labels).record(l.as_secs_f64() * 1000.0);
    }
}

/// A message that was not a delivery at all.
pub fn malformed_message() {
    metrics::counter!("DeliveriesMalformed").increment(1);
}

/// An earlier status skipped because it cannot be read:
/// `RouterEarlierStatusesUnreadable`.
pub fn unreadable_earlier_status() {
    metrics::counter!("RouterEarlierStatusesUnreadable").increment(1);
}

/// One router batch: `RouterRecords`, `RouterRecordsMalformed` (parked),
/// `RouterRecordsIgnored`, `RouterDeliveries` (fan-out).
pub fn router_batch(records: usize, parked: usize, ignored: usize, deliveries: usize) {
    metrics::counter!("RouterRecords").increment(records as u64);
    metrics::counter!("RouterRecordsMalformed").increment(parked as u64);
    metrics::counter!("RouterRecordsIgnored").increment(ignored as u64);
    metrics::counter!("RouterDeliveries").increment(deliveries as u64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Receipt;
    use crate::retry::Failure;

    #[test]
    fn attempts_become_emf_metrics_with_type_and_transport() {
        let collector = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .init()
            .unwrap();
        attempt(
            "newStatus",
            "http",
            &Verdict::Delivered(Receipt {
                status: 200,
                latency: Duration::from_millis(42),
                excerpt: String::new(),
            }),
        );
        attempt(
            "invoice",
            "amqp",
            &Verdict::GiveUp {
                reason: "gave up".into(),
                last: Some(Failure {
                    message: "x".into(),
                    status: None,
                    latency: None,
                    excerpt: String::new(),
                }),
            },
        );
        let mut out = Vec::new();
        collector.flush(&mut out).unwrap();
        let docs: Vec<serde_json::Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let find = |metric: &str, event_type: &str| {
            docs.iter()
                .find(|d| d.get(metric).is_some() && d["EventType"] == event_type)
                .unwrap_or_else(|| panic!("{metric} for {event_type} in {docs:#?}"))
        };
        let ok = find("DeliveriesSucceeded", "newStatus");
        assert_eq!(ok["DeliveriesSucceeded"], 1);
        assert_eq!(ok["Transport"], "http");
        assert_eq!(ok["_aws"]["CloudWatchMetrics"][0]["Namespace"], "hubhooks");
        assert_eq!(
            find("DeliveryLatency", "newStatus")["DeliveryLatency"],
            serde_json::json!([42.0])
        );
        assert_eq!(
            find("DeliveriesDeadLettered", "invoice")["Transport"],
            "amqp"
        );
        assert_eq!(find("DeliveriesFailed", "invoice")["DeliveriesFailed"], 1);
    }
}
