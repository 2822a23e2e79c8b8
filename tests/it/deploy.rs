//! The deploy rehearsal: template.yaml through the SAM translator, created
//! on moto's CloudFormation in both modes (creating the case tables, and
//! attached to the hub's own), checked from the stack itself by
//! `hubhooks preflight`, and one stream record → webhook through the
//! stack's own resources with the local runner playing its mappings.
use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use hubhooks::tables::CaseTable;
use hubhooks_cli::deployment::Deployment;
use hubhooks_cli::preflight::{self, Verdict};
use hubhooks_tests::rehearsal::Rehearsal;
use hubhooks_tests::*;
use serde_json::json;
use std::time::Duration;

fn param(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

/// An SNS topic for the alarms, as an operator's would be.
async fn alarm_topic(r: &Rehearsal) -> String {
    aws_sdk_sns::Client::new(&r.sdk)
        .create_topic()
        .name("ops")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap()
}

/// (check, verdict) of every check that did not pass.
async fn failures(r: &Rehearsal, dep: &Deployment) -> Vec<(String, String)> {
    preflight::run(&r.sdk, dep)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.verdict != Verdict::Ok)
        .map(|c| (c.check, c.detail))
        .collect()
}

async fn mappings(
    r: &Rehearsal,
    function: &str,
) -> Vec<aws_sdk_lambda::types::EventSourceMappingConfiguration> {
    aws_sdk_lambda::Client::new(&r.sdk)
        .list_event_source_mappings()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .event_source_mappings
        .unwrap_or_default()
}

/// The streams the router's mappings read, sorted.
async fn sources(r: &Rehearsal, function: &str) -> Vec<String> {
    let mut arns: Vec<String> = mappings(r, function)
        .await
        .iter()
        .map(|m| m.event_source_arn().unwrap().to_owned())
        .collect();
    arns.sort();
    arns
}

#[tokio::test]
async fn a_stack_that_creates_its_tables_deploys_and_passes_the_preflight() {
    let r = Rehearsal::start().await.unwrap();
    let topic = alarm_topic(&r).await;
    let dep = r
        .deploy(
            "hubhooks-dev",
            &[param("Stage", "dev"), param("AlarmTopicArn", &topic)],
        )
        .await
        .unwrap();
    assert_eq!(failures(&r, &dep).await, Vec::<(String, String)>::new());
    assert_eq!(dep.tables().cases(), "hubhooks-dev-cases");
    assert_eq!(dep.delivery_queue(), "hubhooks-dev-deliveries");
    let resources = r.resources("hubhooks-dev").await.unwrap();
    let count = |kind: &str| resources.iter().filter(|(_, t)| t == kind).count();
    assert_eq!(
        count("AWS::DynamoDB::Table"),
        11,
        "six case tables, config, secrets, attempt log, party keys, idempotency"
    );
    assert_eq!(count("AWS::Lambda::EventSourceMapping"), 8);
    assert_eq!(count("AWS::SQS::Queue"), 5);
    assert_eq!(count("AWS::IAM::Role"), 3, "router, sender, api");
    // No notice topic given: no notices policy; no fixed egress: no VPC.
    assert_eq!(count("AWS::IAM::Policy"), 0);
    assert!(
        resources.iter().all(|(_, t)| !t.starts_with("AWS::EC2::")),
        "{resources:?}"
    );
    assert_eq!(output(&r, "hubhooks-dev", "EgressIps").await, None);
    let facts = dep.stack.clone().unwrap();
    let router = mappings(&r, &facts.router_function).await;
    assert_eq!(router.len(), 6);
    for m in &router {
        // Tables the stack creates are read from their start.
        assert_eq!(
            m.starting_position().map(|p| p.as_str()),
            Some("TRIM_HORIZON")
        );
        assert_eq!(m.maximum_retry_attempts(), Some(5));
        assert_eq!(m.maximum_record_age_in_seconds(), Some(86400));
    }
    let sqs = aws_sdk_sqs::Client::new(&r.sdk);
    let url = dep.queue_url(&sqs, &dep.delivery_queue()).await.unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    use aws_sdk_sqs::types::QueueAttributeName as Q;
    assert_eq!(attrs[&Q::VisibilityTimeout], "540");
    assert_eq!(attrs[&Q::MaximumMessageSize], "262144");
}

/// One output of a stack, if it has it.
async fn output(r: &Rehearsal, stack: &str, key: &str) -> Option<String> {
    r.cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .unwrap()
        .stacks()
        .first()
        .unwrap()
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some(key))
        .and_then(|o| o.output_value().map(str::to_owned))
}

