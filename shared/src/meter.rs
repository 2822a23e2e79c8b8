//! What the functions count, through the `metrics` facade: the Lambdas
//! install a CloudWatch EMF recorder (namespace `hubhooks`), so every count
//! below becomes a CloudWatch metric; elsewhere (tests, the local runner)
//! nothing is recorded.
use crate::retry::Verdict;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub const NAMESPACE: &str = "hubhooks";

/// Set when something went wrong since the last flush.
static TROUBLE: AtomicBool = AtomicBool::new(false);

fn trouble() {
    TROUBLE.store(true, Ordering::Relaxed);
}

/// Histogram values recorded since the last flush: the EMF recorder keeps
/// at most 100 per metric and drops (and logs) the rest.
static PENDING_VALUES: AtomicUsize = AtomicUsize::new(0);

/// Flush once this many histogram values wait (10 deliveries per
/// invocation: about every third invocation under load).
const VALUES_PER_FLUSH: usize = 30;

/// When the functions write their metrics out (EMF lines are log bytes,
/// billed per GB). Counts add up in memory between flushes, so writing
/// every `every` instead of after every invocation costs a few lines a
/// minute instead of a few KiB per batch. An invocation that counted a
/// failure (retry, dead letter, malformed input, parked record) flushes at
/// once, so failure metrics and their alarms are never held back; so does
/// one after which many latency values wait (the recorder keeps at most 100
/// per metric). The cost: an instance reclaimed while idle takes its last
/// unflushed successes with it (the attempt log still has them).
pub struct FlushPolicy {
    every: Duration,
    last: Mutex<Option<Instant>>,
    trouble: &'static AtomicBool,
}

impl FlushPolicy {
    pub fn new(every: Duration) -> Self {
        FlushPolicy {
            every,
            last: Mutex::new(None),
            trouble: &TROUBLE,
        }
    }

    /// `METRICS_FLUSH_SECONDS` (default 60; 0 flushes after every invocation).
    pub fn from_env() -> Self {
        let seconds = std::env::var("METRICS_FLUSH_SECONDS")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(60);
        FlushPolicy::new(Duration::from_secs(seconds))
    }

    /// After an invocation: whether to write the metrics now. The first
    /// invocation (the cold start) always does.
    pub fn due(&self) -> bool {
        let trouble = self.trouble.swap(false, Ordering::Relaxed);
        let full = PENDING_VALUES.load(Ordering::Relaxed) >= VALUES_PER_FLUSH;
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let due = trouble || full || last.is_none_or(|t| t.elapsed() >= self.every);
        if due {
            *last = Some(Instant::now());
            PENDING_VALUES.store(0, Ordering::Relaxed);
        }
        due
    }
}

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
        // Ours, not the receiver's: dead-lettered all the same.
        Verdict::Refused { .. } => ("DeliveriesDeadLettered", None),
    };
    metrics::counter!(name, &labels).increment(1);
    if !matches!(verdict, Verdict::Delivered(_)) {
        trouble();
        metrics::counter!("DeliveriesFailed", &labels).increment(1);
    }
    if let Verdict::Gone { .. } = verdict {
        metrics::counter!("DeliveriesDeadLettered", &labels).increment(1);
    }
    if let Some(l) = latency {
        PENDING_VALUES.fetch_add(1, Ordering::Relaxed);
        metrics::histogram!("DeliveryLatency", &labels).record(l.as_secs_f64() * 1000.0);
    }
}

/// A message that was not a delivery at all.
pub fn malformed_message() {
    trouble();
    metrics::counter!("DeliveriesMalformed").increment(1);
}

/// A delivery put back on the queue without an attempt:
/// `DeliveriesDeferred` by `Reason`.
pub fn deferred(reason: &'static str) {
    metrics::counter!("DeliveriesDeferred", "Reason" => reason).increment(1);
}

/// A delivery put back unattempted because something of ours (the
/// config, a secret, its stored body) could not be read: `Unreadable`
/// (alarmed in the template).
pub fn unreadable() {
    trouble();
    metrics::counter!("Unreadable").increment(1);
}

/// An operational notice sent: `Notices` by `NoticeType`.
pub fn notice(notice_type: &'static str) {
    trouble();
    metrics::counter!("Notices", "NoticeType" => notice_type).increment(1);
}

/// An earlier status skipped because it cannot be read:
/// `RouterEarlierStatusesUnreadable`.
pub fn unreadable_earlier_status() {
    trouble();
    metrics::counter!("RouterEarlierStatusesUnreadable").increment(1);
}

/// One router batch: `RouterRecords`, `RouterRecordsMalformed` (parked),
/// `RouterRecordsIgnored`, `RouterDeliveries` (fan-out).
pub fn router_batch(
    records: usize,
    parked: usize,
    ignored: usize,
    deliveries: usize,
    filtered: usize,
) {
    if parked > 0 {
        trouble();
    }
    metrics::counter!("RouterRecords").increment(records as u64);
    metrics::counter!("RouterRecordsMalformed").increment(parked as u64);
    metrics::counter!("RouterRecordsIgnored").increment(ignored as u64);
    metrics::counter!("RouterDeliveries").increment(deliveries as u64);
    metrics::counter!("RouterFiltered").increment(filtered as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_written_at_a_cold_start_then_once_a_period_or_at_once_after_trouble() {
        static FLAG: AtomicBool = AtomicBool::new(false);
        let policy = FlushPolicy {
            every: Duration::from_secs(3600),
            last: Mutex::new(None),
            trouble: &FLAG,
        };
        assert!(policy.due(), "the cold start flushes");
        assert!(
            !policy.due(),
            "a quiet invocation within the period does not"
        );
        FLAG.store(true, Ordering::Relaxed);
        assert!(policy.due(), "an invocation with trouble does");
        assert!(!policy.due(), "and the flag is spent");
        let every_time = FlushPolicy {
            every: Duration::ZERO,
            last: Mutex::new(None),
            trouble: &FLAG,
        };
        assert!(every_time.due() && every_time.due());
    }
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
