//! `hubhooks attempts`: the attempt log, by case, by subscription, by
//! delivery, or the failures of a recent period. The reading is
//! `hubhooks::adapters::attempt_log`'s; here the command's forms.
use anyhow::{Result, bail};
use hubhooks::attempt::AttemptRecord;

pub use hubhooks::adapters::attempt_log::{
    DEFAULT_SEARCH_DAYS, Filter, LONGEST_BATCH, Pairs, logged, query,
};

/// Parses `90s`, `15m`, `1h`, `2d`.
pub fn parse_since(s: &str) -> Result<chrono::Duration> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let Ok(n) = n.parse::<i64>() else {
        bail!("`{s}`: {SINCE_FORMS}");
    };
    let span = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" | "" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => bail!("`{s}`: the unit must be s, m, h or d; {SINCE_FORMS}"),
    };
    // A span no time can be that far back from.
    match span {
        Some(span) if span <= chrono::Duration::days(MAX_LOOKBACK_DAYS) => Ok(span),
        _ => bail!("`{s}`: at most {MAX_LOOKBACK_DAYS} days back"),
    }
}

/// What `--since` accepts, said wherever it refuses one.
const SINCE_FORMS: &str =
    "a span back from now is a whole number and a unit: 90s, 30m, 2h, 7d (a bare number is hours)";

/// The longest span a `--since` may name (a century): past it a time
/// overflows, and no attempt log keeps anything that old.
pub const MAX_LOOKBACK_DAYS: i64 = 36_525;

/// A text table, one attempt per line.
pub fn render(attempts: &[AttemptRecord]) -> String {
    let rows = attempts.iter().map(|a| {
        let outcome = serde_json::to_value(a.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let detail = a.error.clone().unwrap_or_else(|| a.excerpt.clone());
        let detail: String = detail.chars().take(80).collect();
        vec![
            a.at.to_contract_string(),
            a.delivery_id.to_string(),
            a.subscription_id.to_string(),
            a.event_type.as_str().to_owned(),
            a.attempt.to_string(),
            outcome,
            a.status
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            a.latency_ms
                .map(|l| l.to_string())
                .unwrap_or_else(|| "-".into()),
            format!(
                "{}{}",
                if a.test { "[test] " } else { "" },
                detail.replace('\n', " ")
            ),
        ]
    });
    crate::output::table(
        &[
            "TIME",
            "DELIVERY",
            "SUBSCRIPTION",
            "TYPE",
            "TRY",
            "OUTCOME",
            "STATUS",
            "MS",
            "ERROR / ANSWER",
        ],
        rows,
    )
}
