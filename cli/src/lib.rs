//! The `hubhooks` command: config items (validate, write, list, enable,
//! disable, delete), secrets, test sends, the attempt log, dead letters and
//! their replay, the local stack (provisioning and a runner that plays
//! Lambda's event source mappings) and the demo.
pub mod attempts;
pub mod aws;
pub mod cmd;
pub mod config;
pub mod demo;
pub mod deployment;
pub mod dlq;
pub mod items;
pub mod local;
pub mod output;
pub mod preflight;
pub mod replay;
pub mod router_failures;
