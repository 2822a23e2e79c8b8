//! Enqueueing a batch's deliveries, retried within the invocation, and the
//! ledger of what this warm instance enqueued, so a retried record does not
//! send again what went.
use super::Router;
use crate::delivery::Delivery;
use crate::ports::IoError;
use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

/// The ids of the deliveries enqueued most recently by this instance (the
/// oldest are forgotten past `capacity`). Lambda retries a stream batch on
/// the same warm instance as a rule, so a record retried after a partial
/// enqueue does not send its other deliveries again; after a cold start it
/// may, and receivers deduplicate on `webhook-id`.
///
/// Ids are kept as their 128 bits (delivery ids are UUIDs; anything else is
/// reduced to a UUIDv5 of it): no allocation per id, and a collision, which
/// would skip a delivery, is as unlikely as two equal UUIDs.
pub struct EnqueuedIds {
    capacity: usize,
    ids: Mutex<Ledger>,
}

/// The remembered keys, and the order to forget them in.
type Ledger = (HashSet<u128, BuildHasherDefault<IdHasher>>, VecDeque<u128>);

/// The keys are UUIDs (v5: SHA-1 output), already uniformly spread: folding
/// them is hash enough, where SipHash cost a tenth of the router's work.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn write_u128(&mut self, n: u128) {
        self.0 ^= (n as u64) ^ ((n >> 64) as u64);
    }
}

impl Default for EnqueuedIds {
    fn default() -> Self {
        EnqueuedIds::with_capacity(50_000)
    }
}

impl EnqueuedIds {
    pub fn with_capacity(capacity: usize) -> Self {
        EnqueuedIds {
            capacity,
            ids: Mutex::default(),
        }
    }

    fn key(id: &str) -> u128 {
        uuid::Uuid::try_parse(id)
            .unwrap_or_else(|_| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, id.as_bytes()))
            .as_u128()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.lock().0.contains(&Self::key(id))
    }

    pub fn insert(&self, id: &str) {
        let key = Self::key(id);
        let mut guard = self.lock();
        let (set, order) = &mut *guard;
        if set.insert(key) {
            order.push_back(key);
            while order.len() > self.capacity {
                if let Some(old) = order.pop_front() {
                    set.remove(&old);
                }
            }
        }
    }

    /// Remembers what one enqueue made it: a record whose every delivery
    /// went is one entry (its `source`), where a delivery each cost a tenth
    /// of the router's work; of a record only partly enqueued, the
    /// deliveries that went. `sent` is in record order.
    pub(super) fn remember(
        &self,
        sent: &[(usize, Delivery)],
        failed: &[(usize, Delivery, IoError)],
    ) {
        let partial: HashSet<usize> = failed.iter().map(|(i, _, _)| *i).collect();
        let mut previous = None;
        for (i, d) in sent {
            if partial.contains(i) {
                self.insert(&d.id);
            } else if previous != Some(*i) {
                self.insert(&Self::record(&d.source));
            }
            previous = Some(*i);
        }
    }

    fn record(source: &str) -> String {
        format!("record\n{source}")
    }

    /// Whether `d` went already: its record whole, or itself. `memo` keeps
    /// the answer for the record `d` is of, as deliveries come in order.
    pub(super) fn sent(&self, i: usize, d: &Delivery, memo: &mut Option<(usize, bool)>) -> bool {
        let whole = match *memo {
            Some((at, whole)) if at == i => whole,
            _ => {
                let whole = self.contains(&Self::record(&d.source));
                *memo = Some((i, whole));
                whole
            }
        };
        whole || self.contains(&d.id)
    }
}

impl Router {
    /// Enqueues, retrying what failed a few times within this invocation;
    /// what was enqueued is remembered. Returns what still failed.
    pub(super) async fn enqueue(
        &self,
        pending: Vec<(usize, Delivery)>,
    ) -> Vec<(usize, Delivery, IoError)> {
        let (mut records, mut batch): (Vec<usize>, Vec<Delivery>) = pending.into_iter().unzip();
        let mut sent = Vec::with_capacity(batch.len());
        let mut attempt = 1;
        let failed = loop {
            if batch.is_empty() {
                break Vec::new();
            }
            let results = self.queue.enqueue(&batch).await;
            let mut failed = Vec::new();
            for ((i, d), r) in records.into_iter().zip(batch).zip(results) {
                match r {
                    Ok(()) => sent.push((i, d)),
                    Err(e) => failed.push((i, d, e)),
                }
            }
            if failed.is_empty() || attempt >= self.backoff.tries {
                break failed;
            }
            let pause = self.backoff.pause(attempt);
            tracing::warn!(
                failed = failed.len(),
                attempt,
                pause_ms = pause.as_millis() as u64,
                "some deliveries were not enqueued; trying them again"
            );
            tokio::time::sleep(pause).await;
            attempt += 1;
            (records, batch) = failed.into_iter().map(|(i, d, _)| (i, d)).unzip();
        };
        // A retry's successes come after the first try's: record order
        // again, so a record's deliveries are together.
        sent.sort_by_key(|(i, _)| *i);
        self.enqueued.remember(&sent, &failed);
        failed
    }
}
