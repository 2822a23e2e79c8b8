//! End to end, every webhook type: items written to the case tables on moto
//! reach the right parties, at each type's own destination, in the version
//! each asked for; the party that made a change hears nothing of it.
use hubhooks::tables::CaseTable;
use hubhooks_cli::local::provision::QueueSettings;
use hubhooks_tests::*;
use serde_json::{Value, json};
use std::time::Duration;

const PARTNER: i64 = 1413;
const PROVIDER: i64 = 1004;
const GUID: &str = "989d0f73-f87a-4dfe-98eb-554a44233cef";
const WAIT: Duration = Duration::from_secs(40);
const GRACE: Duration = Duration::from_millis(3000);

fn case(changed_by: Option<&str>) -> Value {
    let mut c = json!({
        "guid": GUID, "id": 777, "partnerId": PARTNER, "serviceProviderId": PROVIDER,
        "currentStatus": "registered", "updatedAt": "2024-03-01T10:00:00.000Z",
        "orderData": {"refNo": "OLD-REF", "bookingType": "companyToPrivate"},
        "productData": {"model": "TESTTEST", "serial": "5557779900"},
        "customer": null, "consumer": {"firstName": "Elon"}, "pickupDst": null, "returnDst": null, "sender": null
    });
    if let Some(side) = changed_by {
        c["changedBy"] = json!({"type": side, "via": "web"});
    }
    c
}

fn message(id: i64, sender: &str, confirmed_at: Option<&str>) -> Value {
    json!({"guid": GUID, "id": id, "externalId": null, "content": format!("message {id}"),
           "userName": "John", "userEmail": "john@example.com", "type": "serviceComment",
           "senderType": sender, "parentMessageId": null, "senderAccountId": 1010,
           "createdAt": "2024-03-01T10:05:00.000Z", "updatedAt": "2024-03-01T10:05:00.000Z",
           "declaredAt": null, "confirmedAt": confirmed_at})
}

fn invoice(id: i64, status: &str) -> Value {
    json!({"guid": GUID, "id": id, "type": "invoice", "isPaid": false, "isSent": false, "status": status,
           "details": [{"name": "Labour", "count": 1, "vatRate": 0.25, "vatAmount": 162.5, "priceExclVat": 650,
                        "priceInclVat": 812.5, "totalAmountExclVat": 650, "totalAmountInclVat": 812.5}],
           "dueDate": "2024-04-01T00:00:00.000Z", "currency": "NOK", "isActive": null, "priceNet": 650,
           "createdAt": "2024-03-01T11:00:00.000Z", "updatedAt": "2024-03-01T11:00:00.000Z",
           "customData": {"arnr1": "234234"}, "externalId": "100006", "linkedInvoice": null})
}

fn only<'a>(got: &'a [Received], path: &str) -> &'a Received {
    let hits: Vec<&Received> = got.iter().filter(|r| r.path == path).collect();
    assert_eq!(hits.len(), 1, "{path}: {hits:#?}");
    hits[0]
}

