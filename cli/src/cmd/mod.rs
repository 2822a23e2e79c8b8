//! One module per subcommand: its arguments and what it does. `main.rs`
//! only parses and dispatches.
pub mod attempts;
pub mod config;
pub mod dlq;
pub mod event_types;
pub mod items;
pub mod keys;
pub mod local;
pub mod openapi;
pub mod portal_link;
pub mod preflight;
pub mod replay;
pub mod resend;
pub mod router_failures;
pub mod secret;
pub mod send_test;

use crate::deployment::Deployment;
use crate::output::Output;
use anyhow::Result;
use aws_config::SdkConfig;
use clap::{Parser, Subcommand};

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

    /// The ports the shared operations run over, on this deployment's
    /// tables and delivery queue.
    pub async fn operations(&self) -> Result<Operations> {
        let sdk = self.sdk().await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let queue_url = self.dep.queue_url(&sqs, &self.dep.delivery_queue()).await?;
        Ok(Operations {
            store: hubhooks::adapters::config_writer::ConfigWriter::new(
                ddb.clone(),
                self.dep.config_table(),
            ),
            search: hubhooks::adapters::attempt_log::DynamoAttemptSearch::new(
                ddb.clone(),
                self.dep.attempt_log_table(),
            ),
            queue: hubhooks::adapters::sqs::SqsDeliveryQueue::new(sqs, queue_url),
            ddb,
            config_table: self.dep.config_table(),
        })
    }
}

/// What `hubhooks::operations` works on, for an operator's command.
pub struct Operations {
    pub store: hubhooks::adapters::config_writer::ConfigWriter,
    pub search: hubhooks::adapters::attempt_log::DynamoAttemptSearch,
    pub queue: hubhooks::adapters::sqs::SqsDeliveryQueue,
    pub ddb: aws_sdk_dynamodb::Client,
    pub config_table: String,
}

impl Operations {
    /// An operation's refusal as the CLI says it: a missing subscription
    /// names the table and how to list what is there.
    pub fn explain(&self, e: hubhooks::operations::OpError) -> anyhow::Error {
        match e {
            hubhooks::operations::OpError::NotFound {
                what: "subscription",
                id,
            } => anyhow::anyhow!(
                "no subscription `{id}` in {} (`hubhooks subscriptions list` names them)",
                self.config_table
            ),
            e => e.into(),
        }
    }
}

/// Where every command's help lists the options all commands share, apart
/// from its own.
const GLOBAL: &str = "Global options";

