//! `hubhooks local`: the local stack.
use super::Ctx;
use crate::{provision, runner};
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum LocalCommand {
    /// Creates the tables, queues and bucket (idempotent).
    Provision,
    /// Polls the streams and the delivery queue and runs the handlers, until Ctrl-C.
    Run,
}

pub async fn run(command: LocalCommand, ctx: &Ctx) -> Result<()> {
    let sdk = ctx.sdk().await;
    let stack =
        provision::provision(&sdk, &ctx.dep.prefix, &provision::QueueSettings::default()).await?;
    match command {
        LocalCommand::Provision => println!("{stack:#?}"),
        LocalCommand::Run => {
            let runner =
                runner::Runner::start(&sdk, &stack, runner::RunnerOptions::default()).await?;
            eprintln!("running against {}; Ctrl-C stops", ctx.dep.prefix);
            runner.run_until_interrupted().await?;
        }
    }
    Ok(())
}