#[tokio::test]
async fn every_type_reaches_the_right_party_at_its_own_destination() {
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    let dest = |path: &str| json!({"method": "POST", "url": rx.url(path)});
    s.put_config(&[
        json!({"id": "partner-any", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
               "eventTypes": ["any"], "destination": dest("/partner/default"),
               "perType": {
                   "newCostProposal": {"destination": {"method": "PUT", "url": rx.url("/partner/cost")}},
                   "newMessage": {"destination": dest("/partner/messages"), "version": "v2"},
                   "caseUpdated": {"destination": {"method": "PATCH", "url": rx.url("/partner/case")}},
                   "invoice": {"destination": dest("/partner/invoice")}
               }}),
        json!({"id": "provider-list", "kind": "subscription", "party": {"type": "provider", "id": PROVIDER},
               "eventTypes": ["newCostProposal", "newMessage", "messageConfirmed", "newFile", "caseUpdated", "invoice"],
               "destination": dest("/provider/default"),
               "perType": {"newFile": {"destination": dest("/provider/files"), "version": "v1"}}}),
        json!({"id": "invoices-1004", "kind": "invoiceSettings", "providerId": PROVIDER,
               "statuses": {"ready": {"sendToClient": true}, "draft": {"sendToClient": false}}}),
    ])
    .await
    .unwrap();
    let _runner = s.run().await.unwrap();

    s.put_case(&case(None)).await.unwrap();
    // A message that breaks the table's shape is parked; the rest go on.
    s.put(CaseTable::Messages, &message(1, "hub", None))
        .await
        .unwrap();
    s.put(CaseTable::CostProposals, &json!({
        "guid": GUID, "id": 25532, "externalId": null, "name": "RUR", "priceNet": 280, "currency": "SEK",
        "isActive": true, "dateValidUntil": null, "reaction": null, "comment": null, "reactionDate": null,
        "reactionName": null, "details": [{"line": 1, "text": "Return unrepaired fee", "type": "RUR", "priceNet": 280, "quantity": 1}],
        "createdAt": "2019-11-25T11:30:29.000Z", "updatedAt": "2019-11-25T10:43:20.523Z", "serviceProviderId": PROVIDER
    })).await.unwrap();
    s.put(CaseTable::Messages, &message(2, "provider", None))
        .await
        .unwrap();
    s.put(CaseTable::Messages, &message(3, "partner", None))
        .await
        .unwrap();
    // The provider confirms the partner's message 3: the partner is told.
    s.put(
        CaseTable::Messages,
        &message(3, "partner", Some("2024-03-01T12:00:00.000Z")),
    )
    .await
    .unwrap();
    // Two files uploaded together by the partner: one webhook, to the provider.
    s.put(
        CaseTable::Files,
        &json!({"guid": GUID, "uploadId": "up-1", "changedBy": {"type": "partner", "via": "api"},
        "files": [{"url": "https://files.example/a.pdf", "name": "a.pdf", "type": "other"},
                  {"url": "https://files.example/b.jpg", "name": "b.jpg", "type": "image"}]}),
    )
    .await
    .unwrap();
    // The provider's user edits the case in the web interface.
    let mut edited = case(Some("provider"));
    edited["orderData"]["refNo"] = json!("REF");
    edited["productData"]
        .as_object_mut()
        .unwrap()
        .remove("serial");
    edited["currentStatus"] = json!("arrived");
    s.put_case(&edited).await.unwrap();
    // Bookkeeping only: no case update.
    let mut bookkeeping = edited.clone();
    bookkeeping["updatedAt"] = json!("2024-03-02T09:00:00.000Z");
    bookkeeping["currentStatus"] = json!("repaired");
    s.put_case(&bookkeeping).await.unwrap();
    s.put(CaseTable::Invoices, &invoice(7, "ready"))
        .await
        .unwrap();
    s.put(CaseTable::Invoices, &invoice(8, "draft"))
        .await
        .unwrap();

    // Partner: cost proposal, message 2, confirmation of 3, case update,
    // invoice 7. Provider: message 3, the upload.
    let got = rx.wait_for(7, WAIT).await;
    assert!(got.len() >= 7, "{got:#?}");
    // Invoice 8 moves to a flagged status: now it is sent.
    s.put(CaseTable::Invoices, &invoice(8, "ready"))
        .await
        .unwrap();
    rx.wait_for(8, WAIT).await;
    tokio::time::sleep(GRACE).await;
    let got = rx.received();
    let mut paths: Vec<(&str, &str)> = got
        .iter()
        .map(|r| (r.path.as_str(), r.header("event-type").unwrap_or("?")))
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            ("/partner/case", "caseUpdated"),
            ("/partner/cost", "newCostProposal"),
            ("/partner/default", "messageConfirmed"),
            ("/partner/invoice", "invoice"),
            ("/partner/invoice", "invoice"),
            ("/partner/messages", "newMessage"),
            ("/provider/default", "newMessage"),
            ("/provider/files", "newFile"),
        ],
        "{got:#?}"
    );

    let cost = only(&got, "/partner/cost");
    assert_eq!(cost.method, "PUT");
    assert_eq!(
        cost.body,
        format!(
            r#"{{"id":25532,"guid":"{GUID}","externalId":null,"name":"RUR","priceNet":280,"currency":"SEK","isActive":true,"dateValidUntil":null,"reaction":null,"comment":null,"reactionDate":null,"reactionName":null,"details":[{{"line":1,"text":"Return unrepaired fee","type":"RUR","priceNet":280,"quantity":1}}],"createdAt":"2019-11-25T11:30:29.000Z","updatedAt":"2019-11-25T10:43:20.523Z","serviceProviderId":{PROVIDER}}}"#
        )
    );
    // v2, as the partner asked for messages.
    assert_eq!(
        only(&got, "/partner/messages").body,
        format!(
            r#"{{"id":2,"guid":"{GUID}","content":"message 2","type":"serviceComment","createdAt":"2024-03-01T10:05:00.000Z","updatedAt":"2024-03-01T10:05:00.000Z"}}"#
        )
    );
    assert_eq!(
        only(&got, "/provider/default").body,
        format!(
            r#"{{"id":3,"externalId":null,"guid":"{GUID}","content":"message 3","userName":"John","userEmail":"john@example.com","type":"serviceComment","senderType":"partner","parentMessageId":null,"senderAccountId":1010,"createdAt":"2024-03-01T10:05:00.000Z","updatedAt":"2024-03-01T10:05:00.000Z","declaredAt":null,"confirmedAt":null}}"#
        )
    );
    assert_eq!(
        only(&got, "/partner/default").body,
        format!(
            r#"{{"id":3,"externalId":null,"guid":"{GUID}","content":"message 3","userName":"John","userEmail":"john@example.com","type":"serviceComment","senderType":"partner","parentMessageId":null,"senderAccountId":1010,"createdAt":"2024-03-01T10:05:00.000Z","updatedAt":"2024-03-01T10:05:00.000Z","declaredAt":null,"confirmedAt":"2024-03-01T12:00:00.000Z"}}"#
        )
    );
    // v1 files: no type.
    assert_eq!(
        only(&got, "/provider/files").body,
        format!(
            r#"{{"guid":"{GUID}","files":[{{"url":"https://files.example/a.pdf","name":"a.pdf"}},{{"url":"https://files.example/b.jpg","name":"b.jpg"}}]}}"#
        )
    );
    let update = only(&got, "/partner/case");
    assert_eq!(update.method, "PATCH");
    assert_eq!(
        update.body,
        format!(
            r#"{{"guid":"{GUID}","orderData":{{"refNo":"REF"}},"productData":{{"serial":null}}}}"#
        )
    );
    let invoices: Vec<&Received> = got
        .iter()
        .filter(|r| r.path == "/partner/invoice")
        .collect();
    let mut ids: Vec<i64> = invoices
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![7, 8]);
    let seven = invoices
        .iter()
        .find(|r| r.json()["id"] == 7)
        .unwrap()
        .json();
    let mut want = invoice(7, "ready");
    want.as_object_mut().unwrap().insert("case".into(), {
        let mut c = bookkeeping.clone();
        c.as_object_mut().unwrap().remove("changedBy");
        c
    });
    assert_eq!(
        seven, want,
        "the invoice with its case, bookkeeping stripped"
    );

    let parked = s.drain(&s.stack.router_failure_queue_url).await.unwrap();
    assert_eq!(parked.len(), 1, "{parked:#?}");
    assert_eq!(
        attribute(&parked[0], "hubhooksReason").unwrap(),
        "message: attribute `senderType`: unknown variant `hub`, expected `partner` or `provider`"
    );
}