#[derive(Parser)]
#[command(
    name = "hubhooks",
    version,
    about = "Webhook delivery for the service order hub: config, tests, attempts, dead letters"
)]
pub struct Cli {
    /// AWS endpoint, for the local stack (moto); otherwise AWS's usual chain
    /// (environment, profile, SSO, role) and region.
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", help_heading = GLOBAL)]
    pub endpoint: Option<String>,
    /// AWS profile (else AWS_PROFILE or the default chain).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub profile: Option<String>,
    /// AWS region (else AWS_REGION or the profile's).
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub region: Option<String>,
    /// A deployed stage: its CloudFormation stack, whose outputs name its
    /// tables (the hub's own, when attached), queues and bucket. Wins over
    /// --prefix.
    #[arg(long, global = true, env = "HUBHOOKS_STACK", help_heading = GLOBAL)]
    pub stack: Option<String>,
    /// The local stack's names (`<prefix>-cases`, …): `hubhooks-local`, or a
    /// test's own.
    #[arg(
        long,
        global = true,
        env = "HUBHOOKS_PREFIX",
        help_heading = GLOBAL,
        default_value = "hubhooks-local"
    )]
    pub prefix: String,
    /// How commands print: tables and lines for people, or JSON lines for
    /// scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table, help_heading = GLOBAL)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// The local stack: provisioning and the runner that plays Lambda.
    Local {
        #[command(subcommand)]
        command: local::LocalCommand,
    },
    /// Config items of any kind (validate or write a file).
    Config {
        #[command(subcommand)]
        command: config::FileCommand,
    },
    /// Subscriptions: validate, put, list, get, enable, disable, delete.
    Subscriptions {
        #[command(subcommand)]
        command: items::ItemCommand,
    },
    /// A party's settings beside its subscriptions: status mappings, black
    /// lists, invoice settings and notice destinations. Validate, put, list,
    /// get, delete.
    Mappings {
        #[command(subcommand)]
        command: items::MappingCommand,
    },
    /// Party keys for the management API: create (shown once), list, revoke.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// A link that opens the partner portal for one party, once, within
    /// its lifetime (default 1 h); the session lasts 8 hours.
    PortalLink(portal_link::PortalLinkArgs),
    /// Secrets (tokens, signing keys, broker URIs) in the secrets table.
    Secret {
        #[command(subcommand)]
        command: secret::SecretCommand,
    },
    /// The webhook types: their versions, each version's JSON Schema and a
    /// sample body, from the code that renders them.
    EventTypes(event_types::EventTypesArgs),
    /// The management API's OpenAPI 3.1 document, every webhook included
    /// (docs/openapi.json). Offline.
    Openapi,
    /// Sends a realistic test webhook through the real delivery path and
    /// prints the receiver's answer.
    SendTest(send_test::SendTestArgs),
    /// The attempt log: every delivery attempt, by case, subscription,
    /// delivery or failure (`deliveries` is the same command's old name).
    #[command(visible_alias = "deliveries")]
    Attempts(attempts::AttemptsArgs),
    /// Sends again what a subscription was sent (or what failed) in a time
    /// window, from the attempt log: same delivery ids, attempts counting on.
    Replay(replay::ReplayArgs),
    /// Sends one delivery again, from the attempt log: same delivery id,
    /// attempts counting on.
    Resend(resend::ResendArgs),
    /// The delivery dead-letter queues: list, replay, delete.
    Dlq {
        #[command(subcommand)]
        command: dlq::DlqCommand,
    },
    /// Stream records the router could not route: list, re-drive, delete.
    RouterFailures {
        #[command(subcommand)]
        command: router_failures::RouterFailuresCommand,
    },
    /// Runs the whole pipeline once on the local stack and prints the
    /// webhooks, then a partner portal link; serves until Ctrl-C.
    Demo {
        /// Stop after the check instead of serving the portal.
        #[arg(long)]
        exit: bool,
    },
    /// Checks a stage: case tables (keys, NEW_AND_OLD_IMAGES streams), event
    /// source mappings, config, secrets, queues, alarms. Exit 0 only when
    /// all hold.
    Preflight,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_in_the_readme_is_one_the_command_accepts() {
        let readme = [
            include_str!("../../../README.md"),
            include_str!("../../../docs/operations.md"),
            include_str!("../../../docs/receiving-webhooks.md"),
        ]
        .join("\n");
        let invocations = hubhooks_testkit::readme::invocations(&readme, "hubhooks");
        assert!(invocations.len() >= 20, "{invocations:#?}");
        let refused: Vec<String> = invocations
            .iter()
            .filter_map(|i| {
                let argv = std::iter::once("hubhooks".to_owned()).chain(i.args.clone());
                Cli::try_parse_from(argv)
                    .err()
                    .map(|e| format!("hubhooks {}\n{}", i.args.join(" "), e.render()))
            })
            .collect();
        assert!(refused.is_empty(), "{}", refused.join("\n"));
    }

    /// Every option and argument of every command says what it is for.
    #[test]
    fn every_argument_has_a_description() {
        use clap::CommandFactory;
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "hubhooks", &mut missing);
        assert!(
            missing.is_empty(),
            "no description:\n{}",
            missing.join("\n")
        );
    }

    /// A command's help lists its own options, then the shared ones once,
    /// under their own heading (they were interleaved with the command's).
    #[test]
    fn global_options_are_shown_once_apart_from_the_commands_own() {
        let help = Cli::try_parse_from(["hubhooks", "dlq", "list", "--help"])
            .err()
            .map(|e| e.render().to_string())
            .unwrap_or_default();
        let global = help.find("Global options:").expect("a heading");
        for own in ["--subscription", "--reason", "--hold-secs"] {
            assert!(help.find(own).unwrap() < global, "{own}:\n{help}");
        }
        for shared in [
            "--endpoint",
            "--profile",
            "--region",
            "--stack",
            "--prefix",
            "--output",
        ] {
            assert_eq!(
                help.matches(&format!("{shared} <")).count(),
                1,
                "{shared}:\n{help}"
            );
            let at = help.find(&format!("{shared} <")).unwrap();
            assert!(at > global, "{shared}:\n{help}");
        }
    }

    #[test]
    fn only_subscriptions_can_be_enabled_or_disabled() {
        let parse = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("hubhooks").chain(args.iter().copied()))
        };
        assert!(parse(&["subscriptions", "disable", "acme"]).is_ok());
        assert!(parse(&["mappings", "disable", "map"]).is_err());
        assert!(parse(&["mappings", "enable", "map"]).is_err());
        let help = Cli::try_parse_from(["hubhooks", "mappings", "--help"])
            .err()
            .map(|e| e.render().to_string())
            .unwrap_or_default();
        assert!(!help.contains("enable"), "{help}");
    }
}
