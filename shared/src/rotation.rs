//! Rotating a signing key with a grace period: the new key signs at once,
//! the old one signs beside it (Standard Webhooks carries several
//! signatures) until the grace period ends, so receivers can switch over
//! without a failed verification. One implementation for the CLI and the
//! management API; the sender reads a secret through [`current`].
use crate::timestamp::Timestamp;
use std::time::Duration;

/// The longest grace period a rotation may give the old key.
pub const MAX_GRACE: Duration = Duration::from_secs(7 * 24 * 3600);

/// A grace period that cannot be given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraceError {
    #[error("a grace period of {0} s is longer than 7 days")]
    TooLong(u64),
}

/// A secret's values after a rotation: the new key first, then (during the
/// grace period) the previous current key; when the old key retires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub values: Vec<String>,
    pub retire_at: Option<Timestamp>,
}

/// Rotates `previous` (the stored values, newest first, as [`current`]
/// gives them) to `new`, keeping the previous current key for `grace`.
/// Keys already retiring are dropped: only one old key signs at a time.
pub fn rotate(
    previous: &[String],
    new: String,
    grace: Duration,
    now: Timestamp,
) -> Result<Rotated, GraceError> {
    if grace > MAX_GRACE {
        return Err(GraceError::TooLong(grace.as_secs()));
    }
    let old = previous.first().filter(|_| !grace.is_zero());
    let retire_at =
        old.map(|_| Timestamp(now.0 + chrono::Duration::from_std(grace).unwrap_or_default()));
    Ok(Rotated {
        values: std::iter::once(new).chain(old.cloned()).collect(),
        retire_at,
    })
}

/// The values that sign now: all of them until `retire_at`, then only the
/// newest.
pub fn current(
    mut values: Vec<String>,
    retire_at: Option<Timestamp>,
    now: Timestamp,
) -> Vec<String> {
    if retire_at.is_some_and(|at| now >= at) {
        values.truncate(1);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::parse(&format!("2026-12-05T{s}.000Z")).unwrap()
    }

    #[test]
    fn the_old_key_signs_beside_the_new_one_until_its_grace_ends() {
        let now = at("10:00:00");
        let hour = Duration::from_secs(3600);
        let r = rotate(&["old".into(), "older".into()], "new".into(), hour, now).unwrap();
        assert_eq!(r.values, ["new", "old"]);
        assert_eq!(r.retire_at, Some(at("11:00:00")));
        // (when, what signs)
        let table = [
            ("10:00:00", vec!["new", "old"]),
            ("10:59:59", vec!["new", "old"]),
            ("11:00:00", vec!["new"]),
            ("12:00:00", vec!["new"]),
        ];
        for (when, signs) in table {
            assert_eq!(
                current(r.values.clone(), r.retire_at, at(when)),
                signs,
                "{when}"
            );
        }
    }

    #[test]
    fn no_grace_replaces_at_once_and_more_than_a_week_is_refused() {
        let now = at("10:00:00");
        let r = rotate(&["old".into()], "new".into(), Duration::ZERO, now).unwrap();
        assert_eq!(
            r,
            Rotated {
                values: vec!["new".into()],
                retire_at: None
            }
        );
        let r = rotate(&[], "new".into(), Duration::from_secs(60), now).unwrap();
        assert_eq!(
            r,
            Rotated {
                values: vec!["new".into()],
                retire_at: None
            }
        );
        assert_eq!(
            rotate(
                &["old".into()],
                "new".into(),
                MAX_GRACE + Duration::from_secs(1),
                now
            ),
            Err(GraceError::TooLong(604_801))
        );
        assert!(rotate(&["old".into()], "new".into(), MAX_GRACE, now).is_ok());
        // Values without a retirement all sign (a key put by hand, newest first).
        assert_eq!(current(vec!["a".into(), "b".into()], None, now), ["a", "b"]);
    }
}