#[tokio::test]
async fn all_current_is_expanded_when_written_and_refused_when_stored_unexpanded() {
    use hubhooks::config::{ConfigItem, RawConfigItem};
    use hubhooks::event::EventType;
    let s = Stack::start(QueueSettings::default()).await.unwrap();
    let rx = TestReceiver::start(200).await.unwrap();
    let item = |id: &str, path: &str| {
        json!({"id": id, "kind": "subscription", "party": {"type": "provider", "id": PROVIDER},
               "eventTypes": ["allCurrent"], "destination": {"method": "POST", "url": rx.url(path)}})
    };
    let parsed = ConfigItem::parse(&RawConfigItem {
        id: "written".into(),
        value: item("written", "/written"),
    })
    .unwrap();
    hubhooks_cli::config::put_items(&s.sdk, &s.stack.tables.config, &[parsed])
        .await
        .unwrap();
    let stored = s
        .ddb
        .get_item()
        .table_name(&s.stack.tables.config)
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S("written".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let stored: Value = serde_dynamo::from_item(stored).unwrap();
    // Without transition conditions a transition could never fire: left out.
    let want: Vec<&str> = EventType::ALL
        .iter()
        .filter(|t| **t != EventType::StatusTransition)
        .map(|t| t.as_str())
        .collect();
    assert_eq!(stored["eventTypes"], json!(want));
    // Written around the CLI: refused (logged), the other item keeps working.
    s.put_config(&[item("hand-written", "/hand-written")])
        .await
        .unwrap();
    let _runner = s.run().await.unwrap();
    s.put_case(&case(None)).await.unwrap();
    s.put(CaseTable::Messages, &message(9, "partner", None))
        .await
        .unwrap();
    rx.wait_for(1, WAIT).await;
    tokio::time::sleep(GRACE).await;
    let got = rx.received();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0].path, "/written");
    assert_eq!(got[0].header("event-type"), Some("newMessage"));
}

