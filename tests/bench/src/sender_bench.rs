//! The real `Sender` with the real HTTP transport (reqwest, rustls, the SSRF
//! guard) against the receiver: SQS events parsed from JSON, delivered
//! concurrently as Lambda hands them over, by several instances side by
//! side (each its own thread, runtime and `Sender`); signing, the attempt
//! log (packed as the table keeps it), EMF metrics and the JSON logs on.
//! The other ports are in memory.
use crate::stats::{Spread, process_cpu};
use anyhow::{Result, bail};
use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use hubhooks::adapters::Transports;
use hubhooks::adapters::amqp::AmqpTransport;
use hubhooks::adapters::http::HttpTransport;
use hubhooks::attempt::AttemptRecord;
use hubhooks::config_cache::ConfigCache;
use hubhooks::egress::AllowList;
use hubhooks::lambda::sender::Sender;
use hubhooks::memory::{
    MemoryConfig, MemoryControl, MemoryDeadLetters, MemoryPayloads, MemoryRedelivery, MemorySecrets,
};
use hubhooks::ports::{AttemptLog, IoError};
use hubhooks::retry::RetrySchedule;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The attempt log's work without the network: each batch's records and
/// envelopes laid out and packed as the table's pages are
/// (`hubhooks::attempt_page::layout`), their size kept for the cost model,
/// and samples to size pages of other lengths.
#[derive(Default)]
pub struct EncodingLog {
    pub items: AtomicU64,
    pub bytes: AtomicU64,
    /// Records and envelopes held until `flush`.
    pending: std::sync::Mutex<Vec<(AttemptRecord, hubhooks::delivery::Delivery)>>,
    sample: std::sync::Mutex<Vec<(AttemptRecord, hubhooks::delivery::Delivery)>>,
    /// The first records of every subscription, to size mixed pages.
    mixed_sample: std::sync::Mutex<Vec<(AttemptRecord, hubhooks::delivery::Delivery)>>,
}

/// Records of one subscription kept to size pages: the first of a
/// subscription to every type (`crate::world::config`).
const SAMPLE: usize = 100;
const SAMPLED: &str = "partner-1";

impl EncodingLog {
    /// The packed size of a page of `n` (at most 100) of one subscription's
    /// attempts, with their envelopes.
    pub fn page_bytes(&self, n: usize) -> f64 {
        Self::packed(&self.sample, n)
    }

    /// The packed size of a mixed page of `n` (at most 100) attempts of
    /// several subscriptions, with their envelopes.
    pub fn mixed_page_bytes(&self, n: usize) -> f64 {
        Self::packed(&self.mixed_sample, n)
    }

    fn packed(
        sample: &std::sync::Mutex<Vec<(AttemptRecord, hubhooks::delivery::Delivery)>>,
        n: usize,
    ) -> f64 {
        let sample = sample.lock().unwrap_or_else(|e| e.into_inner());
        let n = n.clamp(1, sample.len().max(1));
        let records: Vec<_> = sample.iter().take(n).map(|(r, _)| r).collect();
        let envelopes: Vec<_> = sample.iter().take(n).map(|(_, d)| d).collect();
        hubhooks::attempt_page::pack(&records, &envelopes).len() as f64
    }
}

#[async_trait]
impl AttemptLog for EncodingLog {
    async fn record(
        &self,
        attempt: &AttemptRecord,
        delivery: &hubhooks::delivery::Delivery,
    ) -> Result<(), IoError> {
        self.items.fetch_add(1, Ordering::Relaxed);
        {
            let mut sample = self.sample.lock().unwrap_or_else(|e| e.into_inner());
            if sample.len() < SAMPLE && attempt.subscription_id.as_str() == SAMPLED {
                sample.push((attempt.clone(), delivery.clone()));
            }
            let mut mixed = self.mixed_sample.lock().unwrap_or_else(|e| e.into_inner());
            if mixed.len() < SAMPLE {
                mixed.push((attempt.clone(), delivery.clone()));
            }
        }
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((attempt.clone(), delivery.clone()));
        Ok(())
    }

