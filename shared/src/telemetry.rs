//! Logs as JSON lines (CloudWatch Logs Insights can query every field).
use std::str::FromStr;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The Lambdas' logs, set up as the Lambda runtime's own
/// `init_default_subscriber` does: the level from `AWS_LAMBDA_LOG_LEVEL` (the
/// function's ApplicationLogLevel), else `RUST_LOG`, else info; JSON when
/// `AWS_LAMBDA_LOG_FORMAT` is `JSON` (the template's LoggingConfig), with the
/// invocation's span on every line, so each line carries its `requestId`.
/// One level, not the runtime's per-target filter: that filter brought a
/// regex engine of 0.8 MB into each binary
/// (docs/benchmarks.md).
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// The same, writing to `writer` (for tests).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let format = std::env::var("AWS_LAMBDA_LOG_FORMAT").unwrap_or_default();
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let level =
        LevelFilter::from_str(level.as_deref().unwrap_or("INFO")).unwrap_or(LevelFilter::INFO);
    let logs = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_ansi(false)
        .with_max_level(level)
        .with_writer(writer);
    // Err: a subscriber is set already (a test, a second call).
    let _ = if format.eq_ignore_ascii_case("json") {
        logs.json().try_init()
    } else {
        logs.try_init()
    };
}
