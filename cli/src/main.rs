//! The `hubhooks` command.
use anyhow::Result;
use clap::{Parser, Subcommand};
use hubhooks_cli::cmd::{self, Ctx};
use hubhooks_cli::deployment::Deployment;
use hubhooks_cli::items::Family;
use hubhooks_cli::output::Output;

#[derive(Parser)]
#[command(
    name = "hubhooks",
    version,
    about = "Webhook delivery for the service order hub: config, tests, attempts, dead letters"
)]
struct Cli {
    /// AWS endpoint, for the local stack (moto); otherwise AWS's usual chain
    /// (environment, profile, SSO, role) and region.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL")]
    endpoint: Option<String>,
    /// AWS profile (else AWS_PROFILE or the default chain).
    #[arg(long, global = true)]
    profile: Option<String>,
    /// AWS region (else AWS_REGION or the profile's).
    #[arg(long, global = true)]
    region: Option<String>,
    /// The deployment: `hubhooks-<stage>` in AWS, `hubhooks-local` locally.
    #[arg(
        long,
        global = true,
        env = "HUBHOOKS_PREFIX",
        default_value = "hubhooks-local"
    )]
    prefix: String,
    /// How lists print: a table for people, or JSON lines for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The local stack: provisioning and the runner that plays Lambda.
    Local {
        #[command(subcommand)]
        command: cmd::local::LocalCommand,
    },
    /// Config items of any kind (validate or write a file).
    Config {
        #[command(subcommand)]
        command: cmd::config::FileCommand,
    },
    /// Subscriptions: validate, put, list, get, enable, disable, delete.
    Subscriptions {
        #[command(subcommand)]
        command: cmd::items::ItemCommand,
    },
    /// Status mappings, black lists and invoice settings: the same verbs.
    Mappings {
        #[command(subcommand)]
        command: cmd::items::ItemCommand,
    },
    /// Secrets (tokens, signing keys, broker URIs) in the secrets table.
    Secret {
        #[command(subcommand)]
        command: cmd::secret::SecretCommand,
    },
    /// Sends a realistic test webhook through the real delivery path and
    /// prints the receiver's answer.
    SendTest(cmd::send_test::SendTestArgs),
    /// The attempt log: every delivery attempt, by case, subscription or failure.
    Deliveries(cmd::deliveries::DeliveriesArgs),
    /// The delivery dead-letter queue: list, replay.
    Dlq {
        #[command(subcommand)]
        command: cmd::dlq::DlqCommand,
    },
    /// Stream records the router could not route: list, re-drive.
    RouterFailures {
        #[command(subcommand)]
        command: cmd::router_failures::RouterFailuresCommand,
    },
    /// Runs the whole pipeline once on the local stack and prints the webhooks.
    Demo,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Demo) || std::env::var_os("RUST_LOG").is_some() {
        // Logs go to stderr; stdout is for what the command prints.
        hubhooks::telemetry::init_stderr();
    }
    let ctx = Ctx {
        dep: Deployment::new(&cli.prefix),
        endpoint: cli.endpoint,
        profile: cli.profile,
        region: cli.region,
        output: cli.output,
    };
    match cli.command {
        Command::Local { command } => cmd::local::run(command, &ctx).await,
        Command::Config { command } => cmd::config::run(command, &ctx).await,
        Command::Subscriptions { command } => {
            cmd::items::run(command, Family::Subscriptions, &ctx).await
        }
        Command::Mappings { command } => cmd::items::run(command, Family::Mappings, &ctx).await,
        Command::Secret { command } => cmd::secret::run(command, &ctx).await,
        Command::SendTest(args) => cmd::send_test::run(args, &ctx).await,
        Command::Deliveries(args) => cmd::deliveries::run(args, &ctx).await,
        Command::Dlq { command } => cmd::dlq::run(command, &ctx).await,
        Command::RouterFailures { command } => cmd::router_failures::run(command, &ctx).await,
        Command::Demo => hubhooks_cli::demo::run(&ctx.sdk().await, &ctx.dep.prefix).await,
    }
}
