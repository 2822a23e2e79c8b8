//! The local stack: its tables, queues, bucket and topic on moto
//! (`provision`, where every resource name is spelled), and the runner that
//! plays Lambda's event source mappings with the Lambdas' own handlers
//! (`runner`).
pub mod api;
pub mod idle;
pub mod provision;
pub mod receiver;
pub mod runner;
pub mod sample;
