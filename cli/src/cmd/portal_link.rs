//! `hubhooks portal-link`: a link that opens the partner portal for one
//! party, once, within its lifetime (`hubhooks::operations::portal`).
use super::Ctx;
use crate::output::Output;
use anyhow::{Context, Result, bail};
use clap::Args;
use hubhooks::adapters::party_keys::DynamoPartyKeys;
use hubhooks::api::portal::link_url;
use hubhooks::operations::portal;
use hubhooks::timestamp::Timestamp;

#[derive(Args)]
pub struct PortalLinkArgs {
    /// The party the portal opens for: partner:ID or provider:ID.
    #[arg(long)]
    party: String,
    /// How long the link may wait to be opened: 30m, 1h (default), at most
    /// 24h. The session it opens lasts 8 hours.
    #[arg(long, default_value = "1h")]
    ttl: String,
    /// The management API's base URL (default: the stack's
    /// ManagementApiUrl output; for a local prefix, the local runner's).
    #[arg(long, env = "HUBHOOKS_API_URL")]
    api_url: Option<String>,
}

pub async fn run(args: PortalLinkArgs, ctx: &Ctx) -> Result<()> {
    let party = crate::items::parse_party(&args.party).context("--party")?;
    let ttl = crate::attempts::parse_since(&args.ttl).context("--ttl")?;
    if let Err(e) = portal::check_ttl(ttl) {
        bail!("--ttl {e}");
    }
    let base = match (&args.api_url, &ctx.dep.stack) {
        (Some(url), _) => url.clone(),
        (None, Some(stack)) => stack.api_url.clone().with_context(|| {
            "the stack has no ManagementApiUrl output: give --api-url".to_owned()
        })?,
        (None, None) => format!("http://127.0.0.1:{}", crate::local::api::DEFAULT_PORT),
    };
    let ddb = aws_sdk_dynamodb::Client::new(&ctx.sdk().await);
    let keys = DynamoPartyKeys::new(ddb, ctx.dep.party_keys_table()?);
    let (key, stored) = portal::create_link(&keys, party, ttl, Timestamp::now()).await?;
    let url = link_url(&base, key.expose());
    let expires = stored
        .expires_at
        .map(|t| t.to_contract_string())
        .unwrap_or_default();
    if ctx.output == Output::Json {
        println!(
            "{}",
            serde_json::json!({"url": url, "id": stored.id, "party": party, "expiresAt": expires})
        );
    } else {
        println!("{url}");
    }
    eprintln!(
        "portal link {} for {party}: opens once, until {expires}; `hubhooks keys revoke {}` withdraws it",
        stored.id, stored.id
    );
    Ok(())
}
