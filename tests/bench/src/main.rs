//! `make bench`: how fast and how lean hubhooks is, against the physical
//! limit measured in the same run. See docs/benchmarks.md.
//!
//! 1. A receiver (nginx answering 204, else a built-in one) and wrk's rate
//!    against it with the sender's body and headers: the limit.
//! 2. The real Router on one core: stream events of every type, 10
//!    subscriptions per party.
//! 3. The real Sender with the real HTTP transport against that receiver.
//! 4. With `--binaries DIR`: the release Lambda binaries under a minimal
//!    Runtime API: start → first poll, and peak RSS after invocations
//!    against the local stack (moto) and the receiver; their sizes. And the
//!    management API's p50/p99 latency of listing deliveries and creating
//!    a subscription on the local stack, beside moto's own round trip.
mod api_bench;
mod cost;
mod lambda_start;
mod load;
mod receiver;
mod router_bench;
mod sender_bench;
mod stats;
mod world;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};
use stats::Spread;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

#[derive(Parser)]
#[command(name = "hubhooks-bench", about = "hubhooks benchmarks (make bench)")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Measured rounds of each benchmark (after one warm-up round).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Stream records per router round.
    #[arg(long, default_value_t = 50_000)]
    records: usize,
    /// Records per stream batch (the template's BatchSize).
    #[arg(long, default_value_t = 100)]
    stream_batch: usize,
    /// Deliveries per sender round.
    #[arg(long, default_value_t = 30_000)]
    deliveries: usize,
    /// Messages per sender batch (the template's BatchSize).
    #[arg(long, default_value_t = 100)]
    sender_batch: usize,
    /// Sender batches in flight at once, as that many instances.
    #[arg(long, default_value_t = 2)]
    in_flight: usize,
    /// Subscriptions per party (partner and provider).
    #[arg(long, default_value_t = 10)]
    subscriptions: usize,
    /// Seconds per load-generator round.
    #[arg(long, default_value_t = 3)]
    load_seconds: u32,
    /// Use the built-in receiver even when nginx is installed.
    #[arg(long)]
    builtin_receiver: bool,
    /// Directory of release `router` and `sender` binaries (this machine's
    /// architecture): measure their start, memory and size.
    #[arg(long)]
    binaries: Option<PathBuf>,
    /// cargo-lambda's output (target/lambda): report the arm64 sizes.
    #[arg(long)]
    arm64: Option<PathBuf>,
    /// Only the router (for profiling: `perf record … --router-only`).
    #[arg(long)]
    router_only: bool,
    /// Keep the logs and metrics lines written during the run in this file.
    #[arg(long)]
    keep_logs: Option<PathBuf>,
    /// Also write the figures as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The functions' log level during the run (INFO as deployed; DEBUG
    /// adds one line per delivery).
    #[arg(long, default_value = "INFO")]
    log_level: String,
}

#[derive(Subcommand)]
enum Command {
    /// The built-in receiver (used when nginx is absent).
    #[command(hide = true)]
    Receiver {
        #[arg(long)]
        port: u16,
    },
}

// The allocator the Lambda binaries use.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Receiver { port }) = cli.command {
        return receiver::serve_builtin(port);
    }
    // SAFETY: single-threaded here; the logger reads these once, below.
    unsafe {
        std::env::set_var("AWS_LAMBDA_LOG_FORMAT", "JSON");
        std::env::set_var("AWS_LAMBDA_LOG_LEVEL", &cli.log_level);
    }
    // Logs and metrics go down a pipe to another process, as a Lambda's
    // stdout does; the bytes are counted for the cost model.
    // `--keep-logs FILE` keeps them, to see what the functions write.
    let mut drain = match &cli.keep_logs {
        Some(path) => {
            let mut c = std::process::Command::new("tee");
            c.arg(path);
            c
        }
        None => std::process::Command::new("cat"),
    };
    let mut drain = drain
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("starting the log drain (cat)")?;
    let pipe: &'static std::process::ChildStdin =
        Box::leak(Box::new(drain.stdin.take().context("no pipe")?));
    let sink = sender_bench::LogSink {
        pipe,
        bytes: Box::leak(Box::new(AtomicU64::new(0))),
    };
    hubhooks::telemetry::init_with_writer(move || sink);
    let metrics = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(hubhooks::meter::NAMESPACE)
        .with_dimension("Function", "bench")
        .init()
        .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;

    let result = run(&cli, metrics, sink);
    drop(drain.stdin.take());
    let _ = drain.kill();
    let _ = drain.wait();
    result
}

