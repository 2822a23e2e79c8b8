//! Webhook bodies. `v3` is the contract (seed 000).
pub mod v3;
