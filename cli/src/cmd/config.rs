//! `hubhooks config`: files of config items of any kind.
use super::Ctx;
use crate::configure;
use crate::items::{self, Family};
use anyhow::{Context, Result, bail};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum FileCommand {
    /// Validates JSON or YAML files of config items; names the file, item and
    /// field of every problem.
    Validate { files: Vec<PathBuf> },
    /// Validates and writes a file of config items to the config table.
    Put {
        file: PathBuf,
        /// Overrides `<prefix>-config`.
        #[arg(long, env = "CONFIG_TABLE")]
        table: Option<String>,
    },
}

pub async fn run(command: FileCommand, ctx: &Ctx) -> Result<()> {
    match command {
        FileCommand::Validate { files } => validate(&files, None),
        FileCommand::Put { file, table } => {
            let items = configure::read_items(&file)?;
            let table = table.unwrap_or_else(|| ctx.dep.config_table());
            configure::put_items(&ctx.sdk().await, &table, &items)
                .await
                .with_context(|| format!("{}", file.display()))?;
            println!("wrote {} items to {table}", items.len());
            Ok(())
        }
    }
}

/// Validates files (of one family, when given); every problem of every
/// file is reported.
pub fn validate(files: &[PathBuf], family: Option<Family>) -> Result<()> {
    if files.is_empty() {
        bail!("name at least one file");
    }
    let mut problems = Vec::new();
    for file in files {
        let read = match family {
            Some(f) => items::read_family(file, f),
            None => configure::read_items(file),
        };
        match read {
            Ok(items) => println!("{}: {} valid items", file.display(), items.len()),
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}
