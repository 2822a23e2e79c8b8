/// Ok when the webhook is signed with `secret` and recent.
pub fn verify(
    secret: &str,
    body: &[u8],
    headers: &http::HeaderMap,
) -> Result<(), standardwebhooks::WebhookError> {
    standardwebhooks::Webhook::new(secret)?.verify(body, headers)
}
