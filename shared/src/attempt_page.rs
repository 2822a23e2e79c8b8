//! A page of the attempt log as stored: one sender batch's attempt records
//! for one subscription and, unless `AttemptLogBodies` is off, the
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

/// The `page` attribute for `attempts` and `deliveries` (each envelope
/// once; none when the log keeps no bodies).
pub fn pack(attempts: &[&AttemptRecord], deliveries: &[&Delivery]) -> Vec<u8> {
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
