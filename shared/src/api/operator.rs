//! Who may call `/v1/admin/…`: an operator. In AWS, API Gateway signs the
//! route with IAM (SigV4, `AWS_IAM` on `/v1/admin/{proxy+}`) and passes
//! the caller's identity in the request context; on the local stack,
//! `hubhooks local run` prints an operator token. A party key is never an
//! operator's: every refusal is the same 401.
use super::{ApiState, Problem};
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use ring::digest::{SHA256, digest};
use std::sync::Arc;

/// The operator a request speaks for: an IAM ARN, or `local`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator(pub String);

/// An operator token for the local stack: `hho_` and 43 random characters.
pub fn new_local_token() -> Result<String, ring::error::Unspecified> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)?;
    Ok(format!(
        "hho_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// What the state keeps of a local token: its SHA-256.
pub fn token_hash(token: &str) -> Vec<u8> {
    digest(&SHA256, token.as_bytes()).as_ref().to_vec()
}

/// The IAM identity API Gateway put in the request context, if the route
/// was IAM-authorized.
fn iam_caller(parts: &Parts) -> Option<String> {
    use lambda_http::request::RequestContext;
    match parts.extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(ctx) => {
            let iam = ctx.authorizer.as_ref()?.iam.as_ref()?;
            iam.user_arn.clone().or_else(|| iam.caller_id.clone())
        }
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

impl FromRequestParts<Arc<ApiState>> for Operator {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<ApiState>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(arn) = iam_caller(parts) {
            return Ok(Operator(arn));
        }
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match (presented, &state.operator_token) {
            (Some(token), Some(hash))
                if bool::from(subtle::ConstantTimeEq::ct_eq(
                    token_hash(token).as_slice(),
                    hash.as_slice(),
                )) =>
            {
                Ok(Operator("local".into()))
            }
            _ => Err(Problem::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "operator credentials are required: IAM (SigV4) in AWS, the token `hubhooks local run` printed on the local stack",
            )),
        }
    }
}
