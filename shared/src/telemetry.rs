//! Logs as JSON lines (CloudWatch Logs Insights can query every field).
use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber on stdout (where Lambda collects logs);
/// `RUST_LOG` overrides the `info` default. Safe to call more than once
/// (later calls are no-ops).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// The same, on stderr: for the `hubhooks` command, whose stdout is what it
/// prints (tables, JSON for scripts).
pub fn init_stderr() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
