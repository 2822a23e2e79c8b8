//! `hubhooks local`: the local stack.
use super::Ctx;
use crate::local::{provision, runner};
use crate::output::Output;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum LocalCommand {
    /// Creates the tables, queues and bucket (idempotent) and names them.
    Provision {
        /// Same as `--output json`.
        #[arg(long)]
        json: bool,
    },
    /// Polls the streams and the delivery queues and runs the handlers, until
    /// Ctrl-C; a restart goes on where the last run stopped. With --stack it
    /// plays that stack's event source mappings (a rehearsal on moto).
    Run {
        /// Networks the local sender may reach although the SSRF guard
        /// refuses them (CIDRs, comma-separated).
        #[arg(long, env = "HUBHOOKS_LOCAL_EGRESS_ALLOW", default_value = runner::LOCAL_EGRESS)]
        egress_allow: String,
        /// The port the management API listens on, on 127.0.0.1 (0: any
        /// free port; the URL is printed).
        #[arg(long, default_value_t = crate::local::api::DEFAULT_PORT)]
        api_port: u16,
    },
    /// A receiver on 127.0.0.1 that prints every webhook as it arrives
    /// (for trying the local stack without one of your own).
    Receiver {
        /// The port to listen on.
        #[arg(long, default_value_t = 9000)]
        port: u16,
        /// The status it answers with (e.g. 500 to watch retries).
        #[arg(long, default_value_t = 200)]
        status: u16,
    },
    /// Subscribes the sample case's partner (1413) and provider (1004) to
    /// every current type at URL: no secret needed.
    Subscribe {
        /// Where to send the webhooks, e.g. http://127.0.0.1:9000/hooks.
        #[arg(long)]
        url: String,
    },
    /// Writes a change of the sample case that fires TYPE, as the hub
    /// writes it (a status, a cost proposal, a message, a confirmation, an
    /// upload, a case edit or an invoice).
    Write {
        /// The webhook type to provoke, e.g. newStatus.
        #[arg(value_name = "TYPE")]
        event_type: hubhooks::event::EventType,
    },
}

/// The local stack named by the deployment prefix, provisioned; or, with
/// --stack, the stack's own resources (nothing created but the runner's
/// checkpoints).
async fn stack(ctx: &Ctx) -> Result<(aws_config::SdkConfig, provision::LocalStack)> {
    let sdk = ctx.sdk().await;
    let stack = if ctx.dep.stack.is_some() {
        provision::attach(&sdk, &ctx.dep).await?
    } else {
        provision::provision(&sdk, &ctx.dep.prefix, &provision::QueueSettings::default()).await?
    };
    Ok((sdk, stack))
}

pub async fn run(command: LocalCommand, ctx: &Ctx) -> Result<()> {
    match command {
        LocalCommand::Provision { json } => {
            let (_, stack) = stack(ctx).await?;
            match ctx.output.or_json(json) {
                Output::Json => println!("{}", stack.describe()),
                Output::Table => print!("{}", stack.render()),
            }
        }
        LocalCommand::Run {
            egress_allow,
            api_port,
        } => {
            // The flag first: a bad one changes nothing.
            let egress = hubhooks::egress::AllowList::parse(&egress_allow)
                .map_err(|e| anyhow::anyhow!("--egress-allow: {e}"))?;
            let (sdk, stack) = stack(ctx).await?;
            let options = runner::RunnerOptions {
                egress: egress.clone(),
                ..runner::RunnerOptions::default()
            };
            let runner = runner::Runner::start(&sdk, &stack, options).await?;
            let (api, operator_token) =
                crate::local::api::serve(&sdk, ctx, api_port, egress).await?;
            eprintln!(
                "running against {}; management API on {api}; operator token for /v1/admin: {operator_token}; Ctrl-C stops",
                ctx.dep.prefix
            );
            runner.run_until_interrupted().await?;
        }
        LocalCommand::Receiver { port, status } => {
            crate::local::receiver::serve(port, status).await?;
        }
        LocalCommand::Subscribe { url } => {
            let sdk = ctx.sdk().await;
            crate::local::sample::subscribe(&sdk, &ctx.dep.tables(), &url).await?;
        }
        LocalCommand::Write { event_type } => {
            let sdk = ctx.sdk().await;
            crate::local::sample::write(&sdk, &ctx.dep.tables(), event_type).await?;
        }
    }
    Ok(())
}
