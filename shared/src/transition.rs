//! Status transition conditions.
use serde::{Deserialize, Serialize};

/// One condition of a `statusTransition` subscription:
/// `{"to": X}` new key is X; `{"from": X}` X changed to any other key;
/// `{"from": X, "to": Y}` X changed to Y. Keys are the subscriber's keys
/// (after mapping). A repeated key is not a transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

impl TransitionRule {
    pub fn validate(&self) -> Result<(), crate::validation::FieldError> {
        use crate::validation::FieldError;
        match (&self.from, &self.to) {
            (None, None) => Err(FieldError::new("", "give `from`, `to` or both")),
            (Some(k), _) if k.trim().is_empty() => {
                Err(FieldError::new("from", "keys must not be empty"))
            }
            (_, Some(k)) if k.trim().is_empty() => {
                Err(FieldError::new("to", "keys must not be empty"))
            }
            _ => Ok(()),
        }
    }

    /// `prev` is the previous visible key (None for a case's first status).
    pub fn matches(&self, prev: Option<&str>, new: &str) -> bool {
        if prev == Some(new) {
            return false;
        }
        let from_ok = match &self.from {
            Some(f) => prev == Some(f.as_str()),
            None => true,
        };
        let to_ok = match &self.to {
            Some(t) => new == t,
            None => true,
        };
        from_ok && to_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(from: Option<&str>, to: Option<&str>) -> TransitionRule {
        TransitionRule {
            from: from.map(Into::into),
            to: to.map(Into::into),
        }
    }

    #[test]
    fn new_key_is_x() {
        let r = rule(None, Some("final"));
        assert!(r.matches(Some("arrived"), "final"));
        assert!(
            r.matches(None, "final"),
            "a first status can be a transition into X"
        );
        assert!(!r.matches(Some("arrived"), "repair"));
        assert!(
            !r.matches(Some("final"), "final"),
            "repeated key is no transition"
        );
    }

    #[test]
    fn from_x_to_any() {
        let r = rule(Some("arrived"), None);
        assert!(r.matches(Some("arrived"), "final"));
        assert!(r.matches(Some("arrived"), "repair"));
        assert!(!r.matches(Some("arrived"), "arrived"));
        assert!(!r.matches(None, "final"));
        assert!(!r.matches(Some("repair"), "final"));
    }

    #[test]
    fn from_x_to_y() {
        let r = rule(Some("arrived"), Some("final"));
        assert!(r.matches(Some("arrived"), "final"));
        assert!(!r.matches(Some("arrived"), "repair"));
        assert!(!r.matches(Some("repair"), "final"));
        assert!(!r.matches(None, "final"));
    }
}
