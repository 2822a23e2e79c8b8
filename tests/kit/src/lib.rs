//! Test support shared by the command's tests, the end-to-end tests and the
//! demo: a moto server on a free port, and a real HTTP receiver that records
//! what it is sent and answers as scripted.
pub mod moto;
pub mod readme;
pub mod receiver;
