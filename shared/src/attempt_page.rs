//! A page of the attempt log as stored: one sender batch's attempt records
//! for one subscription (or, on a mixed page, for the batch's subscriptions
//! with few; [`layout`]) and, unless `AttemptLogBodies` is off, the
//! envelopes attempted (once per delivery), as one gzip'd JSON object
//! `{"attempts": [...], "deliveries": [...]}` in the page's `page` (B)
//! attribute.
//!
//! Records and envelopes are compressed together because a page is billed
//! by the started KB: the records repeat their keys, subscription and
//! type, and a batch's envelopes share most of their text, so one stream
//! packs them to a fraction of the records alone as a DynamoDB list
//! (docs/benchmarks.md). Pages written before this form keep `attempts`
//! (L of maps) and `deliveries` (B: gzip'd JSON array of envelopes); both
//! are read ([`unpack_envelopes`]) until they expire.
use crate::attempt::AttemptRecord;
use crate::delivery::Delivery;
use crate::timestamp::Timestamp;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

#[derive(Serialize)]
struct PageOut<'a> {
    attempts: &'a [&'a AttemptRecord],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    deliveries: &'a [&'a Delivery],
}

/// What a page holds, read back.
#[derive(Debug, Default, Deserialize)]
pub struct Contents {
    pub attempts: Vec<AttemptRecord>,
    /// Absent when the page was written with `AttemptLogBodies` off.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
}

