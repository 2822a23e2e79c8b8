//! The Lambda handlers: AWS events in, domain calls, AWS responses out.
//! The function binaries and the local runner call exactly these.
pub mod router;
pub mod sender;

/// What both Lambda binaries do around their handler: CloudWatch metrics
/// in EMF (namespace `hubhooks`, dimension `Function`, a `ColdStart`
/// count on the first invocation), written to stdout when the
/// [`FlushPolicy`](crate::meter::FlushPolicy) says so, and the runtime's
/// loop. The mains only build settings,
/// clients and the handler.
pub async fn serve<Request, Response, F, Fut>(
    function: &'static str,
    handler: F,
) -> Result<(), lambda_runtime::Error>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, lambda_runtime::Error>>,
    Request: for<'de> serde::Deserialize<'de>,
    Response: serde::Serialize,
{
    let metrics = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(crate::meter::NAMESPACE)
        .with_dimension("Function", function)
        .init()
        .map_err(|e| lambda_runtime::Error::from(format!("metrics: {e}")))?;
    let cold = std::sync::atomic::AtomicBool::new(true);
    let policy = crate::meter::FlushPolicy::from_env();
    let (handler, cold, policy) = (&handler, &cold, &policy);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<Request>| async move {
            if cold.swap(false, std::sync::atomic::Ordering::Relaxed) {
                metrics::counter!("ColdStart").increment(1);
            }
            let result = handler(event.payload).await;
            // A lost metrics line must not fail the batch it describes.
            if policy.due()
                && let Err(e) = metrics.flush(std::io::stdout().lock())
            {
                tracing::warn!(error = %e, "writing the metrics failed");
            }
            result
        },
    ))
    .await
}
