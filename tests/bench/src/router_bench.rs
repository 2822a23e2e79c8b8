//! The real `Router` on one core (a current-thread runtime, as one Lambda
//! instance per shard runs it) over in-memory ports: stream events of every
//! type parsed from JSON as the runtime hands them over, routed, rendered,
//! and serialized into queue messages packed as SendMessageBatch calls.
use crate::stats::{Spread, thread_cpu};
use crate::world;
use anyhow::{Result, bail};
use async_trait::async_trait;
use aws_lambda_events::event::dynamodb::Event;
use hubhooks::adapters::sqs::{messages, pack};
use hubhooks::config_cache::ConfigCache;
use hubhooks::delivery::Delivery;
use hubhooks::lambda::router::{Backoff, EnqueuedIds, Router};
use hubhooks::memory::{MemoryCases, MemoryConfig, MemoryDeadLetters, MemoryPayloads};
use hubhooks::ports::{DeliveryQueue, IoError};
use hubhooks::tables::TableNames;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The delivery queue as SqsDeliveryQueue fills it, minus the network: one
/// message per delivery, packed into calls by count and size. Keeps the
/// first `keep` messages for the sender benchmark.
#[derive(Default)]
pub struct CountingQueue {
    keep: usize,
    pub kept: Mutex<Vec<String>>,
    pub messages: AtomicU64,
    pub bytes: AtomicU64,
    pub calls: AtomicU64,
}

#[async_trait]
impl DeliveryQueue for CountingQueue {
    async fn enqueue(&self, deliveries: &[Delivery]) -> Vec<Result<(), IoError>> {
        let (bodies, sizes) = messages(deliveries);
        let (calls, too_large) = pack(&sizes);
        self.calls.fetch_add(calls.len() as u64, Ordering::Relaxed);
        self.messages
            .fetch_add(bodies.len() as u64, Ordering::Relaxed);
        self.bytes
            .fetch_add(sizes.iter().sum::<usize>() as u64, Ordering::Relaxed);
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let room = self.keep.saturating_sub(kept.len());
        kept.extend(bodies.into_iter().take(room));
        (0..deliveries.len())
            .map(|i| {
                if too_large.contains(&i) {
                    Err(IoError::new("bench queue", "over the SQS limit"))
                } else {
                    Ok(())
                }
            })
            .collect()
    }
}

/// The router, and the queue and failure queue it writes to.
struct BenchRouter {
    router: Router,
    queue: Arc<CountingQueue>,
    failures: Arc<MemoryDeadLetters>,
}

fn router(config: Vec<serde_json::Value>, keep: usize) -> BenchRouter {
    let cases = MemoryCases::default();
    cases.put_case(world::case());
    for s in world::earlier_statuses() {
        cases.put_status(s);
    }
    let queue = Arc::new(CountingQueue {
        keep,
        ..Default::default()
    });
    let failures = Arc::new(MemoryDeadLetters::default());
    let router = Router {
        tables: TableNames::with_prefix("hubhooks-dev"),
        cases: Arc::new(cases),
        config: ConfigCache::new(
            Arc::new(MemoryConfig::new(config)),
            Duration::from_secs(300),
        ),
        queue: queue.clone(),
        failures: failures.clone(),
        payloads: Arc::new(MemoryPayloads::default()),
        enqueued: EnqueuedIds::default(),
        backoff: Backoff::default(),
    };
    BenchRouter {
        router,
        queue,
        failures,
    }
}

#[derive(Debug, serde::Serialize)]
pub struct RouterResult {
    pub records_per_s: Spread,
    pub cpu_us_per_record: Spread,
    pub deliveries_per_s: Spread,
    pub deliveries_per_record: f64,
    pub message_bytes_per_delivery: f64,
    pub send_calls_per_delivery: f64,
    pub batch_size: usize,
    /// A reference for the router on the same core and input: each stream
    /// event's JSON read into `serde_json::Value`s and the bytes of the
    /// queue messages made copied out, nothing else. Records/s at that.
    pub reference_records_per_s: Spread,
    /// Of that reference, µs per record reading the input.
    pub reference_parse_us_per_record: f64,
    #[serde(skip)]
    pub messages: Vec<String>,
}

/// How much the router is given: `rounds` rounds of `records` records in
/// stream batches of `batch`; the first `keep` messages are kept.
pub struct Shape {
    pub records: usize,
    pub batch: usize,
    pub rounds: usize,
    pub keep: usize,
}

