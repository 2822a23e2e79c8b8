//! `hubhooks keys`: party keys for the management API. A key is shown once,
//! at creation; the table holds only its hash (`hubhooks::party_key`).
use super::Ctx;
use crate::output::{self, Output};
use anyhow::{Context, Result};
use clap::Subcommand;
use hubhooks::adapters::party_keys::DynamoPartyKeys;
use hubhooks::operations::keys as ops;
use hubhooks::party_key::PartyKey;
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
    /// Every key's id, party, purpose (api, portalLink, portalSession),
    /// dates and state; never a key.
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
            let (plain, stored) = ops::create(&keys, party, expires_at, now).await?;
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
            let found = ops::list(&keys, party).await?;
            output::emit(
                ctx.output,
                &found,
                |k| serde_json::to_value(k).unwrap_or_default(),
                |rows| table(rows, now),
                "key",
            );
        }
        KeysCommand::Revoke { id } => {
            ops::revoke(&keys, &id, now).await.map_err(|e| match e {
                hubhooks::operations::OpError::NotFound { .. } => {
                    anyhow::anyhow!("no key `{id}` in {}", keys.table())
                }
                e => e.into(),
            })?;
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
        let state = ops::state(k, now);
        vec![
            k.id.clone(),
            k.party.to_string(),
            k.purpose.as_str().to_owned(),
            state.to_owned(),
            k.created_at.to_contract_string(),
            when(k.expires_at),
            when(k.last_used_at),
        ]
    });
    output::table(
        &[
            "ID",
            "PARTY",
            "PURPOSE",
            "STATE",
            "CREATED",
            "EXPIRES",
            "LAST USED",
        ],
        rows,
    )
}
