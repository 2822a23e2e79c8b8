//! The Lambda handlers: AWS events in, domain calls, AWS responses out.
//! The function binaries and the local runner call exactly these.
pub mod router;
pub mod sender;

/// What both Lambda binaries do around their handler: CloudWatch metrics
/// in EMF (namespace `hubhooks`, dimension `Function`, a `ColdStart`
/// count), flushed after every invocation, and the runtime's loop. The
/// mains only build settings, clients and the handler.
pub async fn serve<Request, Response, F, Fut>(
    function: &'static str,
    mut handler: F,
) -> Result<(), lambda_runtime::Error>
where
    F: FnMut(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, lambda_runtime::Error>>,
    Request: for<'de> serde::Deserialize<'de>,
    Response: serde::Serialize,
{
    let metrics = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(crate::meter::NAMESPACE)
        .with_dimension("Function", function)
        .lambda_cold_start_metric("ColdStart")
        .init()
        .map_err(|e| lambda_runtime::Error::from(format!("metrics: {e}")))?;
    metrics_cloudwatch_embedded::lambda::handler::run(
        metrics,
        move |event: lambda_runtime::LambdaEvent<Request>| handler(event.payload),
    )
    .await
}
