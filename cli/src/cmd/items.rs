//! `hubhooks subscriptions` and `hubhooks mappings`: stored items of one
//! family.
use super::Ctx;
use super::config::PutArgs;
use crate::items::{self, Family};
use crate::output;
use anyhow::{Result, bail};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ItemCommand {
    /// Validates JSON or YAML files.
    Validate {
        /// JSON or YAML files of config items (one item or a list each).
        files: Vec<PathBuf>,
    },
    /// Validates and writes a file ("allCurrent" is expanded to today's types).
    Put {
        #[command(flatten)]
        put: PutArgs,
    },
    /// Lists stored items.
    List {
        /// Only items of this party, e.g. partner:1413.
        #[arg(long)]
        party: Option<String>,
        /// Same as `--output json`.
        #[arg(long)]
        json: bool,
    },
    /// Prints one stored item as JSON.
    Get {
        /// The item's id.
        id: String,
    },
    /// Enables a subscription (and clears a recorded 410 Gone).
    Enable {
        /// The subscription's id.
        id: String,
    },
    /// Disables a subscription.
    Disable {
        /// The subscription's id.
        id: String,
        /// Why, kept with the subscription (`disabledReason`) and shown by
        /// `subscriptions get`.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deletes an item.
    Delete {
        /// The item's id.
        id: String,
    },
}

/// The same verbs for status mappings, black lists and invoice settings,
/// but for enable and disable, which only subscriptions have.
#[derive(Subcommand)]
pub enum MappingCommand {
    /// Validates JSON or YAML files.
    Validate {
        /// JSON or YAML files of config items (one item or a list each).
        files: Vec<PathBuf>,
    },
    /// Validates and writes a file.
    Put {
        #[command(flatten)]
        put: PutArgs,
    },
    /// Lists stored items.
    List {
        /// Only items of this party, e.g. partner:1413.
        #[arg(long)]
        party: Option<String>,
        /// Same as `--output json`.
        #[arg(long)]
        json: bool,
    },
    /// Prints one stored item as JSON.
    Get {
        /// The item's id.
        id: String,
    },
    /// Deletes an item.
    Delete {
        /// The item's id.
        id: String,
    },
}

impl From<MappingCommand> for ItemCommand {
    fn from(c: MappingCommand) -> Self {
        match c {
            MappingCommand::Validate { files } => ItemCommand::Validate { files },
            MappingCommand::Put { put } => ItemCommand::Put { put },
            MappingCommand::List { party, json } => ItemCommand::List { party, json },
            MappingCommand::Get { id } => ItemCommand::Get { id },
            MappingCommand::Delete { id } => ItemCommand::Delete { id },
        }
    }
}

pub async fn run(command: ItemCommand, family: Family, ctx: &Ctx) -> Result<()> {
    if let ItemCommand::Validate { files } = &command {
        return super::config::validate(files, Some(family), ctx.output);
    }
    let table = ctx.dep.config_table();
    let sdk = ctx.sdk().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    match command {
        ItemCommand::Validate { .. } => unreachable!("handled above"),
        ItemCommand::Put { put } => {
            let found = items::read_family(&put.file, family)?;
            super::config::put(&put, &found, &sdk, &table, ctx).await?;
        }
        ItemCommand::List { party, json } => {
            let mut found = items::list(&ddb, &table, family).await?;
            if let Some(p) = party {
                let p = items::parse_party(&p)?;
                found.retain(|v| items::concerns(v, p));
            }
            output::emit(
                ctx.output.or_json(json),
                &found,
                Clone::clone,
                items::render,
                "item",
            );
        }
        ItemCommand::Get { id } => {
            let v = items::get_in(&ddb, &table, family, &id).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        ItemCommand::Enable { id } | ItemCommand::Disable { id, .. }
            if family != Family::Subscriptions =>
        {
            bail!("`{id}`: only subscriptions can be enabled or disabled")
        }
        ItemCommand::Enable { id } => {
            items::set_enabled(&ddb, &table, &id, true, None).await?;
            println!("enabled {id}");
        }
        ItemCommand::Disable { id, reason } => {
            items::set_enabled(&ddb, &table, &id, false, reason.as_deref()).await?;
            println!("disabled {id}");
        }
        ItemCommand::Delete { id } => {
            items::delete(&ddb, &table, family, &id).await?;
            println!("deleted {id}");
        }
    }
    Ok(())
}
