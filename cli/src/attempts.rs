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

/// How much of an error or answer a table line shows unless `--wide`.
const DETAIL_CHARS: usize = 80;

/// A text table, one attempt per line; `wide` shows each error or answer
/// whole (else its first 80 characters, `…` marking the cut).
pub fn render(attempts: &[AttemptRecord], wide: bool) -> String {
    let rows = attempts.iter().map(|a| {
        let outcome = a.outcome.as_str().to_owned();
        let detail = a.error.clone().unwrap_or_else(|| a.excerpt.clone());
        let detail = if wide || detail.chars().count() <= DETAIL_CHARS {
            detail
        } else {
            format!("{}…", detail.chars().take(DETAIL_CHARS).collect::<String>())
        };
        vec![
            a.at.to_contract_string(),
            a.delivery_id.to_string(),
            a.subscription_id.to_string(),
            if a.case_guid.is_empty() {
                "-".to_owned()
            } else {
                a.case_guid.to_string()
            },
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
            "CASE",
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

#[cfg(test)]
mod render_tests {
    use super::*;
    use hubhooks::attempt::AttemptOutcome;

    fn record(error: &str, case: &str) -> AttemptRecord {
        AttemptRecord {
            delivery_id: hubhooks::ids::DeliveryId::new("d-1".to_owned()),
            attempt: 2,
            subscription_id: hubhooks::ids::SubscriptionId::new("acme".to_owned()),
            event_type: hubhooks::event::EventType::NewStatus,
            case_guid: hubhooks::ids::CaseGuid::new(case.to_owned()),
            transport: "http".into(),
            outcome: AttemptOutcome::Retrying,
            status: Some(503),
            error: Some(error.to_owned()),
            latency_ms: Some(12),
            excerpt: String::new(),
            at: hubhooks::timestamp::Timestamp::parse("2026-12-05T10:00:00.000Z").unwrap(),
            test: false,
        }
    }

    /// The case is a column; an error longer than a line is cut with `…`
    /// unless `--wide` asks for it whole.
    #[test]
    fn a_line_shows_the_case_and_wide_shows_the_whole_error() {
        let long = format!("receiver answered 503: {}", "x".repeat(200));
        let rows = [
            record(&long, "68ea1505-a44f-4434-be5a-dcc959be250e"),
            record("short", ""),
        ];
        let narrow = render(&rows, false);
        let lines: Vec<&str> = narrow.lines().collect();
        assert!(lines[0].contains(" CASE "), "{narrow}");
        assert!(
            lines[1].contains("68ea1505-a44f-4434-be5a-dcc959be250e"),
            "{narrow}"
        );
        assert!(lines[1].ends_with(&format!("{}…", &long[..80])), "{narrow}");
        assert!(lines[2].contains(" - "), "no case: {narrow}");
        let wide = render(&rows, true);
        assert!(wide.lines().nth(1).unwrap().ends_with(&long), "{wide}");
    }
}
