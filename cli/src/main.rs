//! The `hubhooks` command: parses, then dispatches to `hubhooks_cli::cmd`.
use anyhow::Result;
use clap::Parser;
use hubhooks_cli::cmd::{self, Cli, Command, Ctx};
use hubhooks_cli::deployment::Deployment;
use hubhooks_cli::items::Family;

/// A refusal reads as a message (with its causes), never as a backtrace,
/// whatever RUST_BACKTRACE says; the exit code is 1.
#[tokio::main]
async fn main() {
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// JSON lines on stderr at `RUST_LOG`'s directives (`hubhooks=info,warn`),
/// else warnings: stdout is for what the command prints.
fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(cli: Cli) -> Result<()> {
    if !matches!(cli.command, Command::Demo) || std::env::var_os("RUST_LOG").is_some() {
        // Logs go to stderr; stdout is for what the command prints.
        init_logs();
    }
    let mut ctx = Ctx {
        dep: Deployment::new(&cli.prefix),
        endpoint: cli.endpoint,
        profile: cli.profile,
        region: cli.region,
        output: cli.output,
    };
    if let Some(stack) = &cli.stack {
        ctx.dep = Deployment::from_stack(&ctx.sdk().await, stack).await?;
    }
    match cli.command {
        Command::Local { command } => cmd::local::run(command, &ctx).await,
        Command::Config { command } => cmd::config::run(command, &ctx).await,
        Command::Subscriptions { command } => {
            cmd::items::run(command, Family::Subscriptions, &ctx).await
        }
        Command::Mappings { command } => {
            cmd::items::run(command.into(), Family::Mappings, &ctx).await
        }
        Command::Secret { command } => cmd::secret::run(command, &ctx).await,
        Command::SendTest(args) => cmd::send_test::run(args, &ctx).await,
        Command::Attempts(args) => cmd::attempts::run(args, &ctx).await,
        Command::Replay(args) => cmd::replay::run(args, &ctx).await,
        Command::Dlq { command } => cmd::dlq::run(command, &ctx).await,
        Command::RouterFailures { command } => cmd::router_failures::run(command, &ctx).await,
        Command::Preflight => cmd::preflight::run(&ctx).await,
        Command::Demo => hubhooks_cli::demo::run(&ctx.sdk().await, &ctx.dep.prefix).await,
    }
}
