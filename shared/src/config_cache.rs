//! Config cached in the warm Lambda for a short TTL, so the router and the
//! sender read the config table once per TTL, never once per record or
//! attempt.
use crate::clock::{Clock, SystemClock};
use crate::config::ConfigSet;
use crate::ports::{ConfigSource, IoError};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub struct ConfigCache {
    source: Arc<dyn ConfigSource>,
    ttl: Duration,
    state: Mutex<Option<(Instant, Arc<ConfigSet>)>>,
    clock: Arc<dyn Clock>,
    /// What the last load had to say (refused items, deprecated versions):
    /// each is logged when it first appears, not at every refresh.
    said: Mutex<HashSet<String>>,
}

/// What a config deserves a log line for: refused items (errors) and
/// subscriptions on a deprecated payload version (warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remark {
    Refused(crate::config::ConfigError),
    Deprecated {
        subscription_id: String,
        event_type: String,
        version: String,
    },
}

impl Remark {
    fn key(&self) -> String {
        format!("{self:?}")
    }

    fn log(&self) {
        match self {
            Remark::Refused(e) => {
                tracing::error!(item = %e.item, field = %e.field, error = %e, "config item refused; other items keep working")
            }
            Remark::Deprecated {
                subscription_id,
                event_type,
                version,
            } => {
                tracing::warn!(subscription_id = %subscription_id, event_type = %event_type, version = %version, "subscription uses a deprecated payload version; v3 is current")
            }
        }
    }
}

/// Everything `set` has to say.
pub fn remarks(set: &ConfigSet) -> Vec<Remark> {
    let refused = set.errors.iter().cloned().map(Remark::Refused);
    let deprecated = set.subscriptions().flat_map(|sub| {
        sub.deprecated_versions()
            .into_iter()
            .map(|(event_type, version)| Remark::Deprecated {
                subscription_id: sub.id.to_string(),
                event_type: event_type.to_string(),
                version: version.to_string(),
            })
    });
    refused.chain(deprecated).collect()
}

/// The remarks not made at the last load; `said` becomes this load's.
pub fn fresh(said: &mut HashSet<String>, now: Vec<Remark>) -> Vec<Remark> {
    let keys: HashSet<String> = now.iter().map(Remark::key).collect();
    let fresh = now
        .into_iter()
        .filter(|r| !said.contains(&r.key()))
        .collect();
    *said = keys;
    fresh
}

impl ConfigCache {
    pub fn new(source: Arc<dyn ConfigSource>, ttl: Duration) -> Self {
        ConfigCache {
            source,
            ttl,
            state: Mutex::new(None),
            clock: Arc::new(SystemClock),
            said: Mutex::new(HashSet::new()),
        }
    }

    /// The same cache reading time from `clock` (tests move it).
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        ConfigCache { clock, ..self }
    }

    /// Forgets the cached copy, so the next `get` reads the source (after
    /// this process changed it, e.g. disabled a subscription).
    pub async fn invalidate(&self) {
        *self.state.lock().await = None;
    }

    /// The current config. On a failed refresh a stale copy is used (and
    /// logged) rather than failing the batch; with no copy at all the error
    /// is returned and the batch is retried.
    pub async fn get(&self) -> Result<Arc<ConfigSet>, IoError> {
        let mut state = self.state.lock().await;
        let now = self.clock.instant();
        if let Some((at, set)) = state.as_ref()
            && now.saturating_duration_since(*at) < self.ttl
        {
            return Ok(set.clone());
        }
        match self.source.load().await {
            Ok(raw) => {
                let set = Arc::new(ConfigSet::from_raw(raw));
                for remark in fresh(&mut *self.said.lock().await, remarks(&set)) {
                    remark.log();
                }
                *state = Some((now, set.clone()));
                Ok(set)
            }
            Err(e) => match state.as_ref() {
                Some((_, stale)) => {
                    tracing::warn!(error = %e, "config refresh failed; using the previous config");
                    Ok(stale.clone())
                }
                None => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfigItem;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(AtomicUsize);

    #[async_trait]
    impl ConfigSource for Counting {
        async fn load(&self) -> Result<Vec<RawConfigItem>, IoError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(vec![])
        }
    }

    /// A remark is made when it first appears, not at every refresh (the
    /// deprecated-version warning came about every second while deliveries
    /// flowed); one that goes and comes back is made again.
    #[test]
    fn each_remark_is_made_once_per_change() {
        let set = |items: &[serde_json::Value]| {
            ConfigSet::from_raw(
                items
                    .iter()
                    .map(|v| RawConfigItem {
                        id: v["id"].as_str().unwrap().to_owned(),
                        value: v.clone(),
                    })
                    .collect(),
            )
        };
        let v1 = serde_json::json!({"id": "old", "kind": "subscription",
            "party": {"type": "partner", "id": 1}, "eventTypes": ["newStatus"],
            "perType": {"newStatus": {"version": "v1"}},
            "destination": {"method": "POST", "url": "https://x.example/"}});
        let bad = serde_json::json!({"id": "bad", "kind": "nonsense"});
        let mut said = HashSet::new();
        // (the config loaded, how many remarks are made)
        let steps: [(Vec<serde_json::Value>, usize); 5] = [
            (vec![v1.clone()], 1),
            (vec![v1.clone()], 0),
            (vec![v1.clone(), bad.clone()], 1),
            (vec![bad.clone()], 0),
            (vec![v1.clone(), bad.clone()], 1),
        ];
        for (i, (items, made)) in steps.into_iter().enumerate() {
            assert_eq!(
                fresh(&mut said, remarks(&set(&items))).len(),
                made,
                "step {i}"
            );
        }
    }

    #[tokio::test]
    async fn reads_once_per_ttl() {
        let clock = Arc::new(crate::clock::ManualClock::default());
        let source = Arc::new(Counting(AtomicUsize::new(0)));
        let cache =
            ConfigCache::new(source.clone(), Duration::from_secs(60)).with_clock(clock.clone());
        for _ in 0..5 {
            cache.get().await.unwrap();
        }
        assert_eq!(source.0.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_secs(59));
        cache.get().await.unwrap();
        assert_eq!(source.0.load(Ordering::SeqCst), 1, "still fresh");
        clock.advance(Duration::from_secs(1));
        cache.get().await.unwrap();
        assert_eq!(source.0.load(Ordering::SeqCst), 2, "read again at the TTL");
        let source = Arc::new(Counting(AtomicUsize::new(0)));
        let cache = ConfigCache::new(source.clone(), Duration::ZERO);
        for _ in 0..3 {
            cache.get().await.unwrap();
        }
        assert_eq!(source.0.load(Ordering::SeqCst), 3);
    }
}
