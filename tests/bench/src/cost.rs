//! Cost per million deliveries, from what the run measured (CPU per
//! delivery and per record, log bytes, attempt-log record size, fan-out,
//! SendMessageBatch calls) and the template's settings, on AWS list
//! prices (us-east-1, on demand, arm64). docs/benchmarks.md explains each
//! line.

/// List prices, USD (us-east-1).
pub const LAMBDA_GB_SECOND_ARM: f64 = 0.000_013_333_4;
pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
pub const SQS_REQUEST: f64 = 0.40 / 1e6;
pub const DYNAMODB_WRITE_UNIT: f64 = 0.625 / 1e6;
pub const DYNAMODB_READ_UNIT: f64 = 0.125 / 1e6;
pub const LOGS_PER_GB: f64 = 0.50;
pub const XRAY_TRACE: f64 = 5.0 / 1e6;

/// The template's settings and the assumptions the figures rest on.
pub const MEMORY_GB: f64 = 256.0 / 1024.0;
/// The sender's event source mapping hands over up to 100 messages; SQS
/// itself receives and deletes at most 10 per call.
pub const SENDER_BATCH: f64 = 100.0;
pub const SQS_PER_CALL: f64 = 10.0;
pub const ROUTER_BATCH: f64 = 100.0;
/// One DynamoDB or SQS round trip from Lambda, seconds.
pub const AWS_ROUND_TRIP: f64 = 0.008;
/// Lambda's platform lines (start, report) per invocation, bytes.
pub const PLATFORM_LOG_BYTES: f64 = 600.0;
/// X-Ray's default sampling: 5% beyond the first request each second.
pub const XRAY_SAMPLED: f64 = 0.05;

/// What the run measured.
pub struct Measured {
    pub sender_cpu_us: f64,
    pub router_cpu_us_per_record: f64,
    pub deliveries_per_record: f64,
    pub send_calls_per_delivery: f64,
    pub log_bytes_per_delivery: f64,
    /// Packed page sizes, bytes, by deliveries per page (1, 5, 100: the
    /// pages of 100, 20 and 1 subscriptions per batch of 100).
    pub page_bytes: Vec<(f64, f64)>,
    /// A mixed page of a whole batch (100 deliveries of several
    /// subscriptions), bytes.
    pub mixed_page_bytes: f64,
}

impl Measured {
    /// A page of `n` deliveries: measured if that length was, else scaled
    /// from the nearest length measured.
    fn page_bytes(&self, n: f64) -> f64 {
        self.page_bytes
            .iter()
            .min_by(|a, b| (a.0 - n).abs().total_cmp(&(b.0 - n).abs()))
            .map(|&(len, bytes)| bytes / len * n)
            .unwrap_or(0.0)
    }
}

#[derive(Debug, serde::Serialize)]
pub struct Line {
    pub item: &'static str,
    pub usd: f64,
}

#[derive(Debug, serde::Serialize)]
pub struct Estimate {
    pub receiver_latency_ms: f64,
    /// Subscriptions per sender batch of 100 (1: one page; 100: a page per
    /// delivery).
    pub subscriptions_per_batch: f64,
    pub lines: Vec<Line>,
    pub total: f64,
}

