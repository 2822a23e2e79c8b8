//! The operations of `/v1/admin/config-items` (operators).
use super::super::config_items::ConfigItemView;
use super::super::views::Page;
use super::{Components, LIST, Op, READ_ONE, WRITE, paging, path_id, query};
use crate::config::ConfigItem;
use serde_json::json;

const ONE: &str = "/v1/admin/config-items/{id}";

pub(super) fn ops(c: &mut Components) -> Vec<Op> {
    let view = c.add::<ConfigItemView>("ConfigItem");
    let page = c.add::<Page<ConfigItemView>>("ConfigItemPage");
    let input = c.add_input::<ConfigItem>("ConfigItemInput");
    let id = || path_id("id", "The item's id (its `id` field).");
    let if_match = || {
        json!({"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"},
               "description": "The `ETag` read: the write happens only if the item is still that version (else 412)."})
    };
    vec![
        Op {
            method: "get",
            path: "/v1/admin/config-items",
            id: "listConfigItems",
            summary: "Every config item of every party (subscriptions, status mappings, black lists, invoice settings, notice destinations), by id, a page at a time (operators).",
            request: None,
            ok: vec![(200, "A page.", Some(page))],
            errors: LIST,
            params: [
                vec![
                    query(
                        "kind",
                        "Only items of this kind.",
                        json!({"type": "string", "enum": crate::config::KINDS}),
                    ),
                    query(
                        "party",
                        "Only items that concern this party (partner:ID or provider:ID): whose it is, or whose statuses or invoices it speaks of.",
                        json!({"type": "string"}),
                    ),
                ],
                paging(),
            ]
            .concat(),
            public: false,
        },
        Op {
            method: "get",
            path: ONE,
            id: "getConfigItem",
            summary: "One config item as stored, with its `ETag` (operators).",
            request: None,
            ok: vec![(200, "The item.", Some(view.clone()))],
            errors: READ_ONE,
            params: vec![id()],
            public: false,
        },
        Op {
            method: "put",
            path: ONE,
            id: "putConfigItem",
            summary: "Writes one config item in the data contract's form, by the rules of `hubhooks config put`: validated naming the field, no conflict with stored items, every secret it names existing; a subscription keeps its operational state (operators).",
            request: Some(input),
            ok: vec![
                (200, "Replaced.", Some(view.clone())),
                (201, "Made.", Some(view)),
            ],
            errors: WRITE,
            params: vec![id(), if_match()],
            public: false,
        },
        Op {
            method: "delete",
            path: ONE,
            id: "deleteConfigItem",
            summary: "Deletes one config item, with the secrets the API kept for it (operators).",
            request: None,
            ok: vec![(204, "Deleted.", None)],
            errors: WRITE,
            params: vec![id(), if_match()],
            public: false,
        },
    ]
}
