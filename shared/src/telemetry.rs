//! Logs as JSON lines (CloudWatch Logs Insights can query every field).
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The Lambdas' logs, set up as the Lambda runtime does it: the level from
/// `AWS_LAMBDA_LOG_LEVEL` (the function's ApplicationLogLevel), else
/// `RUST_LOG`, else info; JSON when `AWS_LAMBDA_LOG_FORMAT` is `JSON` (the
/// template's LoggingConfig), with the invocation's span on every line, so
/// each line carries its `requestId`.
pub fn init() {
    lambda_runtime::tracing::init_default_subscriber();
}

/// The same, writing to `writer` (for tests).
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    lambda_runtime::tracing::init_default_subscriber_with_writer(writer);
}

/// The same, on stderr: for the `hubhooks` command, whose stdout is what it
/// prints (tables, JSON for scripts).
pub fn init_stderr() {
    install("warn", std::io::stderr);
}

fn install<W>(default_level: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .with_target(false)
        .with_writer(writer)
        .try_init();
}
