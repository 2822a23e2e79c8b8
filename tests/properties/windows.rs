//! Times and spans: `Retry-After`, `--since`/`--until` and the window they
//! make, `RETRY_SCHEDULE`. Any text: an answer or a refusal that quotes the
//! input, never a panic or an overflow; a valid value reads back as itself.
use crate::strategies::text;
use chrono::TimeDelta;
use hubhooks::operations::deliveries::check_window;
use hubhooks::retry::{RetrySchedule, retry_after};
use hubhooks::timestamp::Timestamp;
use hubhooks_cli::attempts::{MAX_LOOKBACK_DAYS, parse_since};
use hubhooks_cli::replay::parse_time;
use proptest::prelude::*;
use std::time::Duration;

/// Times from year 1 to 9999, the range a `Timestamp` can be written in.
fn now() -> impl Strategy<Value = Timestamp> {
    (-62_135_596_800i64..253_402_300_799)
        .prop_map(|s| Timestamp(chrono::DateTime::from_timestamp(s, 0).unwrap()))
}

fn span_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<u64>(), "[smhdwy]?").prop_map(|(n, u)| format!("{n}{u}")),
        (0u64..1000, "[smhd]").prop_map(|(n, u)| format!("{n}{u}")),
        text(),
    ]
}

proptest! {
    #![proptest_config(crate::strategies::cases())]

    #[test]
    fn retry_after_reads_seconds_and_dates_and_nothing_else(value in prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        text(),
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_owned()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_owned()),
        Just("-1".to_owned()),
    ], now in now()) {
        let got = retry_after(&value, now);
        if let Ok(n) = value.trim().parse::<u64>() {
            prop_assert_eq!(got, Some(Duration::from_secs(n)));
        }
    }

    #[test]
    fn a_since_span_is_read_back_or_refused_quoting_it(s in span_text()) {
        match parse_since(&s) {
            Ok(span) => {
                prop_assert!(span >= TimeDelta::zero());
                prop_assert!(span <= TimeDelta::days(MAX_LOOKBACK_DAYS));
                let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
                let n: i64 = n.parse().unwrap();
                let secs = match unit { "s" => 1, "m" => 60, "d" => 86_400, _ => 3_600 };
                prop_assert_eq!(span.num_seconds(), n * secs);
            }
            Err(e) => prop_assert!(e.to_string().contains(&format!("`{s}`")), "{}", e),
        }
    }

    #[test]
    fn a_window_is_served_or_refused_never_a_panic(
        since in span_text(), until in span_text(), now in now(), days in 1u32..400,
    ) {
        let (Ok(a), Ok(b)) = (parse_time(&since, now), parse_time(&until, now)) else {
            return Ok(());
        };
        if check_window(a, b, now, days).is_ok() {
            prop_assert!(a <= b && b.0 <= now.0 + TimeDelta::minutes(1));
            prop_assert!(a.0 >= now.0 - TimeDelta::days(i64::from(days)));
        }
    }

    #[test]
    fn a_time_written_is_read_back(now in now(), t in now()) {
        prop_assert_eq!(parse_time(&t.to_contract_string(), now).ok(), Some(t));
    }

    #[test]
    fn a_retry_schedule_is_read_back_or_refused(s in prop_oneof![
        prop::collection::vec(1u64..=43_200, 1..10)
            .prop_map(|v| v.iter().map(u64::to_string).collect::<Vec<_>>().join(",")),
        text(),
        prop::collection::vec(any::<u64>(), 0..5)
            .prop_map(|v| v.iter().map(u64::to_string).collect::<Vec<_>>().join(" , ")),
    ]) {
        match RetrySchedule::parse(&s) {
            Ok(schedule) => {
                let want: Vec<u64> = s.split(',').map(|p| p.trim().parse().unwrap()).collect();
                for (i, secs) in want.iter().enumerate() {
                    prop_assert_eq!(schedule.delay_after(i as u32 + 1), Duration::from_secs(*secs));
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
