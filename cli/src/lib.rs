//! The `hubhooks` command: local stack (provisioning and a runner that plays
//! Lambda's event source mappings), config writing, and the demo.
pub mod aws;
pub mod configure;
pub mod demo;
pub mod moto;
pub mod provision;
pub mod receiver;
pub mod runner;
