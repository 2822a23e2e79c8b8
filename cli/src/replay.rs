//! `hubhooks replay`'s times: what `--since` and `--until` accept. The
//! replay itself is `hubhooks::operations::deliveries` (the management
//! API's too).
use crate::attempts;
use anyhow::{Context, Result};
use hubhooks::timestamp::Timestamp;

/// Parses a point in time: RFC 3339 (`2026-11-30T08:00:00Z`) or a duration
/// ago (`90m`, `2d`).
pub fn parse_time(s: &str, now: Timestamp) -> Result<Timestamp> {
    if let Ok(t) = Timestamp::parse(s) {
        return Ok(t);
    }
    attempts::parse_since(s)
        .and_then(|d| {
            now.0
                .checked_sub_signed(d)
                .map(Timestamp)
                .context("before the first representable time")
        })
        .with_context(|| {
            format!("`{s}`: expected a time (2026-11-30T08:00:00Z) or a duration ago (90m, 2d)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_absolute_or_ago() {
        let now = Timestamp::parse("2026-11-30T12:00:00.000Z").unwrap();
        assert_eq!(
            parse_time("2026-11-30T08:00:00Z", now).unwrap(),
            Timestamp::parse("2026-11-30T08:00:00.000Z").unwrap()
        );
        assert_eq!(
            parse_time("90m", now).unwrap(),
            Timestamp::parse("2026-11-30T10:30:00.000Z").unwrap()
        );
        let e = parse_time("yesterday", now).unwrap_err();
        assert!(format!("{e:#}").contains("expected a time"), "{e:#}");
        for hostile in [
            "99999999999999d",
            "9223372036854775807s",
            "999999999d",
            "36526d",
        ] {
            let e = parse_time(hostile, now).unwrap_err();
            assert!(format!("{e:#}").contains(hostile), "{hostile}: {e:#}");
        }
    }
}