/// Every sample event in events/ goes through the router as deployed (the
/// input `cargo lambda invoke router --data-file events/X.json` gives it),
/// and fires what the README says, for whom.
#[tokio::test]
async fn sample_events_route_to_the_documented_parties() {
    use aws_lambda_events::event::dynamodb::Event as StreamEvent;
    let s = Stack::start_named("hubhooks-dev", QueueSettings::default())
        .await
        .unwrap();
    let nowhere = json!({"method": "POST", "url": "http://127.0.0.1:9/"});
    s.put_config(&[
        json!({"id": "partner", "kind": "subscription", "party": {"type": "partner", "id": PARTNER},
               "eventTypes": ["any"], "destination": nowhere}),
        json!({"id": "provider", "kind": "subscription", "party": {"type": "provider", "id": PROVIDER},
               "eventTypes": ["any"], "destination": nowhere}),
        json!({"id": "inv", "kind": "invoiceSettings", "providerId": PROVIDER,
               "statuses": {"ready": {"sendToClient": true}}}),
    ])
    .await
    .unwrap();
    s.put_case(
        &json!({"guid": "68ea1505-a44f-4434-be5a-dcc959be250e", "id": 1290485,
                       "partnerId": PARTNER, "serviceProviderId": PROVIDER}),
    )
    .await
    .unwrap();
    let router = s.router_to(&s.stack.delivery_queue_url);
    for (file, want) in [
        (
            "status-insert.json",
            vec![("newStatus", "partner"), ("newStatus", "provider")],
        ),
        ("case-modify.json", vec![("caseUpdated", "partner")]),
        (
            "cost-proposal-insert.json",
            vec![("newCostProposal", "partner")],
        ),
        ("message-insert.json", vec![("newMessage", "partner")]),
        (
            "message-confirmed.json",
            vec![("messageConfirmed", "provider")],
        ),
        ("file-insert.json", vec![("newFile", "partner")]),
        ("invoice-insert.json", vec![("invoice", "partner")]),
    ] {
        let event: StreamEvent = sample_event(file);
        let response = router.handle(event).await.unwrap();
        assert!(response.batch_item_failures.is_empty(), "{file}");
        let mut got: Vec<(String, String)> = s
            .drain(&s.stack.delivery_queue_url)
            .await
            .unwrap()
            .into_iter()
            .map(|(body, _)| {
                let d: Value = serde_json::from_str(&body).unwrap();
                (
                    d["eventType"].as_str().unwrap().to_owned(),
                    d["party"]["type"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort();
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(t, p)| (t.to_owned(), p.to_owned()))
            .collect();
        assert_eq!(got, want, "{file}");
    }
    assert_eq!(s.depth(&s.stack.router_failure_queue_url).await.unwrap(), 0);
}
