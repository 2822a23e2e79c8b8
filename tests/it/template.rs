//! template.yaml: lints clean and declares what the code assumes.
use hubhooks::tables::{CONFIG_KEY, CaseTable, KeyType};
use hubhooks_tests::workspace_root;
use serde_yaml::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The value under a short-form intrinsic (`!Sub x` → x), as a string.
fn intrinsic<'a>(v: &'a Value, tag: &str) -> Option<&'a str> {
    match v {
        Value::Tagged(t) if t.tag == tag => t.value.as_str(),
        _ => None,
    }
}

/// The table a mapping's `!If [Create<T>Table, !GetAtt <T>.StreamArn,
/// !Ref <T>StreamArn]` reads when the stack creates it; None unless both
/// branches name the same table.
fn created_stream(v: &Value) -> Option<&str> {
    let Value::Tagged(t) = v else { return None };
    let branches = t.value.as_sequence().filter(|_| t.tag == "If")?;
    let created = intrinsic(&branches[1], "GetAtt")?.strip_suffix(".StreamArn")?;
    let attached = intrinsic(&branches[2], "Ref")?.strip_suffix("StreamArn")?;
    let condition = branches[0].as_str()?;
    (created.strip_suffix("Table") == Some(attached) && condition == format!("Create{created}"))
        .then_some(created)
}

/// Every statement of a role's inline policies.
fn statements<'a>(t: &'a Value, role: &str) -> Vec<&'a Value> {
    t["Resources"][role]["Properties"]["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_sequence().unwrap())
        .collect()
}