fn run(
    cli: &Cli,
    metrics: &'static metrics_cloudwatch_embedded::Collector,
    sink: sender_bench::LogSink,
) -> Result<()> {
    let machine = machine();
    eprintln!("hubhooks-bench on {machine}");
    let receiver = receiver::Receiver::start(cli.builtin_receiver)?;
    eprintln!("receiver: {} at {}", receiver.kind, receiver.url);
    let config = world::config(cli.subscriptions, &receiver.url);
    let samples = world::sample_records(&root())?;

    eprintln!(
        "router: {} rounds of {} records (one core)…",
        cli.rounds, cli.records
    );
    let router = router_bench::run(
        config.clone(),
        &samples,
        router_bench::Shape {
            records: cli.records,
            batch: cli.stream_batch,
            rounds: cli.rounds,
            keep: cli.deliveries,
        },
        metrics,
        sink,
    )?;
    if cli.router_only {
        println!("router: {:?}", router.records_per_s);
        return Ok(());
    }
    if router.messages.len() < cli.deliveries {
        bail!(
            "the router made {} deliveries; the sender needs {}",
            router.messages.len(),
            cli.deliveries
        );
    }

    let (body, headers) = typical_request(&router.messages[0])?;
    // As many connections as the sender keeps busy: 10 per subscription
    // and batch at most.
    let connections = cli.in_flight * cli.sender_batch.min(20 * cli.subscriptions);
    // The limit before and after the sender's rounds, in the same run.
    let limit_round = || {
        eprintln!(
            "load generator: wrk, {connections} connections, {} s…",
            cli.load_seconds
        );
        load::wrk(
            &receiver.url,
            &body,
            &headers,
            connections,
            cli.load_seconds,
        )
    };
    let mut limits = vec![limit_round()?];

    eprintln!(
        "sender: {} rounds of {} deliveries, {} batches of {} in flight…",
        cli.rounds, cli.deliveries, cli.in_flight, cli.sender_batch
    );
    let log = Arc::new(sender_bench::EncodingLog::default());
    let make = || sender_bench::sender(config.clone(), Arc::clone(&log));
    let batches = world::sqs_batches(&router.messages[..cli.deliveries], cli.sender_batch);
    let sender = sender_bench::run(
        &make,
        &batches,
        cli.in_flight,
        cli.rounds,
        metrics,
        sink,
        &log,
    )?;
    limits.push(limit_round()?);
    let limit = Spread::of(limits);

    let lambdas = match &cli.binaries {
        Some(dir) => Some(lambda_figures(
            dir,
            &receiver.url,
            &config,
            &samples,
            &router.messages,
        )?),
        None => None,
    };
    let arm64 = cli.arm64.as_deref().map(arm64_sizes).transpose()?;

    let measured = cost::Measured {
        sender_cpu_us: sender.cpu_us_per_delivery.median,
        router_cpu_us_per_record: router.cpu_us_per_record.median,
        deliveries_per_record: router.deliveries_per_record,
        send_calls_per_delivery: router.send_calls_per_delivery,
        log_bytes_per_delivery: sender.log_bytes_per_delivery,
        page_bytes: [1, 5, 100]
            .into_iter()
            .map(|n| (n as f64, log.page_bytes(n)))
            .collect(),
        mixed_page_bytes: log.mixed_page_bytes(100),
    };
    let costs: Vec<cost::Estimate> = [
        (10.0, 1.0),
        (100.0, 1.0),
        (10.0, 20.0),
        (100.0, 20.0),
        (10.0, 100.0),
        (100.0, 100.0),
    ]
    .into_iter()
    .map(|(latency, subs)| cost::estimate(&measured, latency, subs))
    .collect();
    let report = json!({
        "machine": machine,
        "receiver": receiver.kind,
        "loadGenerator": format!("{} -t2 -c{connections}", load::wrk_version()),
        "limit": limit,
        "sender": sender,
        "router": router,
        "lambdas": lambdas,
        "arm64Sizes": arm64,
        "logLevel": cli.log_level,
        "costPerMillion": costs,
        "attemptLogPageBytes": measured.page_bytes.iter().map(|(n, b)| json!({"deliveries": n, "bytes": b})).collect::<Vec<_>>(),
        "attemptLogMixedPageBytes": measured.mixed_page_bytes,
        "indexedLogWritesPerMillion": cost::indexed_log_writes(),
    });
    print_table(&report, &router, &sender, &limit);
    if let Some(path) = &cli.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("figures written to {}", path.display());
    }
    Ok(())
}