impl Contents {
    /// Each record with the envelope of its delivery, if the page kept it.
    pub fn into_pairs(self) -> Vec<(AttemptRecord, Option<Delivery>)> {
        let Contents {
            attempts,
            deliveries,
        } = self;
        attempts
            .into_iter()
            .map(|a| {
                let envelope = deliveries.iter().find(|d| d.id == a.delivery_id).cloned();
                (a, envelope)
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("not gzip: {0}")]
    Gzip(#[from] std::io::Error),
    #[error("not a page of the attempt log: {0}")]
    Json(#[from] serde_json::Error),
}

/// An attempt held for the log, with its envelope if the log keeps them.
pub type Held = (AttemptRecord, Option<Delivery>);

/// Records of subscriptions with fewer than this many in a batch share the
/// batch's mixed page: a page of its own would cost a write unit for one or
/// two records.
pub const OWN_PAGE_MIN: usize = 10;

/// Room for a packed page: DynamoDB's item limit is 400 KB, keys included.
/// A larger page is split in two.
pub const PAGE_BYTES: usize = 300_000;

/// Whose page it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A subscription with at least [`OWN_PAGE_MIN`] records in the batch.
    Subscription(String),
    /// The batch's other subscriptions, together.
    Mixed,
}

/// A page ready to write: whose, its earliest record (it sorts and expires
/// by it), and the packed `page` attribute.
#[derive(Debug)]
pub struct Laid {
    pub owner: Owner,
    pub earliest: Timestamp,
    pub blob: Vec<u8>,
}

/// A batch's attempts as pages: a page per subscription with at least
/// [`OWN_PAGE_MIN`] of them, one mixed page for the rest (a page each would
/// cost a write unit per one or two deliveries); each page's envelopes once
/// per delivery; a page over [`PAGE_BYTES`] packed halved until it fits.
pub fn layout(held: Vec<Held>) -> Vec<Laid> {
    let mut by_subscription: std::collections::BTreeMap<String, Vec<Held>> = Default::default();
    for h in held {
        by_subscription
            .entry(h.0.subscription_id.to_string())
            .or_default()
            .push(h);
    }
    let (mut pages, mut mixed) = (Vec::new(), Vec::new());
    for (subscription, records) in by_subscription {
        if records.len() < OWN_PAGE_MIN {
            mixed.extend(records);
        } else {
            split(Owner::Subscription(subscription), &records, &mut pages);
        }
    }
    if !mixed.is_empty() {
        split(Owner::Mixed, &mixed, &mut pages);
    }
    pages
}

fn split(owner: Owner, records: &[Held], pages: &mut Vec<Laid>) {
    let attempts: Vec<&AttemptRecord> = records.iter().map(|(r, _)| r).collect();
    let mut seen = std::collections::HashSet::new();
    let envelopes: Vec<&Delivery> = records
        .iter()
        .filter_map(|(_, d)| d.as_ref())
        .filter(|d| seen.insert(d.id.as_str()))
        .collect();
    let blob = pack(&attempts, &envelopes);
    // One record always fits: an inline body is under 256 KiB.
    if blob.len() <= PAGE_BYTES || records.len() == 1 {
        let earliest = attempts.iter().map(|r| r.at).min();
        pages.push(Laid {
            owner,
            earliest: earliest.unwrap_or_else(Timestamp::now),
            blob,
        });
        return;
    }
    let (a, b) = records.split_at(records.len() / 2);
    split(owner.clone(), a, pages);
    split(owner, b, pages);
}

/// The `page` attribute for `attempts` and `deliveries` (each envelope
/// once; none when the log keeps no bodies).
pub fn pack(attempts: &[&AttemptRecord], deliveries: &[&Delivery]) -> Vec<u8> {
    // Almost no URL needs masking: then the envelopes go as they are.
    let masked = |d: &&Delivery| matches!(d.as_written(), std::borrow::Cow::Owned(_));
    let written: Vec<_>;
    let listed: Vec<&Delivery>;
    let deliveries = if deliveries.iter().any(masked) {
        written = deliveries.iter().map(|d| d.as_written()).collect();
        listed = written.iter().map(AsRef::as_ref).collect();
        &listed[..]
    } else {
        deliveries
    };
    let json = serde_json::to_vec(&PageOut {
        attempts,
        deliveries,
    })
    .unwrap_or_default();
    gzip(&json)
}

pub fn unpack(blob: &[u8]) -> Result<Contents, UnpackError> {
    Ok(serde_json::from_slice(&gunzip(blob)?)?)
}

/// The `deliveries` attribute of a page written before the `page` form.
pub fn unpack_envelopes(blob: &[u8]) -> Result<Vec<Delivery>, UnpackError> {
    Ok(serde_json::from_slice(&gunzip(blob)?)?)
}

fn gzip(json: &[u8]) -> Vec<u8> {
    // Serialized first, compressed in one write: serde's many small writes
    // straight into the encoder cost 40 times as much.
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(json);
    gz.finish().unwrap_or_default()
}

fn gunzip(blob: &[u8]) -> Result<Vec<u8>, std::io::Error> {
    let mut text = Vec::new();
    GzDecoder::new(blob).read_to_end(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Receipt;
    use crate::retry::Verdict;
    use crate::timestamp::Timestamp;

    fn delivery(id: &str) -> Delivery {
        let mut d = crate::memory::delivery(id, "acme", "https://example.com/hooks");
        d.body = "{\"quote\":\"\\\"\",\"unicode\":\"ø\"}".into();
        d
    }

    fn record(d: &Delivery, attempt: u32) -> AttemptRecord {
        let verdict = Verdict::Delivered(Receipt {
            status: 204,
            latency: std::time::Duration::from_millis(12),
            excerpt: "ok".into(),
        });
        let at = Timestamp::parse("2023-01-25T13:11:19.500Z").unwrap();
        AttemptRecord::new(d, attempt, &verdict, at)
    }

    #[test]
    fn a_page_gives_back_its_records_and_envelopes_exactly() {
        // GIVEN two deliveries, the first attempted twice
        let (a, b) = (delivery("d-1"), delivery("d-2"));
        let records = [record(&a, 1), record(&a, 2), record(&b, 1)];
        // WHEN the page is packed with each envelope once and read back
        let blob = pack(&records.iter().collect::<Vec<_>>(), &[&a, &b]);
        assert_eq!(&blob[..2], &[0x1f, 0x8b], "gzip");
        let pairs = unpack(&blob).unwrap().into_pairs();
        // THEN every record is there, in order, each with its envelope as
        // the queue message it was
        let got: Vec<_> = pairs.iter().map(|(r, _)| r.clone()).collect();
        assert_eq!(got, records);
        let envelopes: Vec<String> = pairs
            .iter()
            .map(|(_, d)| d.as_ref().unwrap().to_message())
            .collect();
        assert_eq!(envelopes, [a.to_message(), a.to_message(), b.to_message()]);
    }

    #[test]
    fn a_page_without_bodies_has_records_only() {
        let a = delivery("d-1");
        let blob = pack(&[&record(&a, 1)], &[]);
        let text = gunzip(&blob).unwrap();
        assert!(!String::from_utf8(text).unwrap().contains("deliveries"));
        let pairs = unpack(&blob).unwrap().into_pairs();
        assert_eq!(pairs.len(), 1);
        assert!(pairs[0].1.is_none());
    }

    #[test]
    fn damaged_pages_say_what_is_wrong() {
        assert!(matches!(unpack(b"not gzip"), Err(UnpackError::Gzip(_))));
        assert!(matches!(unpack(&gzip(b"[1]")), Err(UnpackError::Json(_))));
        assert!(
            unpack(&gzip(b"[1]"))
                .unwrap_err()
                .to_string()
                .starts_with("not a page of the attempt log")
        );
    }

    #[test]
    fn busy_subscriptions_get_own_pages_the_rest_one_mixed_page() {
        // GIVEN a batch: 10 attempts for `busy` (one delivery twice), 2 for
        // `quiet`, 1 for `rare`
        let mut held = Vec::new();
        for (subscription, n) in [("busy", 10), ("quiet", 2), ("rare", 1)] {
            for i in 0..n {
                let mut d = delivery(&format!("{subscription}-{}", i.min(8)));
                d.subscription_id = crate::ids::SubscriptionId::new(subscription);
                held.push((record(&d, i + 1), Some(d)));
            }
        }
        // WHEN laid out
        let pages = layout(held);
        // THEN `busy` has its page, with 9 envelopes for 10 records, and the
        // others share one
        let owners: Vec<_> = pages
            .iter()
            .map(|p| (p.owner.clone(), unpack(&p.blob).unwrap().attempts.len()))
            .collect();
        assert_eq!(
            owners,
            [(Owner::Subscription("busy".into()), 10), (Owner::Mixed, 3)]
        );
        let busy = unpack(&pages[0].blob).unwrap();
        assert_eq!(busy.deliveries.len(), 9);
        let mixed = unpack(&pages[1].blob).unwrap();
        let subs: Vec<_> = mixed
            .attempts
            .iter()
            .map(|a| a.subscription_id.to_string())
            .collect();
        assert_eq!(subs, ["quiet", "quiet", "rare"]);
        assert_eq!(pages[1].earliest, record(&delivery("x"), 1).at);
    }

    #[test]
    fn a_page_too_large_is_halved_until_it_fits() {
        // 12 deliveries of 100 KB of random letters each (gzip keeps about
        // 60% of them): over 700 KB packed together
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let held: Vec<Held> = (0..12)
            .map(|i| {
                let mut d = delivery(&format!("d-{i}"));
                d.body = (0..100_000)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        char::from(b'a' + (state % 26) as u8)
                    })
                    .collect();
                (record(&d, 1), Some(d))
            })
            .collect();
        let pages = layout(held);
        assert!(pages.len() > 1);
        assert!(pages.iter().all(|p| p.blob.len() <= PAGE_BYTES));
        let records = pages
            .iter()
            .map(|p| unpack(&p.blob).unwrap().attempts.len());
        assert_eq!(records.sum::<usize>(), 12);
        assert!(
            pages
                .iter()
                .all(|p| p.owner == Owner::Subscription("acme".into()))
        );
    }

    #[test]
    fn envelopes_of_the_earlier_form_are_read() {
        // As senders before the `page` form wrote `deliveries`.
        let (a, b) = (delivery("d-1"), delivery("d-2"));
        let blob = gzip(&serde_json::to_vec(&[&a, &b]).unwrap());
        let back: Vec<String> = unpack_envelopes(&blob)
            .unwrap()
            .iter()
            .map(Delivery::to_message)
            .collect();
        assert_eq!(back, [a.to_message(), b.to_message()]);
    }
}
