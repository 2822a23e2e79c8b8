//! `hubhooks config`: files of config items of any kind.
use super::Ctx;
use crate::config;
use crate::items::{self, Family};
use crate::output::Output;
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum FileCommand {
    /// Validates JSON or YAML files of config items; names the file, item and
    /// field of every problem.
    Validate {
        /// JSON or YAML files of config items (one item or a list each).
        files: Vec<PathBuf>,
    },
    /// Prints the JSON Schema of config items (docs/config.schema.json),
    /// derived from the types hubhooks parses.
    Schema,
    /// Validates and writes a file of config items to the config table.
    Put {
        #[command(flatten)]
        put: PutArgs,
        /// Overrides `<prefix>-config`.
        #[arg(long, env = "CONFIG_TABLE")]
        table: Option<String>,
    },
}

/// What every `put` (config, subscriptions, mappings) takes.
#[derive(Args)]
pub struct PutArgs {
    /// A JSON or YAML file of config items (one item or a list).
    pub file: PathBuf,
    /// Writes items naming secrets that do not exist yet, with a warning
    /// (refused otherwise).
    #[arg(long)]
    pub allow_missing_secrets: bool,
}

pub async fn run(command: FileCommand, ctx: &Ctx) -> Result<()> {
    match command {
        FileCommand::Validate { files } => validate(&files, None, ctx.output),
        FileCommand::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&hubhooks::config::json_schema())?
            );
            Ok(())
        }
        FileCommand::Put { put: args, table } => {
            let items = config::read_items(&args.file)?;
            let table = table.unwrap_or_else(|| ctx.dep.config_table());
            put(&args, &items, &ctx.sdk().await, &table, ctx).await
        }
    }
}

/// Admits `items` read from `args.file`, writes them to `table`, and says
/// what it wrote: every `put` command's end.
pub async fn put(
    args: &PutArgs,
    items: &[hubhooks::config::ConfigItem],
    sdk: &aws_config::SdkConfig,
    table: &str,
    ctx: &Ctx,
) -> Result<()> {
    let file = args.file.display();
    let secrets = ctx.dep.secrets_table();
    config::admit(sdk, table, &secrets, items, args.allow_missing_secrets)
        .await
        .with_context(|| format!("{file}"))?;
    config::put_items(sdk, table, items)
        .await
        .with_context(|| format!("{file}"))?;
    wrote(ctx.output, items, table);
    Ok(())
}

/// What `put` says it wrote: a line, or the ids and the table as JSON.
fn wrote(output: Output, items: &[hubhooks::config::ConfigItem], table: &str) {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::json!({"written": items.iter().map(|i| i.id()).collect::<Vec<_>>(), "table": table})
        ),
        Output::Table => println!(
            "wrote {} to {table}",
            crate::output::plural(items.len(), "item")
        ),
    }
}

/// Validates files (of one family, when given); every problem of every
/// file is reported (with `--output json`, a line per file too).
pub fn validate(files: &[PathBuf], family: Option<Family>, output: Output) -> Result<()> {
    if files.is_empty() {
        bail!("name at least one file");
    }
    let mut problems = Vec::new();
    for file in files {
        let read = match family {
            Some(f) => items::read_family(file, f),
            None => config::read_items(file),
        };
        match read {
            // Items that collide within the file (two black lists for a
            // party) would each pass alone; the router keeps one.
            Ok(items) => match [
                hubhooks::config::conflicts(&[], &items),
                hubhooks::config::unencoded_urls(&items),
            ]
            .concat()
            .as_slice()
            {
                [] if output == Output::Json => println!(
                    "{}",
                    serde_json::json!({"file": file.display().to_string(), "valid": items.len(), "problems": []})
                ),
                [] => println!(
                    "{}: {}",
                    file.display(),
                    crate::output::plural(items.len(), "valid item")
                ),
                clashes => {
                    let found: Vec<String> = clashes.iter().map(|e| e.to_string()).collect();
                    if output == Output::Json {
                        println!(
                            "{}",
                            serde_json::json!({"file": file.display().to_string(), "valid": 0, "problems": found})
                        );
                    }
                    problems.extend(found.iter().map(|e| format!("{}: {e}", file.display())));
                }
            },
            Err(e) => {
                let text = format!("{e:#}");
                if output == Output::Json {
                    println!(
                        "{}",
                        serde_json::json!({"file": file.display().to_string(), "valid": 0, "problems": [text]})
                    );
                }
                problems.push(text);
            }
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// One source of truth. The published schema is the one
    /// derived from the types the parser reads.
    #[test]
    fn the_published_schema_is_the_one_derived_from_the_types() {
        let published: Value =
            serde_json::from_str(include_str!("../../../docs/config.schema.json")).unwrap();
        assert!(
            published == hubhooks::config::json_schema(),
            "docs/config.schema.json is stale: cargo run -p hubhooks-cli -- config schema > docs/config.schema.json"
        );
    }

    /// Schema and parser agree on the documented example.
    #[test]
    fn the_example_config_passes_schema_and_parser() {
        let schema = hubhooks::config::json_schema();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let example: Value =
            serde_json::from_str(include_str!("../../../docs/example-config.json")).unwrap();
        let items = example.as_array().unwrap();
        assert!(items.len() >= 5);
        for item in items {
            let problems: Vec<String> =
                validator.iter_errors(item).map(|e| e.to_string()).collect();
            assert!(problems.is_empty(), "{}: {problems:?}", item["id"]);
            let raw = hubhooks::config::RawConfigItem {
                id: item["id"].as_str().unwrap().to_owned(),
                value: item.clone(),
            };
            hubhooks::config::ConfigItem::parse(&raw).unwrap();
        }
    }
}
