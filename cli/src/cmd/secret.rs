//! `hubhooks secret`: the secrets table. Values are read from standard
//! input or generated, shown once, and never listed.
use super::Ctx;
use crate::items::{self, Family};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hubhooks::adapters::secrets::SecretAdmin;
use hubhooks::config::{ConfigItem, RawConfigItem};
use hubhooks::timestamp::Timestamp;

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Stores a secret under NAME: one value per line on standard input,
    /// newest first (several while signing keys rotate). Values never
    /// appear in arguments, so not in shell history either.
    Put {
        /// The name subscriptions use (`auth.signingSecret`, …).
        name: String,
        /// Standard input is one PEM value (a certificate chain, a key, a
        /// CA for `auth.mtls`), kept whole with its lines.
        #[arg(long)]
        pem: bool,
    },
    /// Generates a signing key (`whsec_…`), stores it under NAME and prints
    /// it once, to hand to the receiver. Refuses a NAME that exists.
    Generate {
        /// The name subscriptions use (`auth.signingSecret`).
        name: String,
    },
    /// Replaces NAME's signing key with a fresh one, printed once; the
    /// current key goes on signing beside it for the grace period, so
    /// receivers can switch without a failed verification.
    Rotate {
        /// The signing secret to rotate.
        name: String,
        /// How long the current key still signs: 90m, 24h, 7d (at most 7
        /// days; 0s replaces it at once).
        #[arg(long, default_value = "24h")]
        grace: String,
    },
    /// Every secret's name, how many values it holds and when it last
    /// changed; never a value.
    List,
    /// Deletes a secret. Refuses one a subscription names unless --force
    /// (its deliveries would wait, unsent, until it exists again).
    Delete {
        /// The secret to delete.
        name: String,
        /// Deletes it even while subscriptions name it.
        #[arg(long)]
        force: bool,
    },
}

/// The most a secret's values may hold together: keys, tokens and broker
/// URIs are small, and DynamoDB refuses an item over 400 KB with a message
/// that names no secret.
const MAX_SECRET_BYTES: usize = 65_536;