/// A function's configuration as moto answers it, read as JSON: moto
/// answers the environment's numbers unquoted, which the SDK refuses.
async fn function_configuration(r: &Rehearsal, name: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!(
            "{}/2015-03-31/functions/{name}/configuration",
            r.moto.endpoint
        ))
        // moto routes a request to its service by the credential's scope.
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send()
        .await
    .unwrap()
    .text()
    .await
    .map(|t| serde_json::from_str(&t).unwrap())
    .unwrap()
}

/// Fixed egress IPs: the sender in a VPC of its own, its private subnets
/// behind a NAT gateway with an Elastic IP per zone, the IPs an output.
#[tokio::test]
async fn fixed_egress_puts_the_sender_behind_nat_gateways_whose_ips_are_an_output() {
    let r = Rehearsal::start().await.unwrap();
    for (zones, stack) in [("1", "hubhooks-one"), ("2", "hubhooks-two")] {
        let dep = r
            .deploy(
                stack,
                &[
                    param("Stage", stack.trim_start_matches("hubhooks-")),
                    param("FixedEgressIps", zones),
                ],
            )
            .await
            .unwrap();
        let n: usize = zones.parse().unwrap();
        let resources = r.resources(stack).await.unwrap();
        let count = |kind: &str| resources.iter().filter(|(_, t)| t == kind).count();
        assert_eq!(count("AWS::EC2::VPC"), 1);
        assert_eq!(count("AWS::EC2::NatGateway"), n, "{resources:?}");
        assert_eq!(count("AWS::EC2::EIP"), n);
        assert_eq!(count("AWS::EC2::Subnet"), 2 * n);
        assert_eq!(count("AWS::EC2::VPCEndpoint"), 2, "DynamoDB and S3");
        assert_eq!(count("AWS::IAM::Policy"), 1, "the sender's VPC policy");
        // The sender runs in the private subnets.
        let facts = dep.stack.clone().unwrap();
        let sender = function_configuration(&r, &facts.sender_function).await;
        let vpc = &sender["VpcConfig"];
        assert_eq!(vpc["SubnetIds"].as_array().unwrap().len(), n, "{vpc}");
        assert_eq!(vpc["SecurityGroupIds"].as_array().unwrap().len(), 1);
        let ec2_ips = output(&r, stack, "EgressIps").await.unwrap();
        let ips: Vec<std::net::Ipv4Addr> =
            ec2_ips.split(',').map(|ip| ip.parse().unwrap()).collect();
        assert_eq!(ips.len(), n, "{ec2_ips}");
        // The router and the API stay out of the VPC.
        let router = function_configuration(&r, &facts.router_function).await;
        assert!(
            router["VpcConfig"]["SubnetIds"]
                .as_array()
                .is_none_or(|s| s.is_empty()),
            "{router}"
        );
    }
}

#[tokio::test]
async fn a_stack_attached_to_the_hubs_tables_creates_none_starts_at_latest_and_passes_the_preflight()
 {
    let r = Rehearsal::start().await.unwrap();
    let topic = alarm_topic(&r).await;
    let mut params = r.hub_tables("hub").await.unwrap();
    params.extend([param("Stage", "prod"), param("AlarmTopicArn", &topic)]);
    let dep = r.deploy("hubhooks-prod", &params).await.unwrap();
    assert_eq!(failures(&r, &dep).await, Vec::<(String, String)>::new());
    for t in CaseTable::ALL {
        assert_eq!(dep.tables().name(t), format!("hub-{}", t.suffix()));
    }
    let resources = r.resources("hubhooks-prod").await.unwrap();
    let tables: Vec<&str> = resources
        .iter()
        .filter(|(_, t)| t == "AWS::DynamoDB::Table")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(tables.len(), 5, "{tables:?}");
    for id in [
        "ConfigTable",
        "SecretsTable",
        "DeliveryLogTable",
        "PartyKeysTable",
        "IdempotencyTable",
    ] {
        assert!(tables.contains(&id), "{tables:?}");
    }
    let facts = dep.stack.clone().unwrap();
    let router = mappings(&r, &facts.router_function).await;
    let mut want: Vec<String> = params
        .iter()
        .filter(|(k, _)| k.ends_with("StreamArn"))
        .map(|(_, v)| v.clone())
        .collect();
    want.sort();
    assert_eq!(sources(&r, &facts.router_function).await, want);
    for m in &router {
        // A new stack does not replay a day of history as webhooks.
        assert_eq!(m.starting_position().map(|p| p.as_str()), Some("LATEST"));
    }
    // The router is told the same names as the outputs (template.rs
    // checks the two expressions are one; moto's GetFunction answers the
    // environment's numbers unquoted, which the SDK refuses).
}

