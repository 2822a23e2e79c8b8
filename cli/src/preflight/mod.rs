//! `hubhooks preflight`: whether a stage is fit to deliver, one check a
//! line, each with what to do when it is not. Reading is done here; each
//! verdict is a pure function of what was read (table tests below).
use crate::deployment::Deployment;
use anyhow::Result;
use aws_config::SdkConfig;
use hubhooks::tables::{CaseTable, KeyType};
use serde::Serialize;

mod read;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Fail,
    /// Not applicable here (the local stack has no mappings or alarms).
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub check: String,
    pub verdict: Verdict,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn ok(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            verdict: Verdict::Ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            verdict: Verdict::Fail,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    fn skip(check: impl Into<String>, detail: impl Into<String>) -> Check {
        Check {
            check: check.into(),
            verdict: Verdict::Skip,
            detail: detail.into(),
            fix: None,
        }
    }

    /// `ok    what: detail`, and a `fix:` line under a failure.
    pub fn render(&self) -> String {
        let tag = match self.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "skip",
        };
        let mut line = format!("{tag}  {}: {}", self.check, self.detail);
        if let Some(fix) = &self.fix {
            line.push_str(&format!("\n      fix: {fix}"));
        }
        line
    }
}

/// A case table as DescribeTable shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableFacts {
    /// (attribute, HASH|RANGE, S|N), in key order.
    pub keys: Vec<(String, String, String)>,
    /// The stream's view type, when a stream is enabled.
    pub stream_view: Option<String>,
    pub stream_arn: Option<String>,
}

/// The stream view the router needs: both images.
pub const STREAM_VIEW: &str = "NEW_AND_OLD_IMAGES";

pub fn judge_table(table: CaseTable, name: &str, facts: Option<&TableFacts>) -> Check {
    let what = format!("{} table {name}", table.suffix());
    let Some(facts) = facts else {
        return Check::fail(
            what,
            "does not exist",
            "give the hub's table as its stream ARN parameter (docs/data-contract.md), or deploy without it to create one",
        );
    };
    let kind = |k: KeyType| if k == KeyType::S { "S" } else { "N" };
    let schema = table.key_schema();
    let mut want = vec![(
        schema.partition.0.to_owned(),
        "HASH".to_owned(),
        kind(schema.partition.1).to_owned(),
    )];
    if let Some((n, k)) = schema.sort {
        want.push((n.to_owned(), "RANGE".to_owned(), kind(k).to_owned()));
    }
    let show = |keys: &[(String, String, String)]| {
        keys.iter()
            .map(|(n, t, k)| format!("{n} ({k}, {t})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if facts.keys != want {
        return Check::fail(
            what,
            format!(
                "keys are {}, the router reads {}",
                show(&facts.keys),
                show(&want)
            ),
            "the data contract's key schema is required (docs/data-contract.md)",
        );
    }
    match facts.stream_view.as_deref() {
        None => Check::fail(
            what,
            "has no stream",
            format!(
                "aws dynamodb update-table --table-name {name} --stream-specification StreamEnabled=true,StreamViewType={STREAM_VIEW}, then redeploy with the new stream ARN"
            ),
        ),
        Some(STREAM_VIEW) => Check::ok(what, format!("keys {}, stream {STREAM_VIEW}", show(&want))),
        Some(other) => Check::fail(
            what,
            format!("its stream is {other}; the router needs {STREAM_VIEW}"),
            format!(
                "a stream's view cannot change in place: disable it, enable it with {STREAM_VIEW} (a new stream ARN; its other consumers must move to it), then redeploy with the new ARN (docs/data-contract.md)"
            ),
        ),
    }
}

/// An event source mapping as ListEventSourceMappings shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MappingFacts {
    pub source: String,
    pub state: String,
    pub batch_size: Option<i32>,
    pub bisect: Option<bool>,
    pub report_failures: bool,
    pub on_failure: Option<String>,
}

/// What the template sets (tests check the two agree).
pub struct MappingWant<'a> {
    pub what: String,
    pub source: &'a str,
    pub batch_size: i32,
    /// Stream mappings: bisect and an on-failure destination.
    pub on_failure: Option<&'a str>,
}

