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
/// Secrets table: partition key `id` (S), the name config items use.
pub const SECRETS_KEY: &str = "id";

/// The attempt log (`<prefix>-delivery-log`), built so a delivery that
/// succeeds costs a fraction of a write unit (docs/benchmarks.md): no
/// index, generic keys `pk`/`sk` (S), items expiring by `ttl`.
///
/// - **Pages**: the attempts one sender invocation made for one
///   subscription, in one item: `pk` = `sub#<subscription>#<shard>`, `sk` =
///   `<at>#<page id>`, the records and envelopes packed in `page`
///   ([`crate::attempt_page`]), for a subscription with at least
///   [`crate::attempt_page::OWN_PAGE_MIN`] records in the batch.
/// - **Mixed pages**: the batch's records of the other subscriptions, in
///   one page: `pk` = `mixed#<day>#<shard>`, same `sk` and `page`. A
///   subscription's history in a window is a Query per shard of its pages
///   and of the mixed pages of the window's days.
/// - **Failures**: each failed attempt once more on its own: `pk` =
///   `failed#<day>#<shard>`, `sk` = `<at>#<delivery>#<attempt>`, the record
///   in `attempt`. Successes never touch it.
/// - **Directory**: which subscriptions have pages on a day: `pk` =
///   `subs#<day>`, `sk` = the subscription (written once a day per instance
///   and subscription); searches by case or delivery read the pages of the
///   subscriptions listed for the days of their window.
pub mod attempt_log {
    pub const PARTITION_KEY: &str = "pk";
    pub const SORT_KEY: &str = "sk";
    pub const TTL: &str = "ttl";
    /// A page's records and envelopes (B), see [`crate::attempt_page`].
    pub const PAGE: &str = "page";
    /// A page's records (L of maps) on pages written before `page`.
    pub const ATTEMPTS: &str = "attempts";
    /// A failure item's record.
    pub const ATTEMPT: &str = "attempt";
    /// A page's envelopes on pages written before `page` (B): gzip'd JSON
    /// array of the delivery queue messages attempted, once per delivery.
    pub const ENVELOPES: &str = "deliveries";
    /// Partitions per subscription and per day of failures: spreads the
    /// writes of one busy subscription (or an outage) over several.
    pub const SHARDS: u32 = 4;

    pub fn page_partition(subscription: &str, shard: u32) -> String {
        format!("sub#{subscription}#{shard}")
    }

    /// The day's pages shared by the subscriptions with few records in
    /// their batch.
    pub fn mixed_partition(day: &str, shard: u32) -> String {
        format!("mixed#{day}#{shard}")
    }

    pub fn failure_partition(day: &str, shard: u32) -> String {
        format!("failed#{day}#{shard}")
    }

    pub fn directory_partition(day: &str) -> String {
        format!("subs#{day}")
    }

    /// A subscription's `maxPerSecond` counters (sk: the epoch second).
    pub fn rate_partition(subscription: &str) -> String {
        format!("rate#{subscription}")
    }

    /// An ordered delivery's held-back receipts (sk `-`).
    pub fn held_partition(delivery_id: &str) -> String {
        format!("held#{delivery_id}")
    }

    /// A rate counter's or hold counter's count (N).
    pub const COUNT: &str = "n";

    /// `2026-11-23` of a contract timestamp `2026-11-23T01:40:20.123Z`.
    pub fn day(at: &str) -> &str {
        at.get(..10).unwrap_or(at)
    }
}

/// Every table item with its own id lives under its case: partition key
/// `guid` (S, the case guid), sort key `id` (N).
pub const CASE_CHILD_PARTITION_KEY: &str = "guid";
pub const CASE_CHILD_SORT_KEY: &str = "id";
/// `Files`: one item per upload; sort key `uploadId` (S).
pub const FILES_SORT_KEY: &str = "uploadId";

/// A key attribute's DynamoDB type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    S,
    N,
}

/// Partition key and optional sort key of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySchema {
    pub partition: (&'static str, KeyType),
    pub sort: Option<(&'static str, KeyType)>,
}

/// The case tables: their streams feed the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseTable {
    Cases,
    CaseStatuses,
    CostProposals,
    Messages,
    Files,
    Invoices,
}

