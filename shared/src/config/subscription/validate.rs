//! A subscription checked as a whole: ids, types, destinations, versions,
//! limits, auth, signature, transitions, filters.
use super::{MAX_PER_SECOND_LIMIT, Registered, Subscription};
use crate::config::{
    ConfigError, Destination, MAX_ATTEMPTS_LIMIT, Signature, require_id, require_party,
};
use crate::event::{EventType, Version};
use std::collections::BTreeSet;

impl Subscription {
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_id(&self.id)?;
        require_party(&self.id, "party", &self.party)?;
        self.validate_event_types()?;
        self.validate_destinations()?;
        self.validate_versions()?;
        self.validate_limits()?;
        if let Some(auth) = &self.auth {
            auth.validate()
                .map_err(|e| e.under("auth").of_item(self.id.as_str()))?;
        }
        self.validate_signature()?;
        self.validate_mtls()?;
        self.validate_transitions()?;
        self.validate_filters()
    }

    /// Each filter is well formed, and every path it names is in the body
    /// of each type it applies to, in that type's version.
    fn validate_filters(&self) -> Result<(), ConfigError> {
        let written = self.filter.iter().map(|f| ("filter".to_owned(), f)).chain(
            self.per_type.iter().filter_map(|(t, p)| {
                p.filter
                    .as_ref()
                    .map(|f| (format!("perType.{t}.filter"), f))
            }),
        );
        for (field, f) in written {
            f.validate()
                .map_err(|e| e.under(&field).of_item(self.id.as_str()))?;
        }
        for t in self.registered_types() {
            let Some(filter) = self.filter_for(t) else {
                continue;
            };
            let field = if self.per_type.get(&t).is_some_and(|p| p.filter.is_some()) {
                format!("perType.{t}.filter")
            } else {
                "filter".to_owned()
            };
            let version = self.version_for(t);
            let Some(schema) = crate::payload::schema::of(t, version) else {
                continue; // refused by validate_versions
            };
            for (at, path) in filter.paths() {
                if let Err(why) = crate::payload::schema::has_path(&schema, path) {
                    return self.refuse(
                        format!("{field}.{at}"),
                        format!("`{path}` is not in a {t} {version} webhook: {why}"),
                    );
                }
            }
        }
        Ok(())
    }

    fn refuse(
        &self,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Result<(), ConfigError> {
        Err(ConfigError::new(&self.id, field.into(), message.into()))
    }

    /// A client certificate is presented over TLS: every HTTP destination
    /// must be https.
    fn validate_mtls(&self) -> Result<(), ConfigError> {
        if self.auth.as_ref().is_none_or(|a| a.mtls.is_none()) {
            return Ok(());
        }
        for (field, d) in self.destinations() {
            if let Destination::Http(h) = d
                && !h.url.starts_with("https://")
            {
                return self.refuse(
                    format!("{field}.url"),
                    "auth.mtls presents a client certificate over TLS: the URL must be https",
                );
            }
        }
        Ok(())
    }

    /// A scheme other than the default needs a signing secret to sign with.
    fn validate_signature(&self) -> Result<(), ConfigError> {
        let Some(signature) = &self.signature else {
            return Ok(());
        };
        signature
            .validate()
            .map_err(|e| e.under("signature").of_item(self.id.as_str()))?;
        let signs = self
            .auth
            .as_ref()
            .is_some_and(|a| a.signing_secret.is_some());
        if matches!(signature, Signature::HmacSha256 { .. }) && !signs {
            return self.refuse(
                "signature",
                "hmacSha256 signs with auth.signingSecret: name one",
            );
        }
        Ok(())
    }

    /// At least one type, none twice, `any`/`allCurrent` alone.
    fn validate_event_types(&self) -> Result<(), ConfigError> {
        if self.event_types.is_empty() {
            return self.refuse(
                "eventTypes",
                "must list at least one event type (or allCurrent, or any)",
            );
        }
        let mut seen = BTreeSet::new();
        for (i, r) in self.event_types.iter().enumerate() {
            if !seen.insert(r) {
                return self.refuse(
                    format!("eventTypes[{i}]"),
                    format!("`{}` is listed twice", r.as_str()),
                );
            }
            if matches!(r, Registered::Any | Registered::AllCurrent) && self.event_types.len() > 1 {
                return self.refuse(
                    format!("eventTypes[{i}]"),
                    format!("`{}` covers every type: list it alone", r.as_str()),
                );
            }
        }
        Ok(())
    }

    /// Every registered type has a valid destination: its `perType` one or
    /// the default.
    fn validate_destinations(&self) -> Result<(), ConfigError> {
        for (t, settings) in &self.per_type {
            let field = format!("perType.{t}");
            if !self.registers(*t) {
                return self.refuse(field, format!("`{t}` is not in eventTypes"));
            }
            if settings.destination.is_none()
                && settings.version.is_none()
                && settings.filter.is_none()
            {
                return self.refuse(field, "give a destination, a version, a filter or several");
            }
            if let Some(d) = &settings.destination {
                d.validate().map_err(|e| {
                    e.under("destination")
                        .under(&field)
                        .of_item(self.id.as_str())
                })?;
            }
        }
        if let Some(d) = &self.destination {
            return d
                .validate()
                .map_err(|e| e.under("destination").of_item(self.id.as_str()));
        }
        if self.has(Registered::Any) {
            return self.refuse(
                "destination",
                "missing: `any` covers types added later, which need a default destination",
            );
        }
        match self
            .registered_types()
            .into_iter()
            .find(|t| self.per_type.get(t).is_none_or(|p| p.destination.is_none()))
        {
            Some(t) => self.refuse(
                "destination",
                format!("missing, and perType gives none for `{t}`"),
            ),
            None => Ok(()),
        }
    }

    fn validate_limits(&self) -> Result<(), ConfigError> {
        if let Some(n) = self.max_attempts
            && !(1..=MAX_ATTEMPTS_LIMIT).contains(&n)
        {
            return self.refuse(
                "maxAttempts",
                format!("must be between 1 and {MAX_ATTEMPTS_LIMIT}"),
            );
        }
        if let Some(n) = self.max_per_second
            && !(1..=MAX_PER_SECOND_LIMIT).contains(&n)
        {
            return self.refuse(
                "maxPerSecond",
                format!("must be between 1 and {MAX_PER_SECOND_LIMIT}"),
            );
        }
        self.validate_retry()
    }

    /// `retry` sets the attempts itself; a `maxAttempts` beside it must
    /// agree, or one of the two is a mistake.
    fn validate_retry(&self) -> Result<(), ConfigError> {
        let Some(retry) = &self.retry else {
            return Ok(());
        };
        retry
            .validate()
            .map_err(|e| e.under("retry").of_item(self.id.as_str()))?;
        match self.max_attempts {
            Some(n) if n != retry.attempts() => self.refuse(
                "maxAttempts",
                format!(
                    "{n} disagrees with retry's {} delays ({} attempts): drop maxAttempts, retry sets the attempts",
                    retry.0.len(),
                    retry.attempts()
                ),
            ),
            _ => Ok(()),
        }
    }

    /// `statusTransition` and its conditions come together.
    fn validate_transitions(&self) -> Result<(), ConfigError> {
        let transition = self.registers(EventType::StatusTransition);
        if self.has(Registered::Type(EventType::StatusTransition)) && self.transitions.is_empty() {
            return self.refuse(
                "transitions",
                "statusTransition needs at least one condition ({\"to\": K}, {\"from\": K} or {\"from\": K, \"to\": L})",
            );
        }
        if !transition && !self.transitions.is_empty() {
            return self.refuse(
                "transitions",
                "conditions are given but statusTransition is not in eventTypes",
            );
        }
        for (i, rule) in self.transitions.iter().enumerate() {
            rule.validate().map_err(|e| {
                e.under(&format!("transitions[{i}]"))
                    .of_item(self.id.as_str())
            })?;
        }
        Ok(())
    }

    /// Every registered type must exist in the version asked for it.
    fn validate_versions(&self) -> Result<(), ConfigError> {
        let available = |t: EventType| {
            Version::of(t)
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (t, settings) in &self.per_type {
            if let Some(v) = settings.version
                && !v.supports(*t)
            {
                return Err(ConfigError::new(
                    &self.id,
                    format!("perType.{t}.version"),
                    format!("`{t}` has no {v} payload (it exists in {})", available(*t)),
                ));
            }
        }
        let Some(v) = self.version else {
            return Ok(());
        };
        if self.has(Registered::Any) && v != Version::V3 {
            return Err(ConfigError::new(
                &self.id,
                "version",
                format!(
                    "`any` also covers types that have no {v} payload; keep v3 here and set older versions in perType"
                ),
            ));
        }
        for t in self.registered_types() {
            let overridden = self.per_type.get(&t).is_some_and(|p| p.version.is_some());
            if !overridden && !v.supports(t) {
                return Err(ConfigError::new(
                    &self.id,
                    "version",
                    format!(
                        "`{t}` has no {v} payload (it exists in {}); set its version in perType",
                        available(t)
                    ),
                ));
            }
        }
        Ok(())
    }
}
