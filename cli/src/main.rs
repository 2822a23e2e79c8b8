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
    quiet_output_errors();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

/// `hubhooks … | head -1`: a reader that goes away ends the command as it
/// ends `ls` (SIGPIPE, silently; Rust ignores the signal and would panic at
/// the next `println!`), and any other failure to write standard output (a
/// full disk) is one line of error, not a panic with a backtrace.
fn quiet_output_errors() {
    // SAFETY: restores a signal's default disposition (process-wide); no
    // code of this program installs a SIGPIPE handler that it could undo.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        match message.strip_prefix("failed printing to stdout: ") {
            Some(cause) => {
                eprintln!("error: writing standard output: {cause}");
                std::process::exit(1);
            }
            None => default(info),
        }
    }));
}

/// Warnings, but not the SDK's own while it looks for credentials and
/// config (IMDS timeouts, a missing profile file): a failure to find them
/// is one line of error (`no_credentials`); RUST_LOG shows them.
const QUIET_SDK: &str = "warn,aws_config=error,aws_smithy_runtime=error,aws_runtime=error";

/// Logs on stderr (stdout is for what the command prints) at `RUST_LOG`'s
/// directives (`hubhooks=info,warn`), else warnings: lines for people on a
/// terminal, JSON lines when piped or when `HUBHOOKS_LOG_FORMAT=json`
/// asks. The config's own remarks (a deprecated payload version) belong to
/// the pipeline (`local run`), not to every command that reads the config.
fn init_logs(pipeline: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let quiet = if pipeline {
        QUIET_SDK.to_owned()
    } else {
        format!("{QUIET_SDK},hubhooks::config_cache=error")
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(quiet));
    let json = match std::env::var("HUBHOOKS_LOG_FORMAT").as_deref() {
        Ok("json") => true,
        Ok("text") => false,
        _ => !std::io::stderr().is_terminal(),
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = if json {
        logs.json()
            .with_current_span(false)
            .with_ansi(false)
            .try_init()
    } else {
        logs.compact()
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

async fn run(cli: Cli) -> Result<()> {
    if !matches!(cli.command, Command::Demo { .. }) || std::env::var_os("RUST_LOG").is_some() {
        // Logs go to stderr; stdout is for what the command prints.
        let pipeline = matches!(
            &cli.command,
            Command::Local {
                command: cmd::local::LocalCommand::Run { .. }
            }
        );
        init_logs(pipeline);
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
    let hint = ctx.dep.hint();
    dispatch(cli.command, &ctx).await.map_err(|e| {
        let text = format!("{e:#}");
        if text.contains("no providers in chain provided credentials")
            || text.contains("the credential provider was not enabled")
        {
            return no_credentials(&ctx);
        }
        // A table or queue that is not there: say where the names came
        // from and how to choose others, once.

        let missing = [
            "ResourceNotFoundException",
            "QueueDoesNotExist",
            "NoSuchBucket",
        ]
        .iter()
        .any(|code| text.contains(code));
        if missing && !text.contains(&hint) {
            e.context(hint)
        } else {
            e
        }
    })
}

/// What to do when the SDK's chain found no credentials, in one line.
fn no_credentials(ctx: &Ctx) -> anyhow::Error {
    let profile = ctx
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .unwrap_or_else(|| "default".to_owned());
    let region = ctx
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .unwrap_or_else(|| "not set".to_owned());
    anyhow::anyhow!(
        "no AWS credentials for profile `{profile}` (region {region}): give --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID, or sign in (`aws sso login`); for the local stack give --endpoint (or AWS_ENDPOINT_URL)"
    )
}

async fn dispatch(command: Command, ctx: &Ctx) -> Result<()> {
    match command {
        Command::Local { command } => cmd::local::run(command, ctx).await,
        Command::Config { command } => cmd::config::run(command, ctx).await,
        Command::Subscriptions { command } => {
            cmd::items::run(command, Family::Subscriptions, ctx).await
        }
        Command::Mappings { command } => {
            cmd::items::run(command.into(), Family::Mappings, ctx).await
        }
        Command::Secret { command } => cmd::secret::run(command, ctx).await,
        Command::SendTest(args) => cmd::send_test::run(args, ctx).await,
        Command::Attempts(args) => cmd::attempts::run(args, ctx).await,
        Command::Replay(args) => cmd::replay::run(args, ctx).await,
        Command::Resend(args) => cmd::resend::run(args, ctx).await,
        Command::EventTypes(args) => cmd::event_types::run(args, ctx),
        Command::Openapi => cmd::openapi::run(),
        Command::Keys { command } => cmd::keys::run(command, ctx).await,
        Command::PortalLink(args) => cmd::portal_link::run(args, ctx).await,
        Command::Dlq { command } => cmd::dlq::run(command, ctx).await,
        Command::RouterFailures { command } => cmd::router_failures::run(command, ctx).await,
        Command::Preflight => cmd::preflight::run(ctx).await,
        Command::Demo { exit } => {
            hubhooks_cli::demo::run(&ctx.sdk().await, &ctx.dep.prefix, exit).await
        }
    }
}
