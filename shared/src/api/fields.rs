//! Values read from a query parameter or a body field the same way on
//! every route, each refusal naming the field by pointer (`/since`).
use super::Problem;
use crate::event::EventType;
use crate::timestamp::Timestamp;

/// An RFC 3339 time.
pub fn time(name: &str, value: &str) -> Result<Timestamp, Problem> {
    Timestamp::parse(value).map_err(|_| {
        Problem::invalid(
            format!("/{name}"),
            "must be an RFC 3339 time (2026-12-05T08:00:00Z)",
        )
    })
}

/// A webhook type by its name.
pub fn event_type(name: &str, value: &str) -> Result<EventType, Problem> {
    value.parse::<EventType>().map_err(|_| {
        Problem::invalid(
            format!("/{name}"),
            format!("unknown event type (known: {})", EventType::known()),
        )
    })
}
