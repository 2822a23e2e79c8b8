//! `/v1/admin/dead-letters`: an operator lists what sits in both
//! dead-letter queues (filtered, limited, each letter with its reason) and
//! replays a selection back to the right delivery queue, on moto's SQS;
//! a dry run changes nothing, a listing leaves every letter in place.
use super::*;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};
use hubhooks::adapters::sqs::{ATTR_ORIGIN, ATTR_REASON};
use hubhooks::delivery::Delivery;
use std::time::Duration;

const PATH: &str = "/v1/admin/dead-letters";

fn attr(v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .unwrap()
}

/// Puts `body` in a dead-letter queue with its reason, as the sender does
/// (the ordered DLQ is FIFO: a group and a deduplication id).
async fn dead_letter(api: &Api, url: &str, body: &str, reason: &str) {
    let mut send = api
        .stack
        .sqs
        .send_message()
        .queue_url(url)
        .message_body(body)
        .message_attributes(ATTR_REASON, attr(reason))
        .message_attributes(ATTR_ORIGIN, attr("sender"));
    if url.ends_with(".fifo") {
        send = send
            .message_group_id("g")
            .message_deduplication_id(reason.replace(' ', "-"));
    }
    send.send().await.unwrap();
}

fn delivery(id: &str, subscription: &str, party: Party, test: bool, ordered: bool) -> Delivery {
    let mut d = hubhooks::memory::delivery(id, subscription, "https://x.example/");
    d.party = party;
    d.test = test;
    d.ordered = ordered;
    d
}

/// Every message in a queue now, received once (then released).
async fn bodies(api: &Api, url: &str) -> Vec<(String, Option<String>)> {
    let out = api
        .stack
        .sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .message_system_attribute_names(MessageSystemAttributeName::MessageGroupId)
        .send()
        .await
        .unwrap();
    out.messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let group = m
                .attributes
                .and_then(|a| a.get(&MessageSystemAttributeName::MessageGroupId).cloned());
            (m.body.unwrap_or_default(), group)
        })
        .collect()
}

/// The delivery ids of a listing, in order (`-` for what is no delivery).
fn letters(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["delivery"]["id"].as_str().unwrap_or("-").to_owned())
        .collect()
}

