//! Config cached in the warm Lambda for a short TTL, so the router and the
//! sender read the config table once per TTL, never once per record or
//! attempt.
use crate::clock::{Clock, SystemClock};
use crate::config::ConfigSet;
use crate::ports::{ConfigSource, IoError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

pub struct ConfigCache {
    source: Arc<dyn ConfigSource>,
    ttl: Duration,
    state: Mutex<Option<(Instant, Arc<ConfigSet>)>>,
    clock: Arc<dyn Clock>,
}

impl ConfigCache {
    pub fn new(source: Arc<dyn ConfigSource>, ttl: Duration) -> Self {
        ConfigCache {
            source,
            ttl,
            state: Mutex::new(None),
            clock: Arc::new(SystemClock),
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
                for e in &set.errors {
                    tracing::error!(item = %e.item, field = %e.field, error = %e, "config item refused; other items keep working");
                }
                for sub in set.subscriptions() {
                    for (event_type, version) in sub.deprecated_versions() {
                        tracing::warn!(subscription_id = %sub.id, event_type = %event_type, version = %version, "subscription uses a deprecated payload version; v3 is current");
                    }
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