impl CaseTable {
    pub const ALL: [CaseTable; 6] = [
        CaseTable::Cases,
        CaseTable::CaseStatuses,
        CaseTable::CostProposals,
        CaseTable::Messages,
        CaseTable::Files,
        CaseTable::Invoices,
    ];

    pub fn key_schema(self) -> KeySchema {
        use KeyType::*;
        let child = |sort: &'static str, kind| KeySchema {
            partition: (CASE_CHILD_PARTITION_KEY, S),
            sort: Some((sort, kind)),
        };
        match self {
            CaseTable::Cases => KeySchema {
                partition: (CASES_KEY, S),
                sort: None,
            },
            CaseTable::CaseStatuses => KeySchema {
                partition: (STATUSES_PARTITION_KEY, N),
                sort: Some((STATUSES_SORT_KEY, N)),
            },
            CaseTable::CostProposals | CaseTable::Messages | CaseTable::Invoices => {
                child(CASE_CHILD_SORT_KEY, N)
            }
            CaseTable::Files => child(FILES_SORT_KEY, S),
        }
    }

    /// `<prefix>-<suffix>` is the table's name.
    pub fn suffix(self) -> &'static str {
        match self {
            CaseTable::Cases => "cases",
            CaseTable::CaseStatuses => "case-statuses",
            CaseTable::CostProposals => "cost-proposals",
            CaseTable::Messages => "messages",
            CaseTable::Files => "files",
            CaseTable::Invoices => "invoices",
        }
    }

    /// The router's environment variable naming the table.
    pub fn env_var(self) -> &'static str {
        match self {
            CaseTable::Cases => "CASES_TABLE",
            CaseTable::CaseStatuses => "CASE_STATUSES_TABLE",
            CaseTable::CostProposals => "COST_PROPOSALS_TABLE",
            CaseTable::Messages => "MESSAGES_TABLE",
            CaseTable::Files => "FILES_TABLE",
            CaseTable::Invoices => "INVOICES_TABLE",
        }
    }

    /// The logical id of the table in template.yaml.
    pub fn template_resource(self) -> &'static str {
        match self {
            CaseTable::Cases => "CasesTable",
            CaseTable::CaseStatuses => "CaseStatusesTable",
            CaseTable::CostProposals => "CostProposalsTable",
            CaseTable::Messages => "MessagesTable",
            CaseTable::Files => "FilesTable",
            CaseTable::Invoices => "InvoicesTable",
        }
    }
}

/// The physical table names of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    /// In [`CaseTable::ALL`] order, one per table.
    case_tables: Vec<String>,
    pub config: String,
}

impl TableNames {
    /// The names the template and the local stack use: `<prefix>-cases`, …
    pub fn with_prefix(prefix: &str) -> Self {
        TableNames {
            case_tables: CaseTable::ALL
                .iter()
                .map(|t| format!("{prefix}-{}", t.suffix()))
                .collect(),
            config: format!("{prefix}-config"),
        }
    }

    /// Names given one by one (the Lambda's environment).
    pub fn try_new<E>(
        name: impl FnMut(CaseTable) -> Result<String, E>,
        config: String,
    ) -> Result<Self, E> {
        Ok(TableNames {
            case_tables: CaseTable::ALL
                .into_iter()
                .map(name)
                .collect::<Result<_, E>>()?,
            config,
        })
    }

    pub fn name(&self, table: CaseTable) -> &str {
        let i = CaseTable::ALL
            .iter()
            .position(|t| *t == table)
            .unwrap_or_default();
        &self.case_tables[i]
    }

    pub fn cases(&self) -> &str {
        self.name(CaseTable::Cases)
    }

    pub fn case_statuses(&self) -> &str {
        self.name(CaseTable::CaseStatuses)
    }

    /// Which case table `name` is, if any.
    pub fn case_table(&self, name: &str) -> Option<CaseTable> {
        CaseTable::ALL
            .into_iter()
            .zip(&self.case_tables)
            .find(|(_, n)| n.as_str() == name)
            .map(|(t, _)| t)
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
