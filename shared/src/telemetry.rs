//! Logs as JSON lines (CloudWatch Logs Insights can query every field).
use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber; `RUST_LOG` overrides the `info` default.
/// Safe to call more than once (later calls are no-ops).
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
