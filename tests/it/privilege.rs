//! Least privilege, read off the translated template: every action a
//! function's role grants is one its code (or its event source mappings,
//! or the Lambda runtime) calls, and no resource is a wildcard where a
//! stack or parameter ARN can be named.
use hubhooks_tests::rehearsal::translated_template;
use hubhooks_tests::workspace_root;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Who calls an action a role grants.
#[derive(Debug, Clone, Copy)]
enum Caller {
    /// The function's own code: SDK methods, each found in this file.
    Code(&'static str, &'static [&'static str]),
    /// Lambda's event source mapping, polling or dead-lettering as the
    /// function's role.
    EventSourceMapping,
    /// The Lambda runtime (logs) and the X-Ray daemon.
    Runtime,
    /// Lambda placing the function in its VPC (FixedEgressIps): the
    /// network-interface actions of AWSLambdaVPCAccessExecutionRole.
    VpcPlacement,
}
use Caller::*;

const DYNAMO: &str = "shared/src/adapters/dynamo.rs";
const SQS: &str = "shared/src/adapters/sqs.rs";
const S3: &str = "shared/src/adapters/s3.rs";
const SNS: &str = "shared/src/adapters/sns.rs";
const CONFIG_WRITER: &str = "shared/src/adapters/config_writer.rs";
const ATTEMPT_LOG: &str = "shared/src/adapters/attempt_log.rs";
const PARTY_KEYS: &str = "shared/src/adapters/party_keys.rs";
const SQS_MAILBOX: &str = "shared/src/adapters/sqs_mailbox.rs";

/// The SDK calls per function: the list this test holds the roles to.
fn calls(role: &str) -> BTreeMap<&'static str, Caller> {
    let runtime = [
        ("logs:CreateLogStream", Runtime),
        ("logs:PutLogEvents", Runtime),
        ("xray:PutTraceSegments", Runtime),
        ("xray:PutTelemetryRecords", Runtime),
    ];
    let own: Vec<(&str, Caller)> = match role {
        "RouterRole" => vec![
            ("dynamodb:DescribeStream", EventSourceMapping),
            ("dynamodb:GetRecords", EventSourceMapping),
            ("dynamodb:GetShardIterator", EventSourceMapping),
            ("dynamodb:ListStreams", EventSourceMapping),
            // A record's case (DynamoCaseStore::case), its statuses.
            ("dynamodb:GetItem", Code(DYNAMO, &["get_item"])),
            ("dynamodb:Query", Code(DYNAMO, &["query"])),
            // The config table, cached.
            ("dynamodb:Scan", Code(DYNAMO, &["scan"])),
            // Deliveries in batches; the mappings' on-failure destination.
            ("sqs:SendMessage", Code(SQS, &["send_message_batch"])),
            ("s3:PutObject", Code(S3, &["put_object"])),
        ],
        "SenderRole" => vec![
            ("sqs:ReceiveMessage", EventSourceMapping),
            ("sqs:DeleteMessage", EventSourceMapping),
            ("sqs:GetQueueAttributes", EventSourceMapping),
            // Deferrals and dead letters; a retry's backoff.
            ("sqs:SendMessage", Code(SQS, &["send_message"])),
            (
                "sqs:ChangeMessageVisibility",
                Code(SQS, &["change_message_visibility"]),
            ),
            // Secrets, held-back receipts.
            ("dynamodb:GetItem", Code(DYNAMO, &["get_item"])),
            // The config table, cached.
            ("dynamodb:Scan", Code(DYNAMO, &["scan"])),
            // Disable after 410 or a streak, streak marks, counters.
            ("dynamodb:UpdateItem", Code(DYNAMO, &["update_item"])),
            // The attempt log's pages.
            (
                "dynamodb:BatchWriteItem",
                Code(DYNAMO, &["batch_write_item"]),
            ),
            ("s3:GetObject", Code(S3, &["get_object"])),
            ("sns:Publish", Code(SNS, &["publish"])),
            ("ec2:CreateNetworkInterface", VpcPlacement),
            ("ec2:DescribeNetworkInterfaces", VpcPlacement),
            ("ec2:DeleteNetworkInterface", VpcPlacement),
            ("ec2:AssignPrivateIpAddresses", VpcPlacement),
            ("ec2:UnassignPrivateIpAddresses", VpcPlacement),
        ],
        "ApiRole" => vec![
            // A party key by id; a subscription read before a write; a
            // secret read before its rotation.
            ("dynamodb:GetItem", Code(CONFIG_WRITER, &["get_item"])),
            // A party's subscriptions (the config table).
            ("dynamodb:Scan", Code(DYNAMO, &["scan"])),
            // Conditional writes of subscriptions; generated, rotated and
            // given secrets.
            ("dynamodb:PutItem", Code(CONFIG_WRITER, &["put_item"])),
            ("dynamodb:DeleteItem", Code(CONFIG_WRITER, &["delete_item"])),
            // A party's deliveries (the attempt log).
            ("dynamodb:Query", Code(ATTEMPT_LOG, &["query"])),
            // A key's last use; enable and disable (operational state).
            ("dynamodb:UpdateItem", Code(PARTY_KEYS, &["update_item"])),
            // Test sends, resends and replays (the delivery queue).
            ("sqs:SendMessage", Code(SQS, &["send_message_batch"])),
            // Dead letters listed and replayed (one pass per request).
            (
                "sqs:ReceiveMessage",
                Code(SQS_MAILBOX, &["receive_message"]),
            ),
            ("sqs:DeleteMessage", Code(SQS_MAILBOX, &["delete_message"])),
            (
                "sqs:ChangeMessageVisibility",
                Code(SQS_MAILBOX, &["change_message_visibility_batch"]),
            ),
            (
                "sqs:GetQueueAttributes",
                Code(SQS_MAILBOX, &["get_queue_attributes"]),
            ),
        ],
        other => panic!("no call list for {other}: add one"),
    };
    runtime.into_iter().chain(own).collect()
}

fn template() -> Value {
    let path = translated_template().unwrap();
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every (role, statement) the template grants: inline policies of each
/// role and AWS::IAM::Policy resources attached to one.
fn grants(t: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (id, res) in t["Resources"].as_object().unwrap() {
        let props = &res["Properties"];
        match res["Type"].as_str().unwrap() {
            "AWS::IAM::Role" => {
                for p in props["Policies"].as_array().into_iter().flatten() {
                    for st in p["PolicyDocument"]["Statement"].as_array().unwrap() {
                        out.push((id.clone(), st.clone()));
                    }
                }
                let managed = &props["ManagedPolicyArns"];
                assert!(
                    managed.is_null() || managed.as_array().is_some_and(|a| a.is_empty()),
                    "{id} attaches managed policies {managed}: their actions cannot be checked"
                );
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
                for role in props["Roles"].as_array().unwrap() {
                    let role = role["Ref"].as_str().expect("roles by Ref");
                    for st in props["PolicyDocument"]["Statement"].as_array().unwrap() {
                        out.push((role.to_owned(), st.clone()));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

/// A resource's problem, if any: `*` outright, or a wildcard that is not
/// anchored below a resource this stack or its parameters name.
fn wildcard(resource: &Value) -> Option<String> {
    match resource {
        Value::String(s) if s.contains('*') => Some(format!("literal {s:?}")),
        Value::Object(o) => match o.iter().next() {
            Some((k, v)) if k == "Fn::Sub" => {
                let text = match v {
                    Value::Array(a) => a[0].as_str().unwrap_or_default(),
                    other => other.as_str().unwrap_or_default(),
                };
                let star = text.find('*')?;
                // The part before the wildcard must name something of ours:
                // a stack resource, a parameter or the stage's names.
                let anchored = text[..star].contains("${Table}")
                    || text[..star].contains(".Arn}")
                    || text[..star].contains("hubhooks-${Stage}-");
                (!anchored).then(|| format!("unanchored wildcard {text:?}"))
            }
            Some((k, v)) if k == "Fn::If" => {
                let a = v.as_array().unwrap();
                wildcard(&a[1]).or_else(|| wildcard(&a[2]))
            }
            _ => None,
        },
        _ => None,
    }
}

#[test]
fn every_granted_action_is_one_the_code_calls_and_no_resource_is_a_needless_wildcard() {
    let t = template();
    let grants = grants(&t);
    let roles: BTreeSet<&str> = grants.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        roles,
        BTreeSet::from(["ApiRole", "RouterRole", "SenderRole"])
    );
    let mut problems = Vec::new();
    let mut granted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (role, st) in &grants {
        assert_eq!(st["Effect"], "Allow", "{role}: {st}");
        let sid = st["Sid"].as_str().unwrap_or("?");
        let actions: Vec<String> = list(&st["Action"])
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        let known = calls(role);
        for a in &actions {
            if !known.contains_key(a.as_str()) {
                problems.push(format!("{role}/{sid} grants {a}, which nothing calls"));
            }
            granted.entry(role).or_default().insert(a.clone());
        }
        for r in list(&st["Resource"]) {
            // X-Ray has no resource-level permissions: `*` is the only form.
            if r == "*" && actions.iter().all(|a| a.starts_with("xray:")) {
                continue;
            }
            // Nor does Lambda's placement in a VPC: the interfaces it makes
            // do not exist before it asks (AWS's managed policy uses `*`).
            if r == "*"
                && actions
                    .iter()
                    .all(|a| matches!(calls(role).get(a.as_str()), Some(VpcPlacement)))
            {
                continue;
            }
            if let Some(why) = wildcard(&r) {
                problems.push(format!("{role}/{sid} on {why}"));
            }
        }
    }
    // The list itself is checked against the code and the roles: an entry
    // no role grants, or a call the adapter no longer makes, is stale.
    for role in ["ApiRole", "RouterRole", "SenderRole"] {
        for (action, caller) in calls(role) {
            if !granted[role].contains(action) {
                problems.push(format!("{role} does not grant {action} ({caller:?})"));
            }
            if let Code(file, methods) = caller {
                let code = std::fs::read_to_string(workspace_root().join(file)).unwrap();
                for m in methods {
                    if !code.contains(&format!(".{m}()")) {
                        problems.push(format!("{file} no longer calls .{m}() ({action})"));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself: the forms it must refuse and the ones it accepts.
#[test]
fn the_wildcard_check_refuses_unanchored_forms() {
    use serde_json::json;
    let refused = [
        json!("*"),
        json!("arn:aws:dynamodb:*:*:table/*"),
        json!({"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:*"}),
        json!({"Fn::If": ["C", {"Fn::GetAtt": ["T", "Arn"]}, "arn:aws:dynamodb:*:*:table/*"]}),
    ];
    for r in refused {
        assert!(wildcard(&r).is_some(), "{r}");
    }
    let accepted = [
        json!({"Fn::GetAtt": ["ConfigTable", "Arn"]}),
        json!({"Fn::Sub": "${PayloadBucket.Arn}/bodies/*"}),
        json!({"Fn::Sub": ["${Table}/stream/*", {"Table": {"Ref": "X"}}]}),
        json!({"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/hubhooks-${Stage}-router:*"}),
        json!({"Ref": "CasesStreamArn"}),
    ];
    for r in accepted {
        assert_eq!(wildcard(&r), None, "{r}");
    }
}
