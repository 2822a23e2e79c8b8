//! The operations of `/v1/notice-destination`.
use super::super::notices::{
    CreatedNoticeDestination, NoticeDestinationInput, NoticeDestinationView, NoticeTestResult,
};
use super::{Components, Op, READ_ONE, WRITE};
use serde_json::json;

const PATH: &str = "/v1/notice-destination";

pub(super) fn ops(c: &mut Components) -> Vec<Op> {
    let view = c.add::<NoticeDestinationView>("NoticeDestination");
    let input = c.add_input::<NoticeDestinationInput>("NoticeDestinationInput");
    let created = c.add::<CreatedNoticeDestination>("CreatedNoticeDestination");
    let tested = c.add::<NoticeTestResult>("NoticeTestResult");
    let if_match = || {
        vec![
            json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
               "description": "The `ETag` read: the write happens only if the notice destination is still that version (else 412)."}),
        ]
    };
    vec![
        Op {
            method: "get",
            path: PATH,
            id: "getNoticeDestination",
            summary: "Where the caller hears about its subscriptions (disabled, dead-lettered, failing), with its `ETag`.",
            request: None,
            ok: vec![(200, "The notice destination.", Some(view.clone()))],
            errors: READ_ONE,
            params: vec![],
            public: false,
        },
        Op {
            method: "put",
            path: PATH,
            id: "putNoticeDestination",
            summary: "Sets the caller's notice destination: made with a signing key shown this once, or replaced keeping its keys.",
            request: Some(input),
            ok: vec![
                (200, "Replaced.", Some(view)),
                (
                    201,
                    "Made; its signing key is shown this once.",
                    Some(created),
                ),
            ],
            errors: WRITE,
            params: if_match(),
            public: false,
        },
        Op {
            method: "delete",
            path: PATH,
            id: "deleteNoticeDestination",
            summary: "Deletes it and the secrets the API kept for it: notices then go only to the operators' topic.",
            request: None,
            ok: vec![(204, "Deleted.", None)],
            errors: WRITE,
            params: if_match(),
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/notice-destination/test",
            id: "testNoticeDestination",
            summary: "Sends a `notice.test` to it now, once, signed as notices are, and shows its answer.",
            request: None,
            ok: vec![(
                200,
                "Sent; `delivered` says whether it took it.",
                Some(tested),
            )],
            errors: WRITE,
            params: vec![],
            public: false,
        },
    ]
}