/// The body and headers of a typical delivery, for the load generator.
fn typical_request(message: &str) -> Result<(String, Vec<(String, String)>)> {
    let envelope: Value = serde_json::from_str(message)?;
    let body = envelope["body"].as_str().context("no body")?.to_owned();
    let headers = [
        ("content-type", "application/json"),
        ("user-agent", "hubhooks/0.1"),
        ("webhook-id", "0f1e2d3c-4b5a-5968-8776-a5b4c3d2e1f0"),
        ("webhook-timestamp", "1674652278"),
        (
            "webhook-signature",
            "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        ),
        ("webhook-attempt", "1"),
        ("event-type", "newStatus"),
    ];
    Ok((
        body,
        headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    ))
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
}

#[derive(serde::Serialize)]
struct LambdaFigures {
    /// Start → first Runtime API poll, ms.
    router_start_ms: Spread,
    sender_start_ms: Spread,
    /// Peak RSS after the invocations, MB.
    router_peak_rss_mb: f64,
    sender_peak_rss_mb: f64,
    router_invocations: usize,
    sender_invocations: usize,
    router_bytes: u64,
    sender_bytes: u64,
    api: api_bench::ApiFigures,
}

fn lambda_figures(
    dir: &Path,
    receiver_url: &str,
    config: &[Value],
    samples: &[Value],
    messages: &[String],
) -> Result<LambdaFigures> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        use hubhooks_cli::config::put_json;
        use hubhooks_cli::local::provision::{QueueSettings, provision};
        let (router_exe, sender_exe) = (dir.join("router"), dir.join("sender"));
        for exe in [&router_exe, &sender_exe] {
            if !exe.exists() {
                bail!(
                    "{} not found (cargo build --release -p router -p sender)",
                    exe.display()
                );
            }
        }
        eprintln!("lambdas: the local stack on moto…");
        let moto = hubhooks_testkit::moto::Moto::start()?;
        let sdk = hubhooks_cli::aws::sdk_config(Some(&moto.endpoint)).await;
        let stack = provision(&sdk, "hubhooks-dev", &QueueSettings::default()).await?;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        for item in config {
            put_json(&ddb, &stack.tables.config, item).await?;
        }
        put_json(&ddb, stack.tables.cases(), &world::case()).await?;
        for s in world::earlier_statuses() {
            put_json(&ddb, stack.tables.case_statuses(), &s).await?;
        }
        put_json(
            &ddb,
            &stack.secrets_table,
            &json!({"id": world::SIGNING_SECRET, "values": [world::SIGNING_KEY]}),
        )
        .await?;
        let mut common = vec![
            ("AWS_ACCESS_KEY_ID".to_owned(), "bench".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "bench".to_owned()),
            // moto keeps each region apart: the one the stack was made in.
            (
                "AWS_REGION".to_owned(),
                sdk.region()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| "us-east-1".into()),
            ),
            ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint.clone()),
            ("CONFIG_TABLE".to_owned(), stack.tables.config.clone()),
            (
                "DELIVERY_QUEUE_URL".to_owned(),
                stack.delivery_queue_url.clone(),
            ),
            ("PAYLOAD_BUCKET".to_owned(), stack.payload_bucket.clone()),
        ];
        let mut router_env = common.clone();
        for t in hubhooks::tables::CaseTable::ALL {
            router_env.push((t.env_var().to_owned(), stack.tables.name(t).to_owned()));
        }
        router_env.push((
            "ROUTER_FAILURE_QUEUE_URL".to_owned(),
            stack.router_failure_queue_url.clone(),
        ));
        common.extend([
            (
                "DELIVERY_DLQ_URL".to_owned(),
                stack.delivery_dlq_url.clone(),
            ),
            ("SECRETS_TABLE".to_owned(), stack.secrets_table.clone()),
            (
                "ATTEMPT_LOG_TABLE".to_owned(),
                stack.attempt_log_table.clone(),
            ),
            ("EGRESS_ALLOW".to_owned(), "127.0.0.1/32".to_owned()),
        ]);
        let sender_env = common;
        let _ = receiver_url;
        let api_exe = dir.join("api");
        let api = api_bench::measure(
            &sdk,
            &stack,
            &sender_env,
            Some(&api_exe).filter(|e| e.exists()),
        )
        .await
        .context("the management API")?;

        eprintln!("lambdas: start → first poll, 10 starts each…");
        let ms = |d: Vec<Duration>| Spread::of(d.iter().map(|d| d.as_secs_f64() * 1e3).collect());
        let router_start = ms(lambda_start::start_times(&router_exe, &router_env, 10).await?);
        let sender_start = ms(lambda_start::start_times(&sender_exe, &sender_env, 10).await?);

        eprintln!("lambdas: invocations against the local stack…");
        // moto answers in milliseconds, not microseconds: a few invocations
        // of real work (about 1,000 deliveries enqueued) are enough to
        // reach the working set.
        let router_events = world::stream_batches(samples, 100, 20);
        let router_rss = invoked("router", &router_exe, &router_env, router_events.clone()).await?;
        let sender_events = world::sqs_batches(&messages[..300.min(messages.len())], 100);
        let sender_rss = invoked("sender", &sender_exe, &sender_env, sender_events.clone()).await?;
        let (n_router, n_sender) = (router_events.len(), sender_events.len());

        Ok(LambdaFigures {
            router_start_ms: router_start,
            sender_start_ms: sender_start,
            router_peak_rss_mb: router_rss as f64 / 1048576.0,
            sender_peak_rss_mb: sender_rss as f64 / 1048576.0,
            router_invocations: n_router,
            sender_invocations: n_sender,
            router_bytes: std::fs::metadata(&router_exe)?.len(),
            sender_bytes: std::fs::metadata(&sender_exe)?.len(),
            api,
        })
    })
}

