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