    async fn flush(&self) -> Result<(), IoError> {
        let pending = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()));
        // Laid out and packed as the table's adapter does.
        let held = pending.into_iter().map(|(r, d)| (r, Some(d))).collect();
        for page in hubhooks::attempt_page::layout(held) {
            self.bytes
                .fetch_add(page.blob.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Where logs and metrics go: a pipe to another process, as a Lambda's
/// stdout is; counts the bytes.
#[derive(Clone, Copy)]
pub struct LogSink {
    pub pipe: &'static std::process::ChildStdin,
    pub bytes: &'static AtomicU64,
}

impl Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = (&mut &*self.pipe).write(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, serde::Serialize)]
pub struct SenderResult {
    pub deliveries_per_s: Spread,
    pub cpu_us_per_delivery: Spread,
    pub log_bytes_per_delivery: f64,
    pub attempt_log_bytes_per_delivery: f64,
    pub in_flight: usize,
}

pub fn sender(config: Vec<serde_json::Value>, log: Arc<EncodingLog>) -> Result<Sender> {
    let allow = AllowList::parse("127.0.0.1/32")?;
    let secrets = MemorySecrets::default();
    secrets
        .values
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            crate::world::SIGNING_SECRET.into(),
            vec![crate::world::SIGNING_KEY.into()],
        );
    let transports = Arc::new(Transports {
        http: HttpTransport::new(allow.clone(), None)?,
        amqp: AmqpTransport::new(allow),
    });
    Ok(Sender {
        transport: transports.clone(),
        tokens: hubhooks::oauth2::Tokens::new(transports),
        dead_letters: Arc::new(MemoryDeadLetters::default()),
        redelivery: Arc::new(MemoryRedelivery::default()),
        secrets: Arc::new(secrets),
        control: Arc::new(MemoryControl::default()),
        payloads: Arc::new(MemoryPayloads::default()),
        log,
        schedule: RetrySchedule::default(),
        config: ConfigCache::new(
            Arc::new(MemoryConfig::new(config)),
            Duration::from_secs(300),
        ),
        notices: Arc::new(hubhooks::ports::NoTopic),
        streaks: hubhooks::lambda::sender::Streaks::new(
            hubhooks::notice::DEFAULT_FAILURE_STREAK,
            Duration::from_secs(300),
        ),
        rates: Arc::new(hubhooks::memory::MemoryRates::default()),
        breakers: hubhooks::lambda::sender::Breakers::default(),
        holds: Arc::new(hubhooks::memory::MemoryHolds::default()),
        clock: std::sync::Arc::new(hubhooks::clock::SystemClock),
        unreadable_limit: hubhooks::settings::DEFAULT_UNREADABLE_LIMIT,
        due_notices: Default::default(),
        notice_budget: hubhooks::lambda::sender::NOTICE_BUDGET,
    })
}

/// `rounds` rounds over `batches` (SQS events as JSON), `in_flight`
/// instances at a time, after one warm-up round (connections, caches).
/// Each instance is what a Lambda instance is: its own thread, its own
/// current-thread runtime (as the function's `main`), its own `Sender`
/// from `make` (clients, connection pool, caches); they share only the
/// batches still to do, and the attempt log's accounting.
pub fn run(
    make: &(dyn Fn() -> Result<Sender> + Sync),
    batches: &[String],
    in_flight: usize,
    rounds: usize,
    metrics: &'static metrics_cloudwatch_embedded::Collector,
    sink: LogSink,
    log: &EncodingLog,
) -> Result<SenderResult> {
    let instances: Vec<(tokio::runtime::Runtime, Sender)> = (0..in_flight)
        .map(|_| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            Ok((rt, make()?))
        })
        .collect::<Result<_>>()?;
    let deliveries: usize = batches
        .iter()
        .map(|b| b.matches("\"messageId\"").count())
        .sum();
    let (mut rates, mut cpus) = (Vec::new(), Vec::new());
    let (log0, items0, item_bytes0) = (
        sink.bytes.load(Ordering::Relaxed),
        log.items.load(Ordering::Relaxed),
        log.bytes.load(Ordering::Relaxed),
    );
    for round in 0..=rounds {
        let next = AtomicUsize::new(0);
        let failed = AtomicUsize::new(0);
        let (cpu0, t0) = (process_cpu(), Instant::now());
        std::thread::scope(|scope| {
            for (rt, sender) in &instances {
                let (next, failed) = (&next, &failed);
                scope.spawn(move || {
                    rt.block_on(async {
                        // Each instance has its own clock.
                        let policy = hubhooks::meter::FlushPolicy::from_env();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(text) = batches.get(i) else { break };
                            let event: SqsEvent = match serde_json::from_str(text) {
                                Ok(e) => e,
                                Err(_) => {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                    continue;
                                }
                            };
                            match sender.handle(event).await {
                                Ok(r) => {
                                    failed.fetch_add(r.batch_item_failures.len(), Ordering::Relaxed)
                                }
                                Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                            };
                            // As `lambda::serve` does after every invocation.
                            if policy.due() {
                                let _ = metrics.flush(std::io::BufWriter::new(sink));
                            }
                        }
                    })
                });
            }
        });
        let (cpu, wall) = (process_cpu() - cpu0, t0.elapsed());
        let failed = failed.load(Ordering::Relaxed);
        if failed > 0 {
            bail!(
                "{failed} deliveries failed in round {round}: the benchmark's receiver must answer 2xx"
            );
        }
        if round > 0 {
            rates.push(deliveries as f64 / wall.as_secs_f64());
            cpus.push(cpu.as_secs_f64() * 1e6 / deliveries as f64);
        }
    }
    let attempts = (log.items.load(Ordering::Relaxed) - items0) as f64;
    let expected = (deliveries * (rounds + 1)) as f64;
    if attempts != expected {
        bail!("the attempt log has {attempts} records for {expected} deliveries");
    }
    Ok(SenderResult {
        deliveries_per_s: Spread::of(rates),
        cpu_us_per_delivery: Spread::of(cpus),
        log_bytes_per_delivery: (sink.bytes.load(Ordering::Relaxed) - log0) as f64 / expected,
        attempt_log_bytes_per_delivery: (log.bytes.load(Ordering::Relaxed) - item_bytes0) as f64
            / attempts,
        in_flight,
    })
}