pub fn run(
    config: Vec<serde_json::Value>,
    samples: &[serde_json::Value],
    shape: Shape,
    metrics: &'static metrics_cloudwatch_embedded::Collector,
    sink: crate::sender_bench::LogSink,
) -> Result<RouterResult> {
    let Shape {
        records,
        batch,
        rounds,
        keep,
    } = shape;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let batches = world::stream_batches(samples, records, batch);
    let (mut rates, mut cpus, mut delivery_rates) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    // One warm-up round (config cache, allocator), then the measured ones.
    for round in 0..=rounds {
        let r = router(config.clone(), keep);
        let policy = hubhooks::meter::FlushPolicy::from_env();
        let (cpu0, t0) = (thread_cpu(), Instant::now());
        rt.block_on(async {
            for text in &batches {
                let event: Event = serde_json::from_str(text)?;
                let response = r
                    .router
                    .handle(event)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                if !response.batch_item_failures.is_empty() {
                    bail!("the router failed a batch: {response:?}");
                }
                // As `lambda::serve` does after every invocation.
                if policy.due() {
                    let _ = metrics.flush(std::io::BufWriter::new(sink));
                }
            }
            Ok(())
        })?;
        let (cpu, wall) = (thread_cpu() - cpu0, t0.elapsed());
        let delivered = r.queue.messages.load(Ordering::Relaxed);
        if !r.failures.letters().is_empty() {
            bail!("the router parked records: {:?}", r.failures.letters()[0]);
        }
        if round > 0 {
            rates.push(records as f64 / wall.as_secs_f64());
            cpus.push(cpu.as_secs_f64() * 1e6 / records as f64);
            delivery_rates.push(delivered as f64 / wall.as_secs_f64());
        }
        last = Some(r);
    }
    let r = last.expect("at least one round");
    let delivered = r.queue.messages.load(Ordering::Relaxed) as f64;
    let output_bytes = r.queue.bytes.load(Ordering::Relaxed) as usize;
    let (reference, reference_parse) = reference(&batches, records, output_bytes, rounds)?;
    Ok(RouterResult {
        records_per_s: Spread::of(rates),
        cpu_us_per_record: Spread::of(cpus),
        deliveries_per_s: Spread::of(delivery_rates),
        deliveries_per_record: delivered / records as f64,
        message_bytes_per_delivery: r.queue.bytes.load(Ordering::Relaxed) as f64 / delivered,
        send_calls_per_delivery: r.queue.calls.load(Ordering::Relaxed) as f64 / delivered,
        batch_size: batch,
        reference_records_per_s: reference,
        reference_parse_us_per_record: reference_parse,
        messages: std::mem::take(&mut *r.queue.kept.lock().unwrap_or_else(|e| e.into_inner())),
    })
}

/// The reference: the stream events parsed into `serde_json::Value` (what
/// the simplest reader of them does; the router needs typed records) and
/// `output_bytes` copied into fresh buffers, as the messages must be
/// written; `rounds` rounds. Records/s, and the parse's share in µs per
/// record (median).
fn reference(
    batches: &[String],
    records: usize,
    output_bytes: usize,
    rounds: usize,
) -> Result<(Spread, f64)> {
    let source = vec![b'x'; 64 * 1024];
    let (mut rates, mut parse) = (Vec::new(), Vec::new());
    for _ in 0..=rounds {
        let (cpu0, t0) = (thread_cpu(), Instant::now());
        let mut values = 0usize;
        for text in batches {
            let event: serde_json::Value = serde_json::from_str(text)?;
            values += event["Records"].as_array().map_or(0, Vec::len);
            std::hint::black_box(&event);
        }
        let parsed = thread_cpu() - cpu0;
        let mut left = output_bytes;
        while left > 0 {
            let n = left.min(source.len());
            let copy = source[..n].to_vec();
            std::hint::black_box(&copy);
            left -= n;
        }
        let wall = t0.elapsed();
        if values != records {
            bail!("the reference read {values} records of {records}");
        }
        rates.push(records as f64 / wall.as_secs_f64());
        parse.push(parsed.as_secs_f64() * 1e6 / records as f64);
    }
    // The first round warms up.
    rates.remove(0);
    parse.remove(0);
    Ok((Spread::of(rates), Spread::of(parse).median))
}
