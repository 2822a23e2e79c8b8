//! The `hubhooks` command.
use anyhow::Result;
use clap::{Parser, Subcommand};
use hubhooks_cli::{aws, configure, demo, provision, runner};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "hubhooks",
    version,
    about = "Webhook delivery for the service order hub"
)]
struct Cli {
    /// AWS endpoint, for the local stack (moto); otherwise AWS's usual chain.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    endpoint: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The local stack: provisioning and the runner that plays Lambda.
    Local {
        #[command(subcommand)]
        command: LocalCommand,
    },
    /// Config items (subscriptions, status mappings, black lists, invoice settings).
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Secrets (tokens, signing keys, broker URIs) in the secrets table.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// Runs the whole pipeline once on the local stack and prints the webhooks.
    Demo {
        #[arg(long, default_value = "hubhooks-demo")]
        prefix: String,
    },
}

#[derive(Subcommand)]
enum LocalCommand {
    /// Creates the tables and queues (idempotent).
    Provision {
        #[arg(long, default_value = "hubhooks-local")]
        prefix: String,
    },
    /// Polls the streams and the delivery queue and runs the handlers, until Ctrl-C.
    Run {
        #[arg(long, default_value = "hubhooks-local")]
        prefix: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validates a JSON file of config items; names the item and field of every problem.
    Validate { file: PathBuf },
    /// Validates and writes a JSON file of config items to the config table.
    Put {
        file: PathBuf,
        #[arg(long, env = "CONFIG_TABLE", default_value = "hubhooks-local-config")]
        table: String,
    },
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Stores a secret under NAME: one value per line on standard input,
    /// newest first (several while signing keys rotate). Values never
    /// appear in arguments, so not in shell history either.
    Put {
        name: String,
        #[arg(long, env = "SECRETS_TABLE", default_value = "hubhooks-local-secrets")]
        table: String,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Demo { .. }) {
        hubhooks::telemetry::init();
    }
    // Only commands that talk to AWS load its config (offline validation
    // must not probe for credentials or a region).
    let endpoint = cli.endpoint.as_deref();
    match cli.command {
        Command::Local { command } => match command {
            LocalCommand::Provision { prefix } => {
                let sdk = aws::sdk_config(endpoint).await;
                let stack =
                    provision::provision(&sdk, &prefix, &provision::QueueSettings::default())
                        .await?;
                println!("{stack:#?}");
            }
            LocalCommand::Run { prefix } => {
                let sdk = aws::sdk_config(endpoint).await;
                let stack =
                    provision::provision(&sdk, &prefix, &provision::QueueSettings::default())
                        .await?;
                let runner =
                    runner::Runner::start(&sdk, &stack, runner::RunnerOptions::default()).await?;
                eprintln!("running against {prefix}; Ctrl-C stops");
                runner.run_until_interrupted().await?;
            }
        },
        Command::Config { command } => match command {
            ConfigCommand::Validate { file } => {
                let items = configure::read_items(&file)?;
                println!("{}: {} valid items", file.display(), items.len());
            }
            ConfigCommand::Put { file, table } => {
                let items = configure::read_items(&file)?;
                let sdk = aws::sdk_config(endpoint).await;
                configure::put_items(&sdk, &table, &items).await?;
                println!("wrote {} items to {table}", items.len());
            }
        },
        Command::Secret {
            command: SecretCommand::Put { name, table },
        } => {
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
                anyhow::bail!("no value on standard input (one per line, newest first)");
            }
            let sdk = aws::sdk_config(endpoint).await;
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            configure::put_json(
                &client,
                &table,
                &serde_json::json!({"id": name, "values": values}),
            )
            .await?;
            println!(
                "stored secret `{name}` ({} value(s)) in {table}",
                values.len()
            );
        }
        Command::Demo { prefix } => {
            // Quiet logs: the demo prints what matters.
            if std::env::var_os("RUST_LOG").is_some() {
                hubhooks::telemetry::init();
            }
            demo::run(&aws::sdk_config(endpoint).await, &prefix).await?;
        }
    }
    Ok(())
}