#[tokio::test]
async fn the_preflight_names_a_table_without_a_stream_a_keys_only_stream_a_missing_secret_and_a_disabled_mapping()
 {
    let r = Rehearsal::start().await.unwrap();
    let topic = alarm_topic(&r).await;
    let mut params = r
        .hub_tables_streaming("hub", |t| match t {
            CaseTable::Messages => StreamViewType::KeysOnly,
            _ => StreamViewType::NewAndOldImages,
        })
        .await
        .unwrap();
    params.extend([param("Stage", "prod"), param("AlarmTopicArn", &topic)]);
    let dep = r.deploy("hubhooks-prod", &params).await.unwrap();
    // The hub turns the Files stream off (its Messages table streams keys
    // only, from the start: moto cannot enable a stream once disabled).
    let stream = |enabled: bool, view: Option<StreamViewType>| {
        StreamSpecification::builder()
            .stream_enabled(enabled)
            .set_stream_view_type(view)
            .build()
            .unwrap()
    };
    r.ddb
        .update_table()
        .table_name("hub-files")
        .stream_specification(stream(false, None))
        .send()
        .await
        .unwrap();
    // A subscription names a signing secret nobody stored.
    put_json(
        &r.ddb,
        &dep.config_table(),
        &json!({"id": "acme", "kind": "subscription", "party": {"type": "partner", "id": 1413},
                "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://acme.example/hook"},
                "auth": {"signingSecret": "acme-signing"}}),
    )
    .await
    .unwrap();
    // Someone disabled the Cases mapping.
    let lambda = aws_sdk_lambda::Client::new(&r.sdk);
    let facts = dep.stack.clone().unwrap();
    let cases = mappings(&r, &facts.router_function)
        .await
        .into_iter()
        .find(|m| m.event_source_arn().unwrap().contains("table/hub-cases/"))
        .unwrap();
    lambda
        .update_event_source_mapping()
        .uuid(cases.uuid().unwrap())
        .enabled(false)
        .send()
        .await
        .unwrap();
    let got = failures(&r, &dep).await;
    let checks: Vec<&str> = got.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        checks,
        [
            "messages table hub-messages",
            "files table hub-files",
            "cases stream mapping",
            "secret acme-signing",
        ],
        "{got:#?}"
    );
    let detail = |check: &str| got.iter().find(|(c, _)| c == check).unwrap().1.clone();
    assert_eq!(
        detail("messages table hub-messages"),
        "its stream is KEYS_ONLY; the router needs NEW_AND_OLD_IMAGES"
    );
    assert_eq!(detail("files table hub-files"), "has no stream");
    assert_eq!(
        detail("cases stream mapping"),
        "the mapping is Disabled: nothing is read"
    );
    assert_eq!(
        detail("secret acme-signing"),
        "subscription acme names it (auth.signingSecret); hubhooks-prod-secrets has no such secret"
    );
}

#[tokio::test]
async fn a_webhook_flows_through_the_rehearsed_stacks_own_resources() {
    let r = Rehearsal::start().await.unwrap();
    let mut params = r.hub_tables("hub").await.unwrap();
    params.push(param("Stage", "prod"));
    let dep = r.deploy("hubhooks-prod", &params).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    put_json(
        &r.ddb,
        &dep.config_table(),
        &json!({"id": "acme", "kind": "subscription", "party": {"type": "partner", "id": 1413},
                "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": rx.url("/hook")}}),
    )
    .await
    .unwrap();
    let stack = hubhooks_cli::local::provision::attach(&r.sdk, &dep)
        .await
        .unwrap();
    let _runner = Runner::start(&r.sdk, &stack, RunnerOptions::default())
        .await
        .unwrap();
    let guid = "68ea1505-a44f-4434-be5a-dcc959be250e";
    put_json(&r.ddb, "hub-cases", &fixtures::case(guid, 7))
        .await
        .unwrap();
    put_json(
        &r.ddb,
        "hub-case-statuses",
        &fixtures::status(7, guid, 70, "registered"),
    )
    .await
    .unwrap();
    let got = rx.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].path, "/hook");
    assert_eq!(
        got[0].body,
        format!(
            r#"{{"id":70,"caseId":7,"guid":"{guid}","name":"a status","key":"registered","createdAt":"2024-05-01T10:00:00.000Z","updatedAt":"2024-05-01T10:00:00.000Z","declaredAt":null}}"#
        )
    );
    // The attempt log of the stack's own table has it.
    let logged = eventually(Duration::from_secs(10), || async {
        let log = r
            .ddb
            .scan()
            .table_name(dep.attempt_log_table())
            .send()
            .await
            .ok()?;
        (log.count() > 0).then_some(log.count())
    })
    .await;
    assert!(logged.is_some(), "nothing in {}", dep.attempt_log_table());
}

