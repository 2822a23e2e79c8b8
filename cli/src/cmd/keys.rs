//! `hubhooks keys`: party keys for the management API. A key is shown once,
//! at creation; the table holds only its hash (`hubhooks::party_key`).
use super::Ctx;
use crate::output::{self, Output};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use hubhooks::adapters::party_keys::DynamoPartyKeys;
use hubhooks::party_key::{self, PartyKey};
use hubhooks::timestamp::Timestamp;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Creates a key for one party and prints it once, to hand over.
    Create {
        /// The party the key speaks for: partner:ID or provider:ID.
        #[arg(long)]
        party: String,
        /// Expires this long from now: 90d, 12h (default: never).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Every key's id, party, dates and state; never a key.
    List {
        /// Only this party's keys: partner:ID or provider:ID.
        #[arg(long)]
        party: Option<String>,
    },
    /// Revokes a key at once (its id, as `keys list` shows it).
    Revoke {
        /// The key's id.
        id: String,
    },
}

pub async fn run(command: KeysCommand, ctx: &Ctx) -> Result<()> {
    let ddb = aws_sdk_dynamodb::Client::new(&ctx.sdk().await);
    let keys = DynamoPartyKeys::new(ddb, ctx.dep.party_keys_table()?);
    let json = ctx.output == Output::Json;
    let now = Timestamp::now();
    match command {
        KeysCommand::Create { party, expires } => {
            let party = crate::items::parse_party(&party).context("--party")?;
            let expires_at = expires
                .as_deref()
                .map(|e| {
                    crate::attempts::parse_since(e)
                        .map(|span| Timestamp(now.0 + span))
                        .context("--expires")
                })
                .transpose()?;
            let (plain, stored) = party_key::create(party, expires_at, now)
                .map_err(|e| anyhow::anyhow!("generating a key: {e}"))?;
            keys.put(&stored).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"key": plain.expose(), "id": stored.id, "party": party, "expiresAt": expires_at})
                );
            } else {
                println!("{}", plain.expose());
            }
            eprintln!(
                "created key {} for {party} in {}; this is the only time it is shown: give it to the party now",
                stored.id,
                keys.table()
            );
        }
        KeysCommand::List { party } => {
            let party = party
                .as_deref()
                .map(crate::items::parse_party)
                .transpose()
                .context("--party")?;
            let mut found = keys.list().await?;
            found.retain(|k| party.is_none_or(|p| k.party == p));
            output::emit(
                ctx.output,
                &found,
                |k| serde_json::to_value(k).unwrap_or_default(),
                |rows| table(rows, now),
                "key",
            );
        }
        KeysCommand::Revoke { id } => {
            if !keys.revoke(&id, now).await? {
                match keys.get(&id).await? {
                    None => bail!("no key `{id}` in {}", keys.table()),
                    Some(k) => bail!(
                        "key `{id}` was revoked already, at {}",
                        k.revoked_at
                            .map(|t| t.to_contract_string())
                            .unwrap_or_default()
                    ),
                }
            }
            if json {
                println!("{}", serde_json::json!({"revoked": id, "at": now}));
            } else {
                println!("revoked key {id}: it is refused from now on");
            }
        }
    }
    Ok(())
}

fn table(keys: &[PartyKey], now: Timestamp) -> String {
    let when = |t: Option<Timestamp>| {
        t.map(|t| t.to_contract_string())
            .unwrap_or_else(|| "-".into())
    };
    let rows = keys.iter().map(|k| {
        let state = if k.revoked_at.is_some_and(|t| t <= now) {
            "revoked"
        } else if k.expires_at.is_some_and(|t| t <= now) {
            "expired"
        } else {
            "active"
        };
        vec![
            k.id.clone(),
            k.party.to_string(),
            state.to_owned(),
            k.created_at.to_contract_string(),
            when(k.expires_at),
            when(k.last_used_at),
        ]
    });
    output::table(
        &["ID", "PARTY", "STATE", "CREATED", "EXPIRES", "LAST USED"],
        rows,
    )
}
