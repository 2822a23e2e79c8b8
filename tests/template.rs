//! template.yaml: lints clean and declares what the code assumes.
use hubhooks::tables::{CASES_KEY, CONFIG_KEY, STATUSES_PARTITION_KEY, STATUSES_SORT_KEY};
use hubhooks_tests::workspace_root;
use serde_yaml::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    serde_yaml::from_str(&text).unwrap()
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

#[test]
fn cfn_lint_passes() {
    let lint = workspace_root().join(".venv/bin/cfn-lint");
    assert!(lint.exists(), "run scripts/bootstrap.sh (make test does)");
    let out = std::process::Command::new(lint)
        .arg(workspace_root().join("template.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cfn-lint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tables_match_the_code_and_stream_both_images() {
    let t = template();
    let r = &t["Resources"];
    assert_eq!(
        keys(&r["CasesTable"]),
        vec![(CASES_KEY.into(), "HASH".into())]
    );
    assert_eq!(
        keys(&r["CaseStatusesTable"]),
        vec![
            (STATUSES_PARTITION_KEY.into(), "HASH".into()),
            (STATUSES_SORT_KEY.into(), "RANGE".into())
        ]
    );
    assert_eq!(
        keys(&r["ConfigTable"]),
        vec![(CONFIG_KEY.into(), "HASH".into())]
    );
    for table in ["CasesTable", "CaseStatusesTable"] {
        assert_eq!(
            r[table]["Properties"]["StreamSpecification"]["StreamViewType"].as_str(),
            Some("NEW_AND_OLD_IMAGES"),
            "{table}"
        );
    }
}

#[test]
fn a_poison_record_cannot_block_a_shard_and_failures_are_dead_lettered() {
    let t = template();
    let r = &t["Resources"];
    let events = r["RouterFunction"]["Properties"]["Events"]
        .as_mapping()
        .unwrap();
    assert_eq!(events.len(), 2, "one mapping per case table");
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
    assert_eq!(sender["BatchSize"].as_u64(), Some(10));
    assert!(!r["DeliveryQueue"]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"].is_null());
    for f in ["RouterFunction", "SenderFunction"] {
        assert_eq!(
            r[f]["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda")
        );
    }
}
