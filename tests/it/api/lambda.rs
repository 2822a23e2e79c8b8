//! The api Lambda's path: API Gateway v2 events from events/.
use super::*;

/// The api Lambda's path: an API Gateway HTTP API (payload 2.0) event from
/// events/, as lambda_http turns it into a request, through the same
/// router; the key in the fixture is replaced by a real one.
#[tokio::test]
async fn api_gateway_v2_events_reach_the_router_as_the_lambda_serves_them() {
    use tower::ServiceExt;
    let api = serve().await;
    let key = api.key(Party::partner(1413), |k| k).await;
    let state = api_state(&api.stack, AllowList::default()).await;
    let app = router(Arc::new(state));
    let placeholder = "hhk_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let event = |name: &str, key: &str| {
        let text = std::fs::read_to_string(workspace_root().join("events").join(name))
            .unwrap()
            .replace(placeholder, key);
        let request: lambda_http::request::LambdaRequest = serde_json::from_str(&text).unwrap();
        lambda_http::Request::from(request)
    };
    let body = |r: axum::response::Response| async move {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    let listed = app
        .clone()
        .oneshot(event("api-list-subscriptions.json", &key))
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(ids(&body(listed).await), ["a-1", "a-2"]);
    let created = app
        .clone()
        .oneshot(event("api-create-subscription.json", &key))
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created = body(created).await;
    assert_eq!(created["eventTypes"], json!(["newStatus"]));
    assert_eq!(created["party"], json!({"type": "partner", "id": 1413}));
    // The fixture's own placeholder key is no key.
    let refused = app
        .oneshot(event("api-list-subscriptions.json", placeholder))
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
}

/// `/v1/admin/…` in AWS: the IAM identity API Gateway put in the request
/// context is the operator; the same request without it (a route that was
/// not IAM-authorized) is refused, whatever it carries.
#[tokio::test]
async fn an_iam_authorized_admin_event_is_an_operator_and_one_without_it_is_not() {
    use tower::ServiceExt;
    let api = serve().await;
    let mut state = api_state(&api.stack, AllowList::default()).await;
    state.operator_token = None; // as in AWS
    let app = router(Arc::new(state));
    let text =
        std::fs::read_to_string(workspace_root().join("events/api-admin-list-subscriptions.json"))
            .unwrap();
    let event = |v: &Value| {
        let request: lambda_http::request::LambdaRequest =
            serde_json::from_value(v.clone()).unwrap();
        lambda_http::Request::from(request)
    };
    let signed: Value = serde_json::from_str(&text).unwrap();
    let answer = app.clone().oneshot(event(&signed)).await.unwrap();
    assert_eq!(answer.status(), 200);
    let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(ids(&body), ["a-1", "a-2", "b-1"]);
    let mut unsigned = signed.clone();
    unsigned["requestContext"]
        .as_object_mut()
        .unwrap()
        .remove("authorizer");
    let refused = app.oneshot(event(&unsigned)).await.unwrap();
    assert_eq!(refused.status(), 401);
}
