//! hubhooks: webhook delivery for a service order hub.
//!
//! The domain (`event`, `party`, `record`, `config`, `mapping`, `blacklist`,
//! `transition`, `case_update`, `audience`, `payload`, `routing`,
//! `delivery`, `retry`, `backoff`) knows nothing of AWS. The Lambda handlers
//! in [`lambda`] translate AWS events into the domain and talk to the
//! outside world only through the small traits in [`ports`] (time through
//! [`clock`]), which the [`adapters`] implement for DynamoDB, DynamoDB
//! Streams, SQS, S3, SNS, HTTP and AMQP; `memory` (feature `test-util`)
//! implements them in memory for tests and the benchmarks.

pub mod adapters;
pub mod api;
pub mod attempt;
pub mod attempt_page;
pub mod audience;
pub mod auth_secrets;
pub mod backoff;
pub mod blacklist;
pub mod body_filter;
pub mod case_update;
pub mod classify;
pub mod clock;
pub mod config;
pub mod config_cache;
pub mod dead_letter;
pub mod delivery;
pub mod egress;
pub mod event;
pub mod headers;
pub mod ids;
pub mod lambda;
pub mod mapping;
pub mod masked_url;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;
pub mod meter;
pub mod notice;
pub mod oauth2;
pub mod operations;
pub mod outcome;
pub mod party;
pub mod party_key;
pub mod payload;
pub mod ports;
pub mod record;
pub mod replay;
pub mod retry;
pub mod rotation;
pub mod routing;
pub mod settings;
pub mod signature;
pub mod tables;
pub mod telemetry;
pub mod timestamp;
pub mod transition;
pub mod validation;
