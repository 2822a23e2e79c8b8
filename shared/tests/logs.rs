//! The functions log as Lambda's logging controls say
//! (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL), with the invocation's
//! request id on every line. One test in this binary: it sets the process's
//! environment and its global subscriber.
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn lines_are_json_at_the_functions_level_with_the_request_id() {
    // SAFETY: set before any other thread of this one-test binary runs.
    unsafe {
        std::env::set_var("AWS_LAMBDA_LOG_FORMAT", "JSON");
        std::env::set_var("AWS_LAMBDA_LOG_LEVEL", "INFO");
        std::env::remove_var("RUST_LOG");
    }
    let out = Captured::default();
    let writer = out.clone();
    hubhooks::telemetry::init_with_writer(move || writer.clone());
    // The span the Lambda runtime opens around every invocation.
    tracing::info_span!(
        "Lambda runtime invoke",
        requestId = "8f5b-req",
        xrayTraceId = "Root=1-x"
    )
    .in_scope(|| {
        tracing::debug!(delivery_id = "d-0", "headers built");
        tracing::info!(delivery_id = "d-1", "delivered");
    });
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 1, "debug is below the function's INFO: {text}");
    assert_eq!(lines[0]["level"], "INFO");
    assert_eq!(lines[0]["fields"]["delivery_id"], "d-1");
    assert_eq!(lines[0]["span"]["requestId"], "8f5b-req", "{text}");
}