pub async fn run(command: SecretCommand, ctx: &Ctx) -> Result<()> {
    let sdk = ctx.sdk().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let admin = SecretAdmin::new(ddb.clone(), ctx.dep.secrets_table());
    let table = admin.table().to_owned();
    let json = ctx.output == crate::output::Output::Json;
    match command {
        SecretCommand::Put { name, pem } => {
            valid_name(&name)?;
            let values = if pem {
                read_pem(&name)?
            } else {
                read_values(&name)?
            };
            admin.put(&name, &values, Timestamp::now()).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"stored": name, "values": values.len(), "table": table})
                );
            } else {
                println!(
                    "stored secret `{name}` ({}) in {table}",
                    crate::output::plural(values.len(), "value")
                );
            }
        }
        SecretCommand::Generate { name } => {
            valid_name(&name)?;
            let Some(key) = admin.generate(&name, Timestamp::now()).await? else {
                bail!(
                    "secret `{name}` exists in {table}: generating would replace a key receivers may verify with (`secret delete {name}` first, or `secret put {name}` with the new key first and the old one after it to rotate)"
                );
            };
            // The key on stdout alone (scripts capture it); the rest on stderr.
            if json {
                println!("{}", serde_json::json!({"name": name, "key": key}));
            } else {
                println!("{key}");
            }
            eprintln!(
                "stored signing key `{name}` in {table}; this is the only time it is shown: give it to the receiver now"
            );
        }
        SecretCommand::Rotate { name, grace } => {
            valid_name(&name)?;
            let grace = crate::attempts::parse_since(&grace)
                .context("--grace")?
                .to_std()
                .context("--grace")?;
            let (key, rotated) = admin.rotate(&name, grace, Timestamp::now()).await?;
            let until = rotated.retire_at.map(|t| t.to_contract_string());
            if json {
                println!(
                    "{}",
                    serde_json::json!({"name": name, "key": key, "oldKeySignsUntil": until})
                );
            } else {
                println!("{key}");
            }
            match until {
                Some(until) => eprintln!(
                    "rotated `{name}` in {table}: webhooks carry both signatures until {until}, then only the new key's; this is the only time the new key is shown: give it to the receiver now"
                ),
                None => eprintln!(
                    "rotated `{name}` in {table}: only the new key signs from now on; this is the only time it is shown"
                ),
            }
        }
        SecretCommand::List => {
            let secrets = admin.list().await?;
            if json {
                for s in &secrets {
                    println!("{}", serde_json::to_string(s)?);
                }
            } else {
                println!(
                    "{:<40} {:<7} {:<25} OLD KEY SIGNS UNTIL",
                    "NAME", "VALUES", "UPDATED"
                );
                for s in &secrets {
                    let at = s.updated_at.as_deref().unwrap_or("-");
                    let until = s.retire_at.as_deref().unwrap_or("-");
                    println!("{:<40} {:<7} {at:<25} {until}", s.name, s.values);
                }
            }
            eprintln!(
                "{} in {table}",
                crate::output::plural(secrets.len(), "secret")
            );
        }
        SecretCommand::Delete { name, force } => {
            let users = named_by(&ddb, &ctx.dep.config_table(), &name).await?;
            if !users.is_empty() && !force {
                bail!(
                    "secret `{name}` is named by {}: their deliveries would wait unsent; change them first, or give --force",
                    users.join(", ")
                );
            }
            if !admin.delete(&name).await? {
                bail!("no secret `{name}` in {table}");
            }
            if json {
                println!("{}", serde_json::json!({"deleted": name, "table": table}));
            } else {
                println!("deleted secret `{name}` from {table}");
            }
        }
    }
    Ok(())
}

fn valid_name(name: &str) -> Result<()> {
    hubhooks::config::validate_secret_name(name)
        .map_err(|m| anyhow::anyhow!("secret name `{name}`: {m}"))
}

fn read_values(name: &str) -> Result<Vec<String>> {
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
    if values.iter().any(|v| v.starts_with("-----BEGIN ")) {
        bail!(
            "secret `{name}`: standard input holds PEM, which would be stored a line per value; use `secret put {name} --pem`"
        );
    }
    sized(name, values)
}

/// Standard input as one PEM value.
fn read_pem(name: &str) -> Result<Vec<String>> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
    let text = text.trim().to_owned();
    if !text.starts_with("-----BEGIN ") || !text.ends_with("-----") {
        bail!("secret `{name}`: standard input is not PEM (-----BEGIN … -----END …-----)");
    }
    sized(name, vec![text + "\n"])
}

/// The values, unless together they are too large to store.
fn sized(name: &str, values: Vec<String>) -> Result<Vec<String>> {
    let bytes: usize = values.iter().map(String::len).sum();
    if bytes > MAX_SECRET_BYTES {
        bail!(
            "secret `{name}`: its values are {bytes} bytes; at most {MAX_SECRET_BYTES} (a secret is a key, a token or a URI)"
        );
    }
    Ok(values)
}

/// `subscription (field)` for each subscription that names `secret`.
async fn named_by(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    secret: &str,
) -> Result<Vec<String>> {
    let mut users = Vec::new();
    for value in items::list(ddb, table, Family::Subscriptions).await? {
        let id = value["id"].as_str().unwrap_or_default().to_owned();
        // An item that does not parse names nothing the sender would use.
        let Ok(ConfigItem::Subscription(sub)) = ConfigItem::parse(&RawConfigItem {
            id: id.clone(),
            value,
        }) else {
            continue;
        };
        for (field, name) in sub.secret_names() {
            if name == secret {
                users.push(format!("{id} ({field})"));
            }
        }
    }
    Ok(users)
}
