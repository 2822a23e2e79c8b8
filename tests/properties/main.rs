//! Property tests of every parser that reads what others write: stream
//! records, config items and files, delivery envelopes, `Retry-After`,
//! time windows and retry schedules, destination URLs. For any input:
//! never a panic; a refusal names what it refused; a valid input
//! round-trips.
//!
//! `make test` runs each property `PROPTEST_CASES` times (256 unless set);
//! `make fuzz` runs many more. Inputs start from valid ones (the `events/`
//! samples, the example config) and are bent: attributes replaced by
//! arbitrary DynamoDB values of any type, depth and size, fields removed or
//! given the wrong type, strings with escapes and lone surrogates.
mod config;
mod envelopes;
mod records;
mod strategies;
mod urls;
mod windows;
