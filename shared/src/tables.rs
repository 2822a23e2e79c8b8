//! Names and key attributes of the tables, shared by the adapters and the
//! local provisioning (template.yaml declares the same; a test checks it).

/// `Cases`: one item per case. Partition key `guid` (S).
pub const CASES_KEY: &str = "guid";
/// `CaseStatuses`: one item per status record. Partition key `caseId` (N),
/// sort key `id` (N), so a case's history is one Query in id order.
pub const STATUSES_PARTITION_KEY: &str = "caseId";
pub const STATUSES_SORT_KEY: &str = "id";
/// Config table: partition key `id` (S); `kind` tells the item type.
pub const CONFIG_KEY: &str = "id";

/// The physical table names of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    pub cases: String,
    pub case_statuses: String,
    pub config: String,
}

impl TableNames {
    /// The names the template and the local stack use: `<prefix>-cases`, …
    pub fn with_prefix(prefix: &str) -> Self {
        TableNames {
            cases: format!("{prefix}-cases"),
            case_statuses: format!("{prefix}-case-statuses"),
            config: format!("{prefix}-config"),
        }
    }
}

/// Which case table a stream record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseTable {
    Cases,
    CaseStatuses,
}

impl TableNames {
    pub fn case_table(&self, name: &str) -> Option<CaseTable> {
        if name == self.cases {
            Some(CaseTable::Cases)
        } else if name == self.case_statuses {
            Some(CaseTable::CaseStatuses)
        } else {
            None
        }
    }
}

/// The table name inside a table or stream ARN
/// (`arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`).
pub fn table_from_arn(arn: &str) -> Option<&str> {
    let rest = arn.split_once(":table/")?.1;
    Some(rest.split('/').next().unwrap_or(rest)).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_name_from_stream_arn() {
        assert_eq!(
            table_from_arn(
                "arn:aws:dynamodb:eu-west-1:123456789012:table/hubhooks-dev-cases/stream/2026-11-22T08:01:29.604"
            ),
            Some("hubhooks-dev-cases")
        );
        assert_eq!(table_from_arn("arn:aws:sqs:eu-west-1:1:q"), None);
    }
}