/// Runs `events` through a fresh `exe`, checks every answer, and returns
/// its peak RSS.
async fn invoked(
    what: &str,
    exe: &PathBuf,
    env: &[(String, String)],
    events: Vec<String>,
) -> Result<u64> {
    let n = events.len();
    let mut f = lambda_start::Function::start(exe, env, events).await?;
    let waited = f.until_idle(Duration::from_secs(120)).await;
    waited
        .and_then(|()| check_answers(what, &f.responses(), &f.errors(), n))
        .with_context(|| format!("the {what}'s log ends:\n{}", f.log_tail(15)))?;
    f.peak_rss()
}

/// Every invocation answered, none with an error or a failed item.
fn check_answers(
    what: &str,
    responses: &[String],
    errors: &[String],
    expected: usize,
) -> Result<()> {
    if let Some(e) = errors.first() {
        bail!("the {what} failed an invocation: {e}");
    }
    if responses.len() != expected {
        bail!(
            "the {what} answered {} of {expected} invocations",
            responses.len()
        );
    }
    for r in responses {
        let v: Value = serde_json::from_str(r)?;
        if v["batchItemFailures"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
        {
            bail!("the {what} reported failed items: {r}");
        }
    }
    Ok(())
}

fn arm64_sizes(dir: &Path) -> Result<Value> {
    let size = |f: &str| -> Result<u64> {
        let p = dir.join(f).join("bootstrap");
        Ok(std::fs::metadata(&p)
            .with_context(|| format!("{} (cargo lambda build --release --arm64)", p.display()))?
            .len())
    };
    Ok(json!({"router": size("router")?, "sender": size("sender")?}))
}

fn print_table(
    report: &Value,
    router: &router_bench::RouterResult,
    sender: &sender_bench::SenderResult,
    limit: &Spread,
) {
    let row = |name: &str, s: &Spread, unit: &str| {
        println!(
            "{name:<44} {:>12.0} {:>12.0} {:>12.0}  {unit}",
            s.min, s.median, s.max
        )
    };
    println!();
    println!(
        "machine:        {}",
        report["machine"].as_str().unwrap_or("")
    );
    println!(
        "receiver:       {}",
        report["receiver"].as_str().unwrap_or("")
    );
    println!(
        "load generator: {}",
        report["loadGenerator"].as_str().unwrap_or("")
    );
    println!();
    println!("{:<44} {:>12} {:>12} {:>12}", "", "min", "median", "max");
    row("load generator (the limit)", limit, "requests/s");
    row("sender", &sender.deliveries_per_s, "deliveries/s");
    let cpu = &sender.cpu_us_per_delivery;
    println!(
        "{:<44} {:>12.1} {:>12.1} {:>12.1}  µs CPU/delivery",
        "", cpu.min, cpu.median, cpu.max
    );
    row("router (one core)", &router.records_per_s, "records/s");
    let cpu = &router.cpu_us_per_record;
    println!(
        "{:<44} {:>12.1} {:>12.1} {:>12.1}  µs CPU/record",
        "", cpu.min, cpu.median, cpu.max
    );
    row(
        "router deliveries made",
        &router.deliveries_per_s,
        "deliveries/s",
    );
    row(
        "router reference (JSON → Value, bytes out)",
        &router.reference_records_per_s,
        "records/s",
    );
    println!();
    println!(
        "sender / limit (medians): {:.0}%",
        100.0 * sender.deliveries_per_s.median / limit.median
    );
    println!(
        "router reference / target of 200,000 records/s (medians): {:.0}%; reading the input into values alone {:.1} µs per record",
        100.0 * router.reference_records_per_s.median / 200_000.0,
        router.reference_parse_us_per_record
    );
    println!(
        "router: {:.1} deliveries per record, {:.0} bytes per queue message, {:.3} SendMessageBatch calls per delivery",
        router.deliveries_per_record,
        router.message_bytes_per_delivery,
        router.send_calls_per_delivery
    );
    println!(
        "sender: {:.0} log bytes per delivery, attempt log {:.0} packed bytes per delivery",
        sender.log_bytes_per_delivery, sender.attempt_log_bytes_per_delivery
    );
    let pages: Vec<String> = report["attemptLogPageBytes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{}: {} B", p["deliveries"], p["bytes"]))
        .collect();
    println!(
        "attempt-log page of one subscription (deliveries: packed bytes) {}; mixed page of 100: {} B",
        pages.join(", "),
        report["attemptLogMixedPageBytes"]
    );
    if let Some(l) = report.get("lambdas").filter(|l| !l.is_null()) {
        println!();
        for f in ["router", "sender"] {
            let s = &l[format!("{f}_start_ms")];
            println!(
                "{f}: start → first poll {:.1} / {:.1} / {:.1} ms (min/median/max); peak RSS {:.1} MB after {} invocations; {} bytes ({})",
                s["min"].as_f64().unwrap_or(f64::NAN),
                s["median"].as_f64().unwrap_or(f64::NAN),
                s["max"].as_f64().unwrap_or(f64::NAN),
                l[format!("{f}_peak_rss_mb")].as_f64().unwrap_or(f64::NAN),
                l[format!("{f}_invocations")],
                l[format!("{f}_bytes")],
                std::env::consts::ARCH,
            );
        }
    }
    if let Some(a) = report
        .get("lambdas")
        .map(|l| &l["api"])
        .filter(|a| !a.is_null())
    {
        let lat = |k: &str| {
            let l = &a[k];
            format!(
                "p50 {:.1} ms, p99 {:.1} ms ({} requests)",
                l["p50_ms"].as_f64().unwrap_or(f64::NAN),
                l["p99_ms"].as_f64().unwrap_or(f64::NAN),
                l["requests"]
            )
        };
        println!();
        println!(
            "management API on the local stack ({} attempts logged): list deliveries {}; create subscription {}; one moto GetItem {} (moto is Python: it bounds both)",
            a["logged_attempts"],
            lat("list_deliveries"),
            lat("create_subscription"),
            lat("moto_get_item")
        );
        if let Some(s) = a["start_ms"].as_object() {
            println!(
                "api: start → first poll {:.1} / {:.1} / {:.1} ms (min/median/max, one moto read of the cursor key included); peak RSS {:.1} MB after {} invocations; {} bytes ({})",
                s["min"].as_f64().unwrap_or(f64::NAN),
                s["median"].as_f64().unwrap_or(f64::NAN),
                s["max"].as_f64().unwrap_or(f64::NAN),
                a["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
                a["invocations"],
                a["bytes"],
                std::env::consts::ARCH,
            );
        }
        if let Some(e) = a["invocation_error"].as_str() {
            println!("api invocations failed: {e}");
        }
    }
    if let Some(costs) = report["costPerMillion"].as_array() {
        println!();
        println!("cost per million deliveries (USD, us-east-1 list prices; docs/benchmarks.md):");
        print!("{:<34}", "receiver latency / subs per batch");
        for c in costs {
            print!(
                " {:>9}",
                format!(
                    "{}ms/{}",
                    c["receiver_latency_ms"], c["subscriptions_per_batch"]
                )
            );
        }
        println!();
        let n = costs[0]["lines"].as_array().map_or(0, Vec::len);
        for i in 0..n {
            print!(
                "{:<34}",
                costs[0]["lines"][i]["item"].as_str().unwrap_or("")
            );
            for c in costs {
                print!(
                    " {:>9.4}",
                    c["lines"][i]["usd"].as_f64().unwrap_or(f64::NAN)
                );
            }
            println!();
        }
        print!("{:<34}", "total");
        for c in costs {
            print!(" {:>9.3}", c["total"].as_f64().unwrap_or(f64::NAN));
        }
        println!();
        println!(
            "(the indexed attempt log it replaced wrote ${:.3} per million successes alone)",
            report["indexedLogWritesPerMillion"]
                .as_f64()
                .unwrap_or(f64::NAN)
        );
    }
    if let Some(a) = report.get("arm64Sizes").filter(|a| !a.is_null()) {
        println!(
            "arm64 (stripped): router {} bytes, sender {} bytes",
            a["router"], a["sender"]
        );
    }
}
