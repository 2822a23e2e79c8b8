//! The operations of `/v1/admin/dead-letters` (operators).
use super::super::dead_letters::{DeadLetterList, DeadLetterReplayInput, DeadLetterReplayResult};
use super::{Components, LIST, Op, WRITE, query};
use serde_json::json;

pub(super) fn ops(c: &mut Components) -> Vec<Op> {
    let list = c.add::<DeadLetterList>("DeadLetterList");
    let input = c.add_input::<DeadLetterReplayInput>("DeadLetterReplayInput");
    let result = c.add::<DeadLetterReplayResult>("DeadLetterReplayResult");
    let text = || json!({"type": "string"});
    vec![
        Op {
            method: "get",
            path: "/v1/admin/dead-letters",
            id: "listDeadLetters",
            summary: "What sits in the dead-letter queues, with each letter's reason: one pass of at most 20 s; `complete` says whether it met every letter (operators).",
            request: None,
            ok: vec![(
                200,
                "The letters the filters take, oldest first.",
                Some(list),
            )],
            errors: LIST,
            params: vec![
                query("subscription", "Only this subscription's.", text()),
                query("eventType", "Only this webhook type's.", text()),
                query(
                    "reason",
                    "Only those whose reason holds this text (any case).",
                    text(),
                ),
                query(
                    "since",
                    "Only those dead-lettered at or after (RFC 3339).",
                    json!({"type": "string", "format": "date-time"}),
                ),
                query(
                    "limit",
                    "At most this many letters.",
                    json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 50}),
                ),
            ],
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/admin/dead-letters/replay",
            id: "replayDeadLetters",
            summary: "Sends the selected dead letters back to their delivery queue (each sent before it is deleted: nothing is lost), one pass of at most 20 s; when `complete` is false, the same request again goes on (operators).",
            request: Some(input),
            ok: vec![
                (
                    200,
                    "A dry run's counts: nothing was changed.",
                    Some(result.clone()),
                ),
                (202, "Sent back; the counts.", Some(result)),
            ],
            errors: WRITE,
            params: vec![],
            public: false,
        },
    ]
}
