//! The Lambda handlers: AWS events in, domain calls, AWS responses out.
//! The function binaries and the local runner call exactly these.
pub mod router;
pub mod sender;