/// What a deleted stack leaves behind is adopted, not fought over: the
/// case tables (retained, with their data) are attached by their stream
/// ARNs. The in-place update CHANGELOG.md describes (created → attached in
/// one `sam deploy`) cannot be rehearsed on moto 5.2.5: its UpdateStack
/// diffs resource names only, so a condition turning false removes
/// nothing, and a removed resource is deleted despite `Retain`. Nor can the
/// import of the other retained resources (moto has no IMPORT change sets),
/// so the new stack here is a new stage beside them.
#[tokio::test]
async fn a_deleted_stacks_case_tables_keep_their_data_and_a_new_stack_attaches_to_them() {
    let r = Rehearsal::start().await.unwrap();
    let topic = alarm_topic(&r).await;
    let created = r
        .deploy(
            "hubhooks-prod",
            &[param("Stage", "prod"), param("AlarmTopicArn", &topic)],
        )
        .await
        .unwrap();
    let cases = created.tables().name(CaseTable::Cases).to_owned();
    use aws_sdk_dynamodb::types::AttributeValue;
    let key = hubhooks::tables::CASES_KEY;
    r.ddb
        .put_item()
        .table_name(&cases)
        .item(key, AttributeValue::S("c-1".into()))
        .send()
        .await
        .unwrap();
    let streams = created.stack.clone().unwrap().streams;
    r.delete("hubhooks-prod").await.unwrap();
    let kept = r
        .ddb
        .get_item()
        .table_name(&cases)
        .key(key, AttributeValue::S("c-1".into()))
        .send()
        .await
        .unwrap();
    assert!(kept.item.is_some(), "{cases} lost its data");
    let mut params = vec![param("Stage", "prod2"), param("AlarmTopicArn", &topic)];
    for (table, arn) in CaseTable::ALL.iter().zip(&streams) {
        params.push((
            hubhooks_cli::deployment::output::stream(*table),
            arn.clone(),
        ));
    }
    let attached = r.deploy("hubhooks-prod2", &params).await.unwrap();
    assert_eq!(attached.tables().name(CaseTable::Cases), cases);
    let facts = attached.stack.clone().unwrap();
    assert_eq!(facts.streams, streams);
    let mut want = streams.clone();
    want.sort();
    assert_eq!(sources(&r, &facts.router_function).await, want);
    assert_eq!(
        failures(&r, &attached).await,
        Vec::<(String, String)>::new()
    );
}

/// The `hubhooks` binary: the one `cargo nextest run --workspace` built
/// beside this test (cli/tests needs it), else built now. (A build here
/// resolves the CLI's features alone and would rebuild the library; the
/// tests package cannot name another package's binary.)
fn hubhooks_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap().to_owned();
    let bin = dir.join("hubhooks");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = std::process::Command::new(cargo)
            .args(["build", "-q", "-p", "hubhooks-cli", "--bin", "hubhooks"])
            .current_dir(workspace_root())
            .status()
            .unwrap();
        assert!(built.success(), "cargo build -p hubhooks-cli");
    }
    bin
}

/// The README's commands for a deployed stage (`--stack`, or after
/// `export HUBHOOKS_STACK=…`) run as written, in order, against a stack
/// deployed as the README deploys it; every one exits 0.
#[tokio::test]
async fn the_readmes_stack_commands_run_against_a_rehearsed_stack() {
    let r = Rehearsal::start().await.unwrap();
    let topic = alarm_topic(&r).await;
    let mut params = r.hub_tables("hub").await.unwrap();
    params.extend([param("Stage", "prod"), param("AlarmTopicArn", &topic)]);
    r.deploy("hubhooks-prod", &params).await.unwrap();
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let bin = hubhooks_binary();
    let mut ran = Vec::new();
    for i in hubhooks_testkit::readme::invocations(&readme, "hubhooks") {
        if !i.args.contains(&"--stack".to_owned())
            && !i.env.iter().any(|(k, _)| k == "HUBHOOKS_STACK")
        {
            continue;
        }
        let mut command = std::process::Command::new(&bin);
        command
            .args(["--endpoint", &r.moto.endpoint])
            .args(&i.args)
            .envs(i.env.iter().map(|(k, v)| (k, v)))
            .env_remove("HUBHOOKS_PREFIX")
            .current_dir(workspace_root())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        // A piped command (`printf … | hubhooks secret put …`) reads a value.
        if let Some(mut stdin) = child.stdin.take()
            && i.piped
        {
            use std::io::Write;
            stdin.write_all(b"a-bearer-token\n").unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let line = i.args.join(" ");
        assert_eq!(
            out.status.code(),
            Some(0),
            "hubhooks {line}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran.push((line, String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let lines: Vec<&str> = ran.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        lines,
        [
            "--stack hubhooks-prod preflight",
            "preflight",
            "secret generate acme-signing",
            "secret put acme-bearer",
            "config put docs/example-config.json",
            "deliveries --failed",
        ]
    );
    assert!(ran[0].1.contains("preflight: all"), "{}", ran[0].1);
}