#[tokio::test]
async fn an_operator_lists_and_replays_dead_letters_from_both_queues() {
    let api = serve().await;
    let q = api.stack.stack.clone();
    let (a, b) = (Party::partner(1413), Party::partner(9999));
    let d1 = delivery("d-1", "a-1", a, false, false);
    let d2 = delivery("d-2", "a-1", a, false, false);
    let d3 = delivery("d-3", "b-1", b, false, false);
    let t1 = delivery("t-1", "a-2", a, true, false);
    let o1 = delivery("o-1", "a-1", a, false, true);
    // GIVEN four deliveries and a message that is none in the delivery
    // DLQ, and an ordered delivery in the ordered queue's DLQ
    let json = |d: &Delivery| serde_json::to_string(d).unwrap();
    for (d, reason) in [
        (&d1, "receiver answered 503"),
        (&d2, "receiver answered 410: gone"),
        (&d3, "receiver answered 503"),
        (&t1, "receiver answered 500"),
    ] {
        dead_letter(&api, &q.delivery_dlq_url, &json(d), reason).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    dead_letter(&api, &q.delivery_dlq_url, "not json <b>", "unreadable").await;
    dead_letter(&api, &q.ordered_dlq_url, &json(&o1), "redrive limit").await;

    // WHEN an operator lists them
    let all = api.get(PATH, Some(OPERATOR)).await;
    // THEN it sees all six, oldest first, each with its queue and reason
    assert_eq!(all.0, 200, "{}", all.2);
    assert_eq!(letters(&all.2), ["d-1", "d-2", "d-3", "t-1", "-", "o-1"]);
    assert_eq!(
        (all.2["read"].as_u64(), &all.2["complete"]),
        (Some(6), &json!(true))
    );
    let first = &all.2["data"][0];
    assert_eq!(first["queue"], "deliveries");
    assert_eq!(first["reason"], "receiver answered 503");
    assert_eq!(first["origin"], "sender");
    assert_eq!(first["test"], false);
    assert_eq!(
        first["delivery"],
        json!({"id": "d-1", "subscriptionId": "a-1", "party": {"type": "partner", "id": 1413},
               "eventType": "newStatus", "caseGuid": "68ea1505-a44f-4434-be5a-dcc959be250e",
               "priorAttempts": 0})
    );
    assert_eq!(all.2["data"][3]["test"], true);
    assert_eq!(all.2["data"][4]["body"], "not json <b>");
    assert!(all.2["data"][4].get("delivery").is_none());
    assert_eq!(all.2["data"][5]["queue"], "ordered");
    // AND filters and a limit take what they say; a limit that leaves
    // letters out says the listing is not complete
    let get = |query: &'static str| {
        let api = &api;
        async move { api.get(&format!("{PATH}?{query}"), Some(OPERATOR)).await }
    };
    assert_eq!(
        letters(&get("subscription=a-1").await.2),
        ["d-1", "d-2", "o-1"]
    );
    assert_eq!(letters(&get("reason=GONE").await.2), ["d-2"]);
    let since = Timestamp(Timestamp::now().0 + chrono::Duration::hours(1));
    let later = get_since(&api, since).await;
    assert_eq!(letters(&later), Vec::<String>::new());
    let two = get("limit=2").await.2;
    assert_eq!(two["data"].as_array().unwrap().len(), 2);
    assert_eq!(two["complete"], false);
    // AND a listing leaves every letter where it was, visible
    assert_eq!(api.stack.depth(&q.delivery_dlq_url).await.unwrap(), 5);
    assert_eq!(api.stack.depth(&q.ordered_dlq_url).await.unwrap(), 1);
    // AND what a listing cannot read is named
    let bad = get("eventType=newThing").await;
    assert_eq!((bad.0, &bad.2["pointer"]), (422, &json!("/eventType")));
    let bad = get("since=yesterday").await;
    assert_eq!((bad.0, &bad.2["pointer"]), (422, &json!("/since")));
    let bad = get("party=partner:1413").await;
    assert_eq!((bad.0, &bad.2["pointer"]), (422, &json!("/party")));

    // WHEN a dry run asks what a-1's replay would take
    let replay = format!("{PATH}/replay");
    let dry = api
        .json(
            "POST",
            &replay,
            OPERATOR,
            json!({"subscription": "a-1", "dryRun": true}),
        )
        .await;
    // THEN it counts d-1, d-2 and o-1, and changes nothing
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(
        dry.body,
        json!({"dryRun": true, "read": 6, "replayed": 3, "kept": 2, "tests": 0, "unreadable": 1,
               "cameBack": 0, "cameBackWhy": {}, "complete": true})
    );
    assert_eq!(api.stack.depth(&q.delivery_dlq_url).await.unwrap(), 5);
    assert_eq!(api.stack.depth(&q.delivery_queue_url).await.unwrap(), 0);

    // WHEN a-1's 503s are replayed
    let one = api
        .json(
            "POST",
            &replay,
            OPERATOR,
            json!({"subscription": "a-1", "reason": "503"}),
        )
        .await;
    // THEN d-1 alone goes back to the delivery queue, as it was, in its
    // subscription's group, and leaves the DLQ
    assert_eq!(one.status, 202, "{}", one.body);
    assert_eq!(
        (one.body["replayed"].as_u64(), one.body["kept"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(
        bodies(&api, &q.delivery_queue_url).await,
        [(json(&d1), Some("a-1".to_owned()))]
    );
    assert_eq!(api.stack.depth(&q.delivery_dlq_url).await.unwrap(), 4);

    // WHEN everything else is replayed
    let rest = api.json("POST", &replay, OPERATOR, json!({})).await;
    // THEN the deliveries go back, the ordered one to the ordered queue in
    // its case's group; the test send and the unreadable message stay
    assert_eq!(rest.status, 202, "{}", rest.body);
    assert_eq!(
        (
            rest.body["replayed"].as_u64(),
            rest.body["tests"].as_u64(),
            rest.body["unreadable"].as_u64()
        ),
        (Some(3), Some(1), Some(1))
    );
    assert_eq!(
        bodies(&api, &q.ordered_queue_url).await,
        [(json(&o1), Some(o1.order_group()))]
    );
    assert_eq!(api.stack.depth(&q.delivery_dlq_url).await.unwrap(), 2);
    assert_eq!(api.stack.depth(&q.ordered_dlq_url).await.unwrap(), 0);
    let left = api.get(PATH, Some(OPERATOR)).await;
    assert_eq!(letters(&left.2), ["t-1", "-"]);
    // AND a test send goes back only when asked for
    let tests = api
        .json("POST", &replay, OPERATOR, json!({"tests": true}))
        .await;
    assert_eq!(tests.body["replayed"], 1);
    assert_eq!(api.stack.depth(&q.delivery_dlq_url).await.unwrap(), 1);

    // AND a body it cannot read is named, field by field
    for (body, pointer) in [
        (json!({"eventType": "newThing"}), "/eventType"),
        (json!({"since": "yesterday"}), "/since"),
        (json!({"dryrun": true}), "/dryrun"),
        (json!({"tests": "yes"}), "/tests"),
        (json!({"dryRun": 1}), "/dryRun"),
        (json!({"subscription": 7}), "/subscription"),
        (json!({"reason": ["503"]}), "/reason"),
        (json!([]), ""),
    ] {
        let bad = api.json("POST", &replay, OPERATOR, body.clone()).await;
        assert_eq!(
            (bad.status, &bad.body["pointer"]),
            (422, &json!(pointer)),
            "{body}"
        );
    }
}

async fn get_since(api: &Api, since: Timestamp) -> Value {
    let at = since.to_contract_string().replace('+', "%2B");
    api.get(&format!("{PATH}?since={at}"), Some(OPERATOR))
        .await
        .2
}