fn keys(table: &Value) -> Vec<(String, String)> {
    table["Properties"]["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// cfn-lint with the serverless rules (cfn-lint-serverless): clean but for
/// the false positives the template documents where it ignores them.
/// Linted as written and with fixed egress IPs off, in one zone and in two.
#[test]
fn cfn_lint_passes() {
    let lint = workspace_root().join(".venv/bin/cfn-lint");
    assert!(lint.exists(), "run scripts/bootstrap.sh (make test does)");
    for parameters in [None, Some("0"), Some("1"), Some("2")] {
        let mut command = std::process::Command::new(&lint);
        command
            .arg(workspace_root().join("template.yaml"))
            .args(["--append-rules", "cfn_lint_serverless.rules"]);
        if let Some(zones) = parameters {
            command.args(["--parameters", &format!("FixedEgressIps={zones}")]);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "cfn-lint (FixedEgressIps {parameters:?}):\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// `sam validate --lint` (the SAM CLI, pinned in scripts/requirements-sam.txt):
/// the transform accepts the template and its lint is clean. It needs a
/// region, no credentials.
#[test]
fn sam_validate_lint_passes() {
    let sam = workspace_root().join(".venv/sam/bin/sam");
    assert!(sam.exists(), "run scripts/bootstrap.sh (make test does)");
    let out = std::process::Command::new(sam)
        .args(["validate", "--lint", "--template-file"])
        .arg(workspace_root().join("template.yaml"))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("SAM_CLI_TELEMETRY", "0")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "sam validate --lint:\n{said}");
    assert!(said.contains("is a valid SAM Template"), "{said}");
}

#[test]
fn tables_match_the_code_and_stream_both_images() {
    let t = template();
    let r = &t["Resources"];
    let router = &r["RouterFunction"]["Properties"];
    let streams: Vec<&str> = router["Events"]
        .as_mapping()
        .unwrap()
        .values()
        .map(|e| created_stream(&e["Properties"]["Stream"]).unwrap_or("?"))
        .collect();
    for table in CaseTable::ALL {
        let res = &r[table.template_resource()];
        let schema = table.key_schema();
        let kind = |k: KeyType| match k {
            KeyType::S => "S",
            KeyType::N => "N",
        };
        let mut want = vec![(schema.partition.0.to_owned(), "HASH".to_owned())];
        let mut attrs = vec![(
            schema.partition.0.to_owned(),
            kind(schema.partition.1).to_owned(),
        )];
        if let Some((name, k)) = schema.sort {
            want.push((name.to_owned(), "RANGE".to_owned()));
            attrs.push((name.to_owned(), kind(k).to_owned()));
        }
        assert_eq!(keys(res), want, "{table:?}");
        let declared: Vec<(String, String)> = res["Properties"]["AttributeDefinitions"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["AttributeName"].as_str().unwrap().to_owned(),
                    a["AttributeType"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(declared, attrs, "{table:?}");
        assert_eq!(
            intrinsic(&res["Properties"]["TableName"], "Sub"),
            Some(format!("hubhooks-${{Stage}}-{}", table.suffix()).as_str())
        );
        assert_eq!(
            res["Properties"]["StreamSpecification"]["StreamViewType"].as_str(),
            Some("NEW_AND_OLD_IMAGES"),
            "{table:?}"
        );
        // Created or attached, the router reads the table the outputs name.
        assert_eq!(
            router["Environment"]["Variables"][table.env_var()],
            t["Outputs"][format!("{}Name", table.template_resource())]["Value"],
            "{table:?}"
        );
        assert!(
            streams.contains(&table.template_resource()),
            "{table:?} has no stream mapping: {streams:?}"
        );
    }
    assert_eq!(streams.len(), CaseTable::ALL.len());
    assert_eq!(
        keys(&r["ConfigTable"]),
        vec![(CONFIG_KEY.into(), "HASH".into())]
    );
}

#[test]
fn a_poison_record_cannot_block_a_shard_and_failures_are_dead_lettered() {
    let t = template();
    let r = &t["Resources"];
    let events = r["RouterFunction"]["Properties"]["Events"]
        .as_mapping()
        .unwrap();
    assert_eq!(
        events.len(),
        CaseTable::ALL.len(),
        "one mapping per case table"
    );
    for (name, e) in events {
        let p = &e["Properties"];
        assert_eq!(
            p["BisectBatchOnFunctionError"].as_bool(),
            Some(true),
            "{name:?}"
        );
        assert!(p["MaximumRetryAttempts"].as_u64().is_some(), "{name:?}");
        assert!(
            p["MaximumRecordAgeInSeconds"].as_u64().is_some(),
            "{name:?}"
        );
        assert_eq!(
            p["FunctionResponseTypes"][0].as_str(),
            Some("ReportBatchItemFailures")
        );
        assert_eq!(
            p["DestinationConfig"]["OnFailure"]["Type"].as_str(),
            Some("SQS")
        );
    }
    let sender = &r["SenderFunction"]["Properties"]["Events"]["Deliveries"]["Properties"];
    assert_eq!(
        sender["FunctionResponseTypes"][0].as_str(),
        Some("ReportBatchItemFailures")
    );
    // Batches of 100 (Lambda requires a batching window above 10).
    assert_eq!(sender["BatchSize"].as_u64(), Some(100));
    assert!(sender["MaximumBatchingWindowInSeconds"].as_u64() >= Some(1));
    assert!(!r["DeliveryQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"].is_null());
    for f in ["RouterFunction", "SenderFunction"] {
        assert_eq!(
            r[f]["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda")
        );
    }
}

/// The functions' environment as the template sets it: `!Ref` of a
/// parameter is its default, any other reference a placeholder.
fn environment(t: &Value, function: &str) -> std::collections::HashMap<String, String> {
    let params = &t["Parameters"];
    let vars = t["Resources"][function]["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap();
    vars.iter()
        .map(|(k, v)| {
            let value = match intrinsic(v, "Ref") {
                Some(p) if !params[p].is_null() => match &params[p]["Default"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => panic!("{p}: {other:?}"),
                },
                _ => "from-the-stack".to_owned(),
            };
            (k.as_str().unwrap().to_owned(), value)
        })
        .collect()
}

#[test]
fn the_functions_get_every_setting_they_read() {
    use hubhooks::settings::{ApiSettings, RouterSettings, SenderSettings};
    let t = template();
    let api = ApiSettings::from(&environment(&t, "ApiFunction")).unwrap();
    assert_eq!(api.egress, hubhooks::egress::AllowList::default());
    let router = RouterSettings::from(&environment(&t, "RouterFunction")).unwrap();
    assert_eq!(router.config_ttl, std::time::Duration::from_secs(30));
    let sender = SenderSettings::from(&environment(&t, "SenderFunction")).unwrap();
    assert_eq!(
        sender.retry_schedule,
        hubhooks::retry::RetrySchedule::default()
    );
    assert_eq!(sender.egress, hubhooks::egress::AllowList::default());
    // The queue's redrive stays a safety net above any attempt limit.
    let min = t["Parameters"]["MaxReceiveCount"]["MinValue"]
        .as_u64()
        .unwrap();
    assert!(min > u64::from(hubhooks::config::MAX_ATTEMPTS_LIMIT));
}

#[test]
fn alarms_watch_dead_letters_lag_errors_and_throttles_and_the_attempt_log_is_keyed_as_the_code_writes_it()
 {
    let t = template();
    let r = &t["Resources"];
    let alarms: Vec<(String, String)> = r
        .as_mapping()
        .unwrap()
        .values()
        .filter(|v| v["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .map(|a| {
            (
                a["Properties"]["Namespace"].as_str().unwrap().to_owned(),
                a["Properties"]["MetricName"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for want in [
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        // Deliveries put back because something of ours could not be read.
        ("hubhooks", "Unreadable"),
    ] {
        assert!(
            alarms.iter().any(|(n, m)| (n.as_str(), m.as_str()) == want),
            "{want:?} in {alarms:?}"
        );
    }
    assert_eq!(alarms.len(), 9);
    assert_eq!(
        r["Unreadable"]["Properties"]["Dimensions"][0]["Value"].as_str(),
        Some("sender"),
        "the dimension lambda::serve gives the sender's metrics"
    );
    let table = &r["DeliveryLogTable"]["Properties"];
    let keys: Vec<&str> = table["KeySchema"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| k["AttributeName"].as_str().unwrap())
        .collect();
    use hubhooks::tables::attempt_log as l;
    assert_eq!(keys, [l::PARTITION_KEY, l::SORT_KEY]);
    // No index: a success costs its share of one page write.
    assert!(table["GlobalSecondaryIndexes"].is_null());
    // The sender writes the log in BatchWriteItem calls, and counts
    // `maxPerSecond` and held-back receipts in it; it never reads or
    // overwrites pages.
    let mut log_access: Vec<&Value> = statements(&t, "SenderRole")
        .into_iter()
        .filter(|st| intrinsic(&st["Resource"], "GetAtt") == Some("DeliveryLogTable.Arn"))
        .flat_map(|st| st["Action"].as_sequence().unwrap().iter())
        .collect();
    log_access.sort_by_key(|v| v.as_str());
    assert_eq!(
        log_access,
        [
            &Value::from("dynamodb:BatchWriteItem"),
            &Value::from("dynamodb:GetItem"),
            &Value::from("dynamodb:UpdateItem")
        ]
    );
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(l::TTL)
    );
}

/// Every environment of samconfig.toml deploys: each of its
/// parameter overrides names a template parameter and meets its type,
/// MinValue/MaxValue, AllowedPattern and AllowedValues. (prod once gave
/// MaxReceiveCount=8 against MinValue 21: that stack could not deploy.)
#[test]
fn every_samconfig_environment_meets_the_templates_parameter_constraints() {
    let text = std::fs::read_to_string(workspace_root().join("samconfig.toml")).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    let template = template();
    let params = &template["Parameters"];
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut attached = Vec::new();
    for (env, sections) in &config {
        let Some(overrides) = sections
            .get("deploy")
            .and_then(|d| d.get("parameters"))
            .and_then(|p| p.get("parameter_overrides"))
        else {
            continue;
        };
        let pairs: Vec<String> = match overrides {
            toml::Value::String(s) => s.split_whitespace().map(str::to_owned).collect(),
            toml::Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            other => panic!("{env}: parameter_overrides is {other}"),
        };
        let streams = pairs.iter().filter(|p| p.contains("StreamArn=")).count();
        attached.push((env.clone(), streams));
        for pair in pairs {
            let (name, value) = pair.split_once('=').unwrap_or((&pair, ""));
            let value = value.trim_matches('"');
            let p = &params[name];
            if p.is_null() {
                problems.push(format!("{env}: {name} is not a template parameter"));
                continue;
            }
            checked += 1;
            if p["Type"].as_str() == Some("Number") {
                let Ok(n) = value.parse::<f64>() else {
                    problems.push(format!("{env}: {name}={value} is not a number"));
                    continue;
                };
                if let Some(min) = p["MinValue"].as_f64()
                    && n < min
                {
                    problems.push(format!("{env}: {name}={value} is below MinValue {min}"));
                }
                if let Some(max) = p["MaxValue"].as_f64()
                    && n > max
                {
                    problems.push(format!("{env}: {name}={value} is above MaxValue {max}"));
                }
            }
            if let Some(pattern) = p["AllowedPattern"].as_str()
                && !regex::Regex::new(pattern).unwrap().is_match(value)
            {
                problems.push(format!("{env}: {name}={value} does not match {pattern}"));
            }
            if let Some(allowed) = p["AllowedValues"].as_sequence()
                && !allowed.iter().any(|a| a.as_str() == Some(value))
            {
                problems.push(format!("{env}: {name}={value} is not one of {allowed:?}"));
            }
        }
    }
    assert!(checked >= 2, "the overrides were read ({checked})");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Both modes are shown: dev creates its case tables, prod attaches to
    // all six of the hub's.
    attached.sort();
    assert_eq!(
        attached,
        [
            ("default".to_owned(), 0),
            ("prod".to_owned(), CaseTable::ALL.len())
        ]
    );
}

/// What keeps state survives a stack deletion or replacement;
/// both functions log to groups with a retention and are traced; a slow
/// receiver cannot take the account's whole Lambda concurrency.
#[test]
fn stateful_resources_are_retained_and_functions_are_bounded_logged_and_traced() {
    let t = template();
    let resources = t["Resources"].as_mapping().unwrap();
    for (name, r) in resources {
        let kind = r["Type"].as_str().unwrap_or("");
        if matches!(
            kind,
            "AWS::DynamoDB::Table" | "AWS::SQS::Queue" | "AWS::S3::Bucket"
        ) {
            assert_eq!(r["DeletionPolicy"].as_str(), Some("Retain"), "{name:?}");
            assert_eq!(
                r["UpdateReplacePolicy"].as_str(),
                Some("Retain"),
                "{name:?}"
            );
        }
    }
    assert_eq!(t["Globals"]["Function"]["Tracing"].as_str(), Some("Active"));
    // Lambda's logging controls, read by the runtime's subscriber.
    let logging = &t["Globals"]["Function"]["LoggingConfig"];
    assert_eq!(logging["LogFormat"].as_str(), Some("JSON"));
    assert_eq!(
        intrinsic(&logging["ApplicationLogLevel"], "!Ref"),
        Some("LogLevel")
    );
    for function in ["RouterFunction", "SenderFunction"] {
        let group = resources
            .values()
            .find(|r| {
                r["Type"].as_str() == Some("AWS::Logs::LogGroup")
                    && intrinsic(&r["Properties"]["LogGroupName"], "!Sub")
                        == Some(&format!("/aws/lambda/${{{function}}}"))
            })
            .unwrap_or_else(|| panic!("no log group for {function}"));
        assert_eq!(
            intrinsic(&group["Properties"]["RetentionInDays"], "!Ref"),
            Some("LogRetentionDays")
        );
    }
    let scaling = &t["Resources"]["SenderFunction"]["Properties"]["Events"]["Deliveries"]["Properties"]
        ["ScalingConfig"]["MaximumConcurrency"];
    assert_eq!(intrinsic(scaling, "!Ref"), Some("SenderMaxConcurrency"));
    assert_eq!(
        t["Parameters"]["SenderMaxConcurrency"]["MinValue"].as_u64(),
        Some(2)
    );
}

/// The management API: an HTTP API whose stage throttles by the template's
/// parameters and writes JSON access logs to a group with a retention, in
/// front of the api function (every /v1 route).
#[test]
fn the_management_api_is_throttled_logged_as_json_and_routes_v1_to_the_api_function() {
    let t = template();
    let api = &t["Resources"]["ManagementApi"];
    assert_eq!(api["Type"], "AWS::Serverless::HttpApi");
    let p = &api["Properties"];
    let throttle = &p["DefaultRouteSettings"];
    assert_eq!(
        intrinsic(&throttle["ThrottlingBurstLimit"], "Ref"),
        Some("ApiThrottleBurst")
    );
    assert_eq!(
        intrinsic(&throttle["ThrottlingRateLimit"], "Ref"),
        Some("ApiThrottleRate")
    );
    let format: serde_json::Value =
        serde_json::from_str(p["AccessLogSettings"]["Format"].as_str().unwrap()).unwrap();
    for field in ["requestId", "status", "path", "latencyMs"] {
        assert!(format.get(field).is_some(), "{field}");
    }
    // The key never reaches the access log: no header is logged.
    assert!(!format.to_string().contains("header"), "{format}");
    let arn = intrinsic(&p["AccessLogSettings"]["DestinationArn"], "GetAtt").unwrap();
    let group = arn.strip_suffix(".Arn").unwrap();
    assert_eq!(
        intrinsic(
            &t["Resources"][group]["Properties"]["RetentionInDays"],
            "Ref"
        ),
        Some("LogRetentionDays")
    );
    let event = &t["Resources"]["ApiFunction"]["Properties"]["Events"]["Requests"];
    assert_eq!(event["Type"], "HttpApi");
    assert_eq!(
        intrinsic(&event["Properties"]["ApiId"], "Ref"),
        Some("ManagementApi")
    );
    assert_eq!(event["Properties"]["Path"], "/v1/{proxy+}");
    // Operators' routes are IAM-signed at the gateway; the party routes
    // take a party key in the function.
    let admin = &t["Resources"]["ApiFunction"]["Properties"]["Events"]["Admin"]["Properties"];
    assert_eq!(admin["Path"], "/v1/admin/{proxy+}");
    assert_eq!(intrinsic(&admin["ApiId"], "Ref"), Some("ManagementApi"));
    assert_eq!(admin["Auth"]["Authorizer"], "AWS_IAM");
    assert!(event["Properties"].get("Auth").is_none());
}
