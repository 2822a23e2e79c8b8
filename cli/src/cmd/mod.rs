//! One module per subcommand: its arguments and what it does. `main.rs`
//! only parses and dispatches.
pub mod config;
pub mod deliveries;
pub mod dlq;
pub mod items;
pub mod local;
pub mod router_failures;
pub mod secret;
pub mod send_test;

use crate::deployment::Deployment;
use crate::output::Output;
use aws_config::SdkConfig;

/// What every command gets: the deployment, how to reach AWS, how to print.
pub struct Ctx {
    pub dep: Deployment,
    pub endpoint: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub output: Output,
}

impl Ctx {
    /// AWS's config; only commands that talk to AWS ask for it (offline
    /// validation must not probe for credentials or a region).
    pub async fn sdk(&self) -> SdkConfig {
        crate::aws::sdk_config_with(
            self.endpoint.as_deref(),
            self.profile.as_deref(),
            self.region.as_deref(),
        )
        .await
    }
}