pub fn judge_mapping(want: &MappingWant, found: &[MappingFacts]) -> Check {
    let Some(m) = found.iter().find(|m| m.source == want.source) else {
        return Check::fail(
            &want.what,
            format!("no event source mapping reads {}", want.source),
            "redeploy the stack (sam deploy); if the table's stream was re-enabled, give its new ARN",
        );
    };
    let mut wrong = Vec::new();
    if m.state != "Enabled" {
        wrong.push(format!("state {}", m.state));
    }
    if m.batch_size != Some(want.batch_size) {
        wrong.push(format!(
            "batch size {:?}, not {}",
            m.batch_size, want.batch_size
        ));
    }
    if !m.report_failures {
        wrong.push("no ReportBatchItemFailures".into());
    }
    if let Some(dest) = want.on_failure {
        if m.bisect != Some(true) {
            wrong.push("no BisectBatchOnFunctionError".into());
        }
        if m.on_failure.as_deref() != Some(dest) {
            wrong.push(format!(
                "on-failure destination {:?}, not {dest}",
                m.on_failure
            ));
        }
    }
    if wrong.is_empty() {
        Check::ok(&want.what, format!("enabled, batch {}", want.batch_size))
    } else if m.state != "Enabled" && wrong.len() == 1 {
        Check::fail(
            &want.what,
            format!("the mapping is {}: nothing is read", m.state),
            "aws lambda update-event-source-mapping --uuid <its uuid> --enabled (or redeploy)",
        )
    } else {
        Check::fail(
            &want.what,
            wrong.join("; "),
            "redeploy the stack (sam deploy)",
        )
    }
}

/// Runs every check against the deployment.
pub async fn run(sdk: &SdkConfig, dep: &Deployment) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let tables = read::tables(sdk, dep).await;
    for (table, facts) in CaseTable::ALL.into_iter().zip(&tables) {
        let names = dep.tables();
        let name = names.name(table);
        checks.push(match facts {
            Ok(f) => judge_table(table, name, f.as_ref()),
            Err(e) => Check::fail(
                format!("{} table {name}", table.suffix()),
                format!("cannot be read: {e}"),
                dep.hint(),
            ),
        });
    }
    checks.extend(read::mappings(sdk, dep, &tables).await);
    checks.extend(read::config_and_secrets(sdk, dep).await);
    checks.extend(read::queues(sdk, dep).await);
    checks.push(read::alarms(sdk, dep).await);
    Ok(checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(keys: &[(&str, &str, &str)], view: Option<&str>) -> TableFacts {
        TableFacts {
            keys: keys
                .iter()
                .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
                .collect(),
            stream_view: view.map(str::to_owned),
            stream_arn: view.map(|_| "arn".to_owned()),
        }
    }

    #[test]
    fn a_case_table_needs_its_keys_and_both_images() {
        let statuses = [("caseId", "HASH", "N"), ("id", "RANGE", "N")];
        let table = CaseTable::CaseStatuses;
        let cases = [
            (
                Some(facts(&statuses, Some(STREAM_VIEW))),
                Verdict::Ok,
                "stream NEW_AND_OLD_IMAGES",
            ),
            (Some(facts(&statuses, None)), Verdict::Fail, "has no stream"),
            (
                Some(facts(&statuses, Some("KEYS_ONLY"))),
                Verdict::Fail,
                "its stream is KEYS_ONLY",
            ),
            (
                Some(facts(
                    &[("caseId", "HASH", "S"), ("id", "RANGE", "N")],
                    Some(STREAM_VIEW),
                )),
                Verdict::Fail,
                "keys are caseId (S, HASH)",
            ),
            (None, Verdict::Fail, "does not exist"),
        ];
        for (f, verdict, says) in cases {
            let c = judge_table(table, "hub-statuses", f.as_ref());
            assert_eq!(c.verdict, verdict, "{c:?}");
            assert!(c.detail.contains(says), "{c:?}");
            assert_eq!(c.fix.is_some(), verdict == Verdict::Fail);
        }
    }

    #[test]
    fn a_mapping_must_read_the_stream_enabled_with_the_templates_settings() {
        let good = MappingFacts {
            source: "s".into(),
            state: "Enabled".into(),
            batch_size: Some(100),
            bisect: Some(true),
            report_failures: true,
            on_failure: Some("q".into()),
        };
        let want = MappingWant {
            what: "m".into(),
            source: "s",
            batch_size: 100,
            on_failure: Some("q"),
        };
        let with = |f: &dyn Fn(&mut MappingFacts)| {
            let mut m = good.clone();
            f(&mut m);
            judge_mapping(&want, &[m])
        };
        assert_eq!(with(&|_| {}).verdict, Verdict::Ok);
        let disabled = with(&|m| m.state = "Disabled".into());
        assert_eq!(disabled.detail, "the mapping is Disabled: nothing is read");
        assert!(
            with(&|m| m.batch_size = Some(10))
                .detail
                .contains("batch size Some(10)")
        );
        assert!(
            with(&|m| m.on_failure = None)
                .detail
                .contains("on-failure destination None")
        );
        assert!(
            with(&|m| m.source = "old".into())
                .detail
                .contains("no event source mapping reads s")
        );
    }
}
