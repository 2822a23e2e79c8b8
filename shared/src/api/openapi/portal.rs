//! The operations behind the partner portal: its chart's numbers (any
//! party) and portal links (operators). The portal's own pages and its
//! session (`/portal/…`) are not part of the API (docs/portal.md).
use super::super::delivery_stats::DeliveryStats;
use super::super::portal::{PortalLink, PortalLinkInput};
use super::{Components, LIST, Op, WRITE, query};
use serde_json::json;

pub(super) fn ops(c: &mut Components) -> Vec<Op> {
    let stats = c.add::<DeliveryStats>("DeliveryStats");
    let input = c.add_input::<PortalLinkInput>("PortalLinkInput");
    let link = c.add::<PortalLink>("PortalLink");
    vec![
        Op {
            method: "get",
            path: "/v1/delivery-stats",
            id: "getDeliveryStats",
            summary: "The caller's deliveries per hour by outcome (delivered, retrying, failed) over the last days: each delivery once, in the hour of its first attempt, under its latest attempt's outcome.",
            request: None,
            ok: vec![(200, "Every hour of the window, oldest first.", Some(stats))],
            errors: LIST,
            params: vec![query(
                "days",
                "How many days back, up to the attempt log's keeping.",
                json!({"type": "integer", "minimum": 1, "default": 7}),
            )],
            public: false,
        },
        Op {
            method: "post",
            path: "/v1/admin/portal-links",
            id: "createPortalLink",
            summary: "A link that opens the partner portal for one party, once, within its lifetime (default 1 h, at most 24 h); the session it opens lasts 8 h (operators).",
            request: Some(input),
            ok: vec![(201, "The link: give `url` to the party.", Some(link))],
            errors: WRITE,
            params: vec![],
            public: false,
        },
    ]
}
