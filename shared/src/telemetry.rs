//! Logs as JSON lines (CloudWatch Logs Insights can query every field).
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the JSON subscriber on stdout (where Lambda collects logs);
/// `RUST_LOG` overrides the `info` default. Safe to call more than once
/// (later calls are no-ops).
pub fn init() {
    install("info", std::io::stdout);
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
