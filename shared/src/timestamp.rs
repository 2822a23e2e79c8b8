//! Timestamps as the contract writes them: ISO 8601, UTC, milliseconds, `Z`
//! (`2019-01-22T11:29:38.258Z`), whatever form the table stored.
use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Timelike, Utc};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(Utc::now())
    }

    /// Accepts RFC 3339 / ISO 8601 with any offset and precision.
    pub fn parse(s: &str) -> Result<Self, chrono::ParseError> {
        DateTime::parse_from_rfc3339(s).map(|d| Timestamp(d.with_timezone(&Utc)))
    }

    pub fn from_millis(ms: i64) -> Option<Self> {
        Utc.timestamp_millis_opt(ms).single().map(Timestamp)
    }

    pub fn to_contract_string(&self) -> String {
        self.in_contract_form(str::to_owned)
    }

    /// Hands the contract's form to `use_it`: from a stack buffer, or (the
    /// rare cases [`Timestamp::contract_form`] leaves out) from chrono.
    fn in_contract_form<R>(&self, use_it: impl FnOnce(&str) -> R) -> R {
        let mut buf = [0; 24];
        match self.contract_form(&mut buf) {
            Some(s) => use_it(s),
            None => use_it(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true)),
        }
    }

    /// The contract's form written into `buf` without allocating: every
    /// envelope and body carries timestamps, and chrono's formatter was a
    /// twentieth of the router's work. `None` (chrono writes it) for years
    /// outside 0000–9999 and leap seconds.
    fn contract_form<'b>(&self, buf: &'b mut [u8; 24]) -> Option<&'b str> {
        let t = &self.0;
        let (year, nanos) = (t.year(), t.nanosecond());
        if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
            return None;
        }
        let mut put = |at: usize, value: u32, digits: usize| {
            let mut v = value;
            for i in (at..at + digits).rev() {
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year as u32, 4);
        put(5, t.month(), 2);
        put(8, t.day(), 2);
        put(11, t.hour(), 2);
        put(14, t.minute(), 2);
        put(17, t.second(), 2);
        put(20, nanos / 1_000_000, 3);
        for (at, c) in [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (23, b'Z'),
        ] {
            buf[at] = c;
        }
        std::str::from_utf8(buf).ok()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.in_contract_form(|text| f.write_str(text))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.in_contract_form(|text| s.serialize_str(text))
    }
}

struct TimestampVisitor;

impl<'de> Visitor<'de> for TimestampVisitor {
    type Value = Timestamp;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an ISO 8601 timestamp string or epoch milliseconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
        Timestamp::parse(v).map_err(|e| E::custom(format!("invalid timestamp `{v}`: {e}")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
        // Only the four-digit years have an RFC 3339 form that reads back.
        Timestamp::from_millis(v)
            .filter(|t| (0..=9999).contains(&t.0.year()))
            .ok_or_else(|| {
                E::custom(format!(
                    "epoch millis {v} out of range (years 0000 to 9999)"
                ))
            })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
        let v =
            i64::try_from(v).map_err(|_| E::custom(format!("epoch millis {v} out of range")))?;
        self.visit_i64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
        self.visit_i64(v as i64)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

impl schemars::JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "UTC, millisecond precision: 2024-03-01T10:00:00.000Z",
            "type": "string",
            "format": "date-time"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_millis_and_z_whatever_the_input() {
        for (input, want) in [
            ("2019-01-22T11:29:38.258Z", "2019-01-22T11:29:38.258Z"),
            ("2019-01-22T11:29:38Z", "2019-01-22T11:29:38.000Z"),
            (
                "2019-01-22T12:29:38.258123+01:00",
                "2019-01-22T11:29:38.258Z",
            ),
        ] {
            assert_eq!(
                Timestamp::parse(input).unwrap().to_string(),
                want,
                "{input}"
            );
        }
        let t: Timestamp = serde_json::from_str("1548156578258").unwrap();
        assert_eq!(t.to_string(), "2019-01-22T11:29:38.258Z");
    }

    #[test]
    fn the_fast_form_is_chronos_form() {
        let chrono_form = |t: &Timestamp| t.0.to_rfc3339_opts(SecondsFormat::Millis, true);
        // Every millisecond pattern, both ends of the four-digit years, a
        // leap day, a leap second and years chrono writes differently.
        let mut cases: Vec<Timestamp> = (0..2000)
            .map(|i| Timestamp::from_millis(1_548_156_578_000 + i * 7_919_111).unwrap())
            .collect();
        for s in [
            "0000-01-01T00:00:00.000Z",
            "9999-12-31T23:59:59.999Z",
            "2024-02-29T23:59:59.999999Z",
            "1970-01-01T00:00:00Z",
        ] {
            cases.push(Timestamp::parse(s).unwrap());
        }
        cases.push(Timestamp(
            chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_milli_opt(23, 59, 59, 1_500)
                .unwrap()
                .and_utc(),
        ));
        cases.push(Timestamp::from_millis(-62_198_755_200_000).unwrap()); // year -1
        cases.push(Timestamp::from_millis(253_402_300_800_000).unwrap()); // year 10000
        for t in &cases {
            assert_eq!(t.to_contract_string(), chrono_form(t));
            assert_eq!(t.to_string(), chrono_form(t));
            assert_eq!(serde_json::to_value(t).unwrap(), chrono_form(t).as_str());
        }
    }

    /// Epoch milliseconds outside the years 0000–9999 have no RFC 3339
    /// form that reads back (chrono writes `-0001-…`, `+10000-…`): refused
    /// where read, so no envelope holds a time it cannot write back. The
    /// first case is the property test's (envelopes) minimal failure.
    #[test]
    fn epoch_millis_outside_the_four_digit_years_are_refused() {
        for ms in ["-62167219200001", "253402300800000", "-62198755200000"] {
            let err = serde_json::from_str::<Timestamp>(ms).unwrap_err();
            assert!(err.to_string().contains(ms), "{ms}: {err}");
        }
        for ms in ["-62167219200000", "253402300799999", "0"] {
            let t: Timestamp = serde_json::from_str(ms).unwrap();
            let back: Timestamp = serde_json::from_value(serde_json::to_value(t).unwrap()).unwrap();
            assert_eq!(back, t, "{ms}");
        }
    }

    #[test]
    fn rejects_garbage_with_the_value_in_the_message() {
        let err = serde_json::from_str::<Timestamp>("\"yesterday\"").unwrap_err();
        assert!(err.to_string().contains("`yesterday`"), "{err}");
    }
}
