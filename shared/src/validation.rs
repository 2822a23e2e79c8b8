//! Validation's one error: what is wrong, at which field path. Parts of an
//! item (a destination, auth, a transition rule) return it; the item adds
//! its own path and id (see `config::ConfigError`).

/// A problem at a field path below something being checked (`url`,
/// `headers.X-Bad`; empty for the thing itself): what validation of a part
/// returns, before the item it belongs to is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}`: {message}")]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same problem, seen from `prefix` (`destination` + `url` gives
    /// `destination.url`, `retry` + `[2]` gives `retry[2]`).
    pub fn under(self, prefix: &str) -> Self {
        let path = if self.path.is_empty() {
            prefix.to_owned()
        } else if self.path.starts_with('[') {
            format!("{prefix}{}", self.path)
        } else {
            format!("{prefix}.{}", self.path)
        };
        FieldError { path, ..self }
    }
}
