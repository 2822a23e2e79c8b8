//! `hubhooks secret`: values in the secrets table, read from stdin.
use super::Ctx;
use crate::config;
use anyhow::{Result, bail};
use clap::Subcommand;

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Stores a secret under NAME: one value per line on standard input,
    /// newest first (several while signing keys rotate). Values never
    /// appear in arguments, so not in shell history either.
    Put { name: String },
}

/// The most a secret's values may hold together: keys, tokens and broker
/// URIs are small, and DynamoDB refuses an item over 400 KB with a message
/// that names no secret.
const MAX_SECRET_BYTES: usize = 65_536;

pub async fn run(command: SecretCommand, ctx: &Ctx) -> Result<()> {
    let SecretCommand::Put { name } = command;
    hubhooks::config::validate_secret_name(&name)
        .map_err(|m| anyhow::anyhow!("secret name `{name}`: {m}"))?;
    let values: Vec<String> = std::io::stdin()
        .lines()
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if values.is_empty() {
        bail!("no value on standard input (one per line, newest first)");
    }
    let bytes: usize = values.iter().map(String::len).sum();
    if bytes > MAX_SECRET_BYTES {
        bail!(
            "secret `{name}`: its values are {bytes} bytes; at most {MAX_SECRET_BYTES} (a secret is a key, a token or a URI)"
        );
    }
    let client = aws_sdk_dynamodb::Client::new(&ctx.sdk().await);
    let table = ctx.dep.secrets_table();
    config::put_json(
        &client,
        &table,
        &serde_json::json!({"id": name, "values": values}),
    )
    .await?;
    println!(
        "stored secret `{name}` ({} value(s)) in {table}",
        values.len()
    );
    Ok(())
}
