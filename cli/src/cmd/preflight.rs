//! `hubhooks preflight`: is the stage fit to deliver? One line a check.
use super::Ctx;
use crate::output::Output;
use crate::preflight::{self, Verdict};
use anyhow::{Result, bail};

pub async fn run(ctx: &Ctx) -> Result<()> {
    let checks = preflight::run(&ctx.sdk().await, &ctx.dep).await?;
    for c in &checks {
        match ctx.output {
            Output::Json => println!("{}", serde_json::to_string(c)?),
            Output::Table => println!("{}", c.render()),
        }
    }
    let failed = checks.iter().filter(|c| c.verdict == Verdict::Fail).count();
    if failed > 0 {
        bail!("preflight: {failed} of {} checks failed", checks.len());
    }
    eprintln!("preflight: all {} checks hold", checks.len());
    Ok(())
}
