//! The `hubhooks` command.
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use hubhooks::event::EventType;
use hubhooks_cli::deployment::Deployment;
use hubhooks_cli::items::{self, Family};
use hubhooks_cli::{attempts, aws, configure, demo, dlq, provision, runner, send_test};
use std::path::PathBuf;
use std::time::Duration;

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
    /// Config items of any kind (validate or write a file).
    Config {
        #[command(subcommand)]
        command: FileCommand,
    },
    /// Subscriptions: validate, put, list, get, enable, disable, delete.
    Subscriptions {
        #[command(subcommand)]
        command: ItemCommand,
    },
    /// Status mappings, black lists and invoice settings: the same verbs.
    Mappings {
        #[command(subcommand)]
        command: ItemCommand,
    },
    /// Secrets (tokens, signing keys, broker URIs) in the secrets table.
    Secret {
        #[command(subcommand)]
        command: SecretCommand,
    },
    /// Sends a realistic test webhook through the real delivery path and
    /// prints the receiver's answer.
    SendTest(SendTestArgs),
    /// The attempt log: every delivery attempt, by case, subscription or failure.
    Deliveries(DeliveriesArgs),
    /// The delivery dead-letter queue: list, replay.
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Stream records the router could not route: list, re-drive.
    RouterFailures {
        #[command(subcommand)]
        command: RouterFailuresCommand,
    },
    /// Runs the whole pipeline once on the local stack and prints the webhooks.
    Demo,
}

#[derive(Subcommand)]
enum LocalCommand {
    /// Creates the tables, queues and bucket (idempotent).
    Provision,
    /// Polls the streams and the delivery queue and runs the handlers, until Ctrl-C.
    Run,
}

#[derive(Subcommand)]
enum FileCommand {
    /// Validates JSON or YAML files of config items; names the file, item and
    /// field of every problem.
    Validate { files: Vec<PathBuf> },
    /// Validates and writes a file of config items to the config table.
    Put {
        file: PathBuf,
        /// Overrides `<prefix>-config`.
        #[arg(long, env = "CONFIG_TABLE")]
        table: Option<String>,
    },
}

