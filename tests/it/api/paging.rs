//! Subscription lists a page at a time: every one once, in id order; a
//! cursor works only for the query and the caller it was given to.
use super::*;

/// Follows `nextCursor` from `first` to the end; the ids seen, page by page.
async fn pages(api: &Api, first: &str, key: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut path = first.to_owned();
    loop {
        let (status, _, body) = api.get(&path, Some(key)).await;
        assert_eq!(status, 200, "{path}: {body}");
        let ids = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        out.push(ids);
        let Some(next) = body["nextCursor"].as_str() else {
            return out;
        };
        let sep = if first.contains('?') { '&' } else { '?' };
        path = format!("{first}{sep}cursor={next}");
    }
}

#[tokio::test]
async fn subscriptions_are_listed_a_page_at_a_time_by_id() {
    let api = serve().await;
    let sub = |id: String, partner: i64| {
        json!({"id": id, "kind": "subscription", "party": {"type": "partner", "id": partner},
               "eventTypes": ["newStatus"], "destination": {"method": "POST", "url": "https://x.example/"}})
    };
    // a-1, a-2 (and b-1, another party's) are there; five more of 1413's.
    let more: Vec<Value> = (3..=7).map(|n| sub(format!("a-{n}"), 1413)).collect();
    api.stack.put_config(&more).await.unwrap();
    let key = api.key(Party::partner(1413), |k| k).await;
    let other = api.key(Party::partner(9999), |k| k).await;

    // WHEN the party lists two at a time
    let seen = pages(&api, "/v1/subscriptions?limit=2", &key).await;
    // THEN it sees each of its own once, in order, in pages of two
    let expected = |ids: &[&[&str]]| -> Vec<Vec<String>> {
        ids.iter()
            .map(|p| p.iter().map(|s| s.to_string()).collect())
            .collect()
    };
    assert_eq!(
        seen,
        expected(&[&["a-1", "a-2"], &["a-3", "a-4"], &["a-5", "a-6"], &["a-7"]])
    );
    // AND one page holds them all by default
    assert_eq!(
        pages(&api, "/v1/subscriptions", &key).await,
        expected(&[&["a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7"]])
    );
    // AND an operator pages through every party's, or one party's
    assert_eq!(
        pages(&api, "/v1/admin/subscriptions?limit=3", OPERATOR).await,
        expected(&[
            &["a-1", "a-2", "a-3"],
            &["a-4", "a-5", "a-6"],
            &["a-7", "b-1"]
        ])
    );
    assert_eq!(
        pages(
            &api,
            "/v1/admin/subscriptions?party=partner:9999&limit=3",
            OPERATOR
        )
        .await,
        expected(&[&["b-1"]])
    );

    // WHEN a cursor is used for another query, by another party, altered
    let (_, _, first) = api.get("/v1/subscriptions?limit=2", Some(&key)).await;
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let mut altered = cursor.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for (path, who) in [
        (format!("/v1/subscriptions?limit=3&cursor={cursor}"), &key),
        (format!("/v1/subscriptions?limit=2&cursor={cursor}"), &other),
        (format!("/v1/subscriptions?limit=2&cursor={altered}"), &key),
        (
            format!("/v1/admin/subscriptions?limit=2&cursor={cursor}"),
            &OPERATOR.to_owned(),
        ),
    ] {
        // THEN it is refused, naming the cursor
        let (status, kind, body) = api.get(&path, Some(who)).await;
        assert_eq!(
            (status, kind.as_str(), &body["pointer"]),
            (400, "application/problem+json", &json!("/cursor")),
            "{path}: {body}"
        );
    }
    // AND a bad limit or an unknown parameter is named
    for (path, pointer) in [
        ("/v1/subscriptions?limit=0", "/limit"),
        ("/v1/subscriptions?limit=101", "/limit"),
        ("/v1/subscriptions?limit=x", "/limit"),
        ("/v1/subscriptions?party=partner:9999", "/party"),
        ("/v1/admin/subscriptions?page=2", "/page"),
    ] {
        let who = if path.contains("admin") {
            OPERATOR
        } else {
            &key
        };
        let (status, _, body) = api.get(path, Some(who)).await;
        assert_eq!((status, &body["pointer"]), (422, &json!(pointer)), "{path}");
    }
}