/// Per million deliveries, all succeeding at the first attempt.
pub fn estimate(m: &Measured, latency_ms: f64, subscriptions_per_batch: f64) -> Estimate {
    let n = 1e6;
    let batches = n / SENDER_BATCH;
    let records = n / m.deliveries_per_record.max(1e-9);
    // SQS: the router's SendMessageBatch calls; the event source mapping's
    // ReceiveMessage and DeleteMessageBatch, one each per 10 messages.
    let sqs = (n * m.send_calls_per_delivery + 2.0 * n / SQS_PER_CALL) * SQS_REQUEST;
    // The sender: the receiver's latency once per round of 10 deliveries
    // to one subscription (a batch's subscriptions run side by side), its
    // CPU, and a BatchWriteItem round trip per 25 attempt-log items.
    let per_page = SENDER_BATCH / subscriptions_per_batch;
    let rounds = (per_page / 10.0).ceil();
    let sender_seconds = rounds * latency_ms / 1e3
        + SENDER_BATCH * m.sender_cpu_us / 1e6
        + (subscriptions_per_batch / 25.0).ceil() * AWS_ROUND_TRIP;
    let sender = batches * (sender_seconds * MEMORY_GB * LAMBDA_GB_SECOND_ARM + LAMBDA_REQUEST);
    // The router: its CPU, and a case read per record, in sequence.
    let router_invocations = records / ROUTER_BATCH;
    let router_seconds = records * (m.router_cpu_us_per_record / 1e6 + AWS_ROUND_TRIP);
    let router =
        router_seconds * MEMORY_GB * LAMBDA_GB_SECOND_ARM + router_invocations * LAMBDA_REQUEST;
    // Reads: the case (1 unit, strongly consistent, under 4 KB) per record.
    let reads = records * DYNAMODB_READ_UNIT;
    // The attempt log: a page per subscription with at least OWN_PAGE_MIN
    // deliveries in the batch, else one mixed page for the batch; a write
    // unit per started KB (the packed page and ~120 bytes of keys and TTL);
    // the directory is a few items a day.
    let (pages, bytes) = if per_page < hubhooks::attempt_page::OWN_PAGE_MIN as f64 {
        (1.0, m.mixed_page_bytes)
    } else {
        (subscriptions_per_batch, m.page_bytes(per_page))
    };
    let page_units = ((bytes + 120.0) / 1024.0).ceil();
    let writes = batches * pages * page_units * DYNAMODB_WRITE_UNIT;
    let logs = (n * m.log_bytes_per_delivery + (batches + router_invocations) * PLATFORM_LOG_BYTES)
        / 1e9
        * LOGS_PER_GB;
    let xray = (batches + router_invocations) * XRAY_SAMPLED * XRAY_TRACE;
    let lines = vec![
        Line {
            item: "SQS requests",
            usd: sqs,
        },
        Line {
            item: "Lambda sender (GB-s + requests)",
            usd: sender,
        },
        Line {
            item: "Lambda router (GB-s + requests)",
            usd: router,
        },
        Line {
            item: "DynamoDB reads (cases)",
            usd: reads,
        },
        Line {
            item: "DynamoDB writes (attempt log)",
            usd: writes,
        },
        Line {
            item: "CloudWatch Logs ingestion",
            usd: logs,
        },
        Line {
            item: "X-Ray traces (sampled)",
            usd: xray,
        },
    ];
    let total = lines.iter().map(|l| l.usd).sum();
    Estimate {
        receiver_latency_ms: latency_ms,
        subscriptions_per_batch,
        lines,
        total,
    }
}

/// What the attempt log design it replaced cost per million successes:
/// an item (over 1 KB with its excerpt cap rarely) and its byCase and
/// bySubscription index entries.
pub fn indexed_log_writes() -> f64 {
    1e6 * 3.0 * DYNAMODB_WRITE_UNIT
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Measured {
        Measured {
            sender_cpu_us: 50.0,
            router_cpu_us_per_record: 40.0,
            deliveries_per_record: 10.0,
            send_calls_per_delivery: 0.1,
            log_bytes_per_delivery: 60.0,
            page_bytes: vec![(1.0, 400.0), (5.0, 1250.0), (100.0, 9000.0)],
            mixed_page_bytes: 12_000.0,
        }
    }

    #[test]
    fn sqs_costs_three_requests_per_ten_deliveries_whatever_the_batch() {
        let e = estimate(&measured(), 10.0, 1.0);
        let sqs = e.lines.iter().find(|l| l.item == "SQS requests").unwrap();
        assert!((sqs.usd - 0.12).abs() < 1e-9, "{}", sqs.usd);
    }

    #[test]
    fn batches_of_many_subscriptions_share_a_page_and_slow_receivers_cost_more_time() {
        let twenty = estimate(&measured(), 10.0, 20.0);
        let mixed = estimate(&measured(), 10.0, 100.0);
        let slow = estimate(&measured(), 100.0, 20.0);
        let writes = |e: &Estimate| e.lines[4].usd;
        // 5 a subscription: under OWN_PAGE_MIN, so one mixed page of 12 KB
        // for the batch: 12 units per 100 deliveries.
        assert!((writes(&twenty) - 0.12 * 0.625).abs() < 1e-9);
        assert!((writes(&mixed) - 0.12 * 0.625).abs() < 1e-9);
        // 100 records of one subscription in 9,000 B: its own page, 9 units.
        let one = estimate(&measured(), 10.0, 1.0);
        assert!((writes(&one) - 0.09 * 0.625).abs() < 1e-9);
        // 10 subscriptions of 10: pages of their own, scaled from the
        // nearest length measured (5: 1,250 B), 2,500 B, 3 units each.
        let ten = estimate(&measured(), 10.0, 10.0);
        assert!((writes(&ten) - 0.30 * 0.625).abs() < 1e-9);
        assert!(slow.total > twenty.total);
    }
}