#[derive(Subcommand)]
enum ItemCommand {
    /// Validates JSON or YAML files.
    Validate { files: Vec<PathBuf> },
    /// Validates and writes a file ("allCurrent" is expanded to today's types).
    Put { file: PathBuf },
    /// Lists stored items.
    List {
        /// Only items of this party, e.g. partner:1413.
        #[arg(long)]
        party: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Prints one stored item as JSON.
    Get { id: String },
    /// Enables a subscription (and clears a recorded 410 Gone).
    Enable { id: String },
    /// Disables a subscription.
    Disable {
        id: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deletes an item.
    Delete { id: String },
}

#[derive(Subcommand)]
enum SecretCommand {
    /// Stores a secret under NAME: one value per line on standard input,
    /// newest first (several while signing keys rotate). Values never
    /// appear in arguments, so not in shell history either.
    Put { name: String },
}

#[derive(Args)]
struct SendTestArgs {
    #[arg(long)]
    subscription: String,
    /// The webhook type, e.g. newStatus.
    #[arg(long = "type")]
    event_type: EventType,
    /// Build the webhook from this case instead of the documented sample.
    #[arg(long)]
    case: Option<String>,
    /// How long to wait for the answer.
    #[arg(long, default_value_t = 60)]
    timeout_secs: u64,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct DeliveriesFilter {
    #[arg(long)]
    case: Option<String>,
    #[arg(long)]
    subscription: Option<String>,
    #[arg(long)]
    delivery: Option<String>,
    /// Failed attempts (retried, dead-lettered, gone).
    #[arg(long)]
    failed: bool,
}

#[derive(Args)]
struct DeliveriesArgs {
    #[command(flatten)]
    filter: DeliveriesFilter,
    /// Only attempts this recent: 30m, 1h, 2d.
    #[arg(long)]
    since: Option<String>,
    /// JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum DlqCommand {
    /// What sits in the DLQ, with its last error.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Puts matching deliveries back on the delivery queue (sent before it
    /// is deleted from the DLQ: an interrupted replay loses nothing).
    Replay {
        #[arg(long)]
        subscription: Option<String>,
        #[arg(long = "type")]
        event_type: Option<EventType>,
        /// Dead-lettered this recently: 30m, 1h, 2d.
        #[arg(long)]
        since: Option<String>,
        /// Shows what would be replayed; changes nothing.
        #[arg(long)]
        dry_run: bool,
        /// At most this many per second.
        #[arg(long)]
        rate: Option<u32>,
        /// Seconds messages stay hidden while being replayed (they return
        /// after this if the replay stops).
        #[arg(long, default_value_t = 60)]
        hold_secs: u64,
    },
}

#[derive(Subcommand)]
enum RouterFailuresCommand {
    /// Parked stream records and failed batches, with their reasons.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Routes parked records again (after the data or config was fixed).
    Redrive {
        /// The payload bucket (template output PayloadBucketName).
        #[arg(long, env = "PAYLOAD_BUCKET")]
        payload_bucket: Option<String>,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Demo) || std::env::var_os("RUST_LOG").is_some() {
        // Logs go to stderr; stdout is for what the command prints.
        hubhooks::telemetry::init_stderr();
    }
    let endpoint = cli.endpoint.as_deref();
    let dep = Deployment::new(&cli.prefix);
    // Only commands that talk to AWS load its config (offline validation
    // must not probe for credentials or a region).
    let (profile, region) = (cli.profile.clone(), cli.region.clone());
    let sdk = || aws::sdk_config_with(endpoint, profile.as_deref(), region.as_deref());
    match cli.command {
        Command::Local { command } => {
            let sdk = sdk().await;
            let stack =
                provision::provision(&sdk, &dep.prefix, &provision::QueueSettings::default())
                    .await?;
            match command {
                LocalCommand::Provision => println!("{stack:#?}"),
                LocalCommand::Run => {
                    let runner =
                        runner::Runner::start(&sdk, &stack, runner::RunnerOptions::default())
                            .await?;
                    eprintln!("running against {}; Ctrl-C stops", dep.prefix);
                    runner.run_until_interrupted().await?;
                }
            }
        }
        Command::Config { command } => match command {
            FileCommand::Validate { files } => validate(&files, None)?,
            FileCommand::Put { file, table } => {
                let items = configure::read_items(&file)?;
                let table = table.unwrap_or_else(|| dep.config_table());
                configure::put_items(&sdk().await, &table, &items).await?;
                println!("wrote {} items to {table}", items.len());
            }
        },
        Command::Subscriptions { command } => {
            items_command(command, Family::Subscriptions, &dep, sdk).await?
        }
        Command::Mappings { command } => {
            items_command(command, Family::Mappings, &dep, sdk).await?
        }
        Command::Secret {
            command: SecretCommand::Put { name },
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
                bail!("no value on standard input (one per line, newest first)");
            }
            let client = aws_sdk_dynamodb::Client::new(&sdk().await);
            let table = dep.secrets_table();
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
        Command::SendTest(args) => send_test_command(args, &dep, &sdk().await).await?,
        Command::Deliveries(args) => {
            let f = args.filter;
            let filter = match (f.case, f.subscription, f.delivery, f.failed) {
                (Some(c), ..) => attempts::Filter::Case(c),
                (_, Some(s), ..) => attempts::Filter::Subscription(s),
                (_, _, Some(d), _) => attempts::Filter::Delivery(d),
                _ => attempts::Filter::Failed,
            };
            let since = args
                .since
                .as_deref()
                .map(attempts::parse_since)
                .transpose()?;
            let ddb = aws_sdk_dynamodb::Client::new(&sdk().await);
            let found = attempts::query(&ddb, &dep.deliveries_table(), &filter, since).await?;
            if args.json {
                for a in &found {
                    println!("{}", serde_json::to_string(a)?);
                }
            } else {
                print!("{}", attempts::render(&found));
                eprintln!("{} attempt(s)", found.len());
            }
        }
        Command::Dlq { command } => {
            let sqs = aws_sdk_sqs::Client::new(&sdk().await);
            let dlq_url = dep.queue_url(&sqs, &dep.dead_letter_queue()).await?;
            match command {
                DlqCommand::List { json } => {
                    let letters = dlq::list(&sqs, &dlq_url).await?;
                    print_letters(&letters, json)?;
                }
                DlqCommand::Replay {
                    subscription,
                    event_type,
                    since,
                    dry_run,
                    rate,
                    hold_secs,
                } => {
                    let queue_url = dep.queue_url(&sqs, &dep.delivery_queue()).await?;
                    let since = since
                        .as_deref()
                        .map(attempts::parse_since)
                        .transpose()?
                        .map(|d| hubhooks::timestamp::Timestamp(chrono::Utc::now() - d));
                    let replay = dlq::Replay {
                        sqs: &sqs,
                        dlq_url: &dlq_url,
                        queue_url: &queue_url,
                        selection: dlq::Selection {
                            subscription,
                            event_type,
                            since,
                        },
                        dry_run,
                        rate,
                        hold: Duration::from_secs(hold_secs),
                    };
                    let verb = if dry_run { "would replay" } else { "replayed" };
                    // A bar on a terminal (stderr), one line per delivery on
                    // stdout for scripts and logs.
                    let depth = dlq::SqsMailbox {
                        sqs: &sqs,
                        url: &dlq_url,
                        hold: Duration::from_secs(hold_secs),
                        wait_secs: 0,
                    };
                    let total = dlq::Mailbox::visible(&depth).await.unwrap_or(0);
                    let bar = indicatif::ProgressBar::with_draw_target(
                        Some(total),
                        indicatif::ProgressDrawTarget::stderr(),
                    );
                    bar.set_style(
                        indicatif::ProgressStyle::with_template(
                            "{bar:40} {pos}/{len} replayed, {per_sec}, eta {eta}",
                        )
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                    );
                    let report = replay
                        .run(|l, r| {
                            let id = l.delivery.as_ref().map(|d| d.id.as_str()).unwrap_or("?");
                            bar.set_position(r.replayed as u64);
                            bar.suspend(|| println!("{verb} {} ({id})", r.replayed));
                        })
                        .await?;
                    bar.finish_and_clear();
                    println!(
                        "{verb} {}, kept {} (not selected), {} unreadable (not deliveries)",
                        report.replayed, report.kept, report.unreadable
                    );
                }
            }
        }
        Command::RouterFailures { command } => {
            let sdk = sdk().await;
            let sqs = aws_sdk_sqs::Client::new(&sdk);
            let url = dep.queue_url(&sqs, &dep.router_failure_queue()).await?;
            match command {
                RouterFailuresCommand::List { json } => {
                    let letters = dlq::list(&sqs, &url).await?;
                    if json {
                        for l in &letters {
                            println!(
                                "{}",
                                serde_json::json!({"reason": l.reason, "origin": l.origin, "body": l.body})
                            );
                        }
                    } else {
                        for l in &letters {
                            println!("{}  {}", l.origin, l.reason);
                        }
                        eprintln!("{} parked", letters.len());
                    }
                }
                RouterFailuresCommand::Redrive { payload_bucket } => {
                    let settings = hubhooks::settings::RouterSettings {
                        tables: dep.tables(),
                        delivery_queue_url: dep.queue_url(&sqs, &dep.delivery_queue()).await?,
                        failure_queue_url: url.clone(),
                        config_ttl: Duration::ZERO,
                        payload_bucket: payload_bucket
                            .unwrap_or_else(|| format!("{}-payloads", dep.prefix)),
                    };
                    let router = hubhooks::lambda::router::AwsRouter::from_aws(&sdk, settings);
                    let (done, kept) =
                        dlq::redrive_router_failures(&sqs, &url, &router, |l, ok| {
                            println!(
                                "{} {}",
                                if ok { "re-driven" } else { "kept     " },
                                l.origin
                            );
                        })
                        .await?;
                    println!("re-drove {done}, kept {kept}");
                }
            }
        }
        Command::Demo => demo::run(&sdk().await, &dep.prefix).await?,
    }
    Ok(())
}

fn validate(files: &[PathBuf], family: Option<Family>) -> Result<()> {
    if files.is_empty() {
        bail!("name at least one file");
    }
    let mut problems = Vec::new();
    for file in files {
        let read = match family {
            Some(f) => items::read_family(file, f),
            None => configure::read_items(file),
        };
        match read {
            Ok(items) => println!("{}: {} valid items", file.display(), items.len()),
            Err(e) => problems.push(format!("{e:#}")),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

async fn items_command<F, Fut>(
    command: ItemCommand,
    family: Family,
    dep: &Deployment,
    sdk: F,
) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = aws_config::SdkConfig>,
{
    if let ItemCommand::Validate { files } = &command {
        return validate(files, Some(family));
    }
    let table = dep.config_table();
    let sdk = sdk().await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    match command {
        ItemCommand::Validate { .. } => unreachable!("handled above"),
        ItemCommand::Put { file } => {
            let found = items::read_family(&file, family)?;
            configure::put_items(&sdk, &table, &found).await?;
            println!("wrote {} items to {table}", found.len());
        }
        ItemCommand::List { party, json } => {
            let mut found = items::list(&ddb, &table, family).await?;
            if let Some(p) = party {
                let p = items::parse_party(&p)?;
                found.retain(|v| items::concerns(v, p));
            }
            if json {
                for v in &found {
                    println!("{v}");
                }
            } else {
                print!("{}", items::render(&found));
            }
        }
        ItemCommand::Get { id } => {
            let v = items::get_in(&ddb, &table, family, &id).await?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        ItemCommand::Enable { id } | ItemCommand::Disable { id, .. }
            if family != Family::Subscriptions =>
        {
            bail!("`{id}`: only subscriptions can be enabled or disabled")
        }
        ItemCommand::Enable { id } => {
            items::set_enabled(&ddb, &table, &id, true, None).await?;
            println!("enabled {id}");
        }
        ItemCommand::Disable { id, reason } => {
            items::set_enabled(&ddb, &table, &id, false, reason.as_deref()).await?;
            println!("disabled {id}");
        }
        ItemCommand::Delete { id } => {
            items::delete(&ddb, &table, family, &id).await?;
            println!("deleted {id}");
        }
    }
    Ok(())
}

fn print_letters(letters: &[dlq::Letter], json: bool) -> Result<()> {
    if json {
        for l in letters {
            println!(
                "{}",
                serde_json::json!({
                    "deadLetteredAt": l.sent_at.map(|t| t.to_contract_string()),
                    "reason": l.reason, "origin": l.origin,
                    "delivery": l.delivery,
                })
            );
        }
    } else {
        print!("{}", dlq::render(letters));
        eprintln!("{} dead letter(s)", letters.len());
    }
    Ok(())
}

async fn send_test_command(
    args: SendTestArgs,
    dep: &Deployment,
    sdk: &aws_config::SdkConfig,
) -> Result<()> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let stored = items::get_in(
        &ddb,
        &dep.config_table(),
        Family::Subscriptions,
        &args.subscription,
    )
    .await?;
    let subscription = send_test::parse_subscription(stored)?;
    let case = match &args.case {
        None => None,
        Some(guid) => {
            let store = hubhooks::adapters::dynamo::DynamoCaseStore::new(
                ddb.clone(),
                dep.tables().cases().to_owned(),
                dep.tables().case_statuses().to_owned(),
            );
            use hubhooks::ports::CaseStore;
            Some(
                store
                    .case(guid)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .with_context(|| format!("no case `{guid}`"))?,
            )
        }
    };
    let body = send_test::body(&subscription, args.event_type, case.as_ref())?;
    let guid = case.as_ref().map(|c| c.guid.clone()).unwrap_or_default();
    let delivery = send_test::delivery(&subscription, args.event_type, &guid, body)?;
    let queue = hubhooks::adapters::sqs::SqsDeliveryQueue::new(
        sqs.clone(),
        dep.queue_url(&sqs, &dep.delivery_queue()).await?,
    );
    use hubhooks::ports::DeliveryQueue;
    if let Some(Err(e)) = queue.enqueue(std::slice::from_ref(&delivery)).await.pop() {
        bail!("enqueueing the test delivery: {e}");
    }
    println!("sent test delivery {} ({})", delivery.id, args.event_type);
    let filter = attempts::Filter::Delivery(delivery.id.clone());
    let deadline = std::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    loop {
        let found = attempts::query(&ddb, &dep.deliveries_table(), &filter, None).await?;
        if let Some(a) = found.last() {
            print!("{}", attempts::render(&found));
            if a.outcome.is_failure() {
                bail!(
                    "the receiver did not accept the test webhook: {}",
                    a.error.clone().unwrap_or_default()
                );
            }
            println!(
                "receiver answered {} in {} ms: {}",
                a.status.unwrap_or_default(),
                a.latency_ms.unwrap_or_default(),
                a.excerpt
            );
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            bail!(
                "no attempt within {} s: is the sender running? (`hubhooks deliveries --delivery {}` shows it later)",
                args.timeout_secs,
                delivery.id
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
