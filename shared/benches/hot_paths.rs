//! `cargo bench -p hubhooks`: the router's and sender's per-record work,
//! timed over many iterations (median of 15 runs, ns per operation).
//! No framework: the hot paths are pure functions, so a loop and a clock
//! say what matters; compare runs on the same machine only.
use hubhooks::case_update;
use hubhooks::config::{ConfigSet, RawConfigItem};
use hubhooks::record::{CaseRecord, StatusRecord};
use hubhooks::routing::{self, Change};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Instant;

fn bench(name: &str, iterations: u32, mut op: impl FnMut()) {
    let mut runs: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iterations {
                op();
            }
            start.elapsed().as_nanos() as f64 / f64::from(iterations)
        })
        .collect();
    runs.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name:<52} {:>10.0} ns/op   (min {:.0}, max {:.0})",
        runs[7], runs[0], runs[14]
    );
}

fn config(subscriptions_per_party: usize) -> ConfigSet {
    let mut raw = Vec::new();
    for i in 0..subscriptions_per_party {
        for (kind, id) in [("partner", 1413), ("provider", 1004)] {
            let sid = format!("{kind}-{i}");
            raw.push(RawConfigItem {
                id: sid.clone(),
                value: json!({"id": sid, "kind": "subscription", "party": {"type": kind, "id": id},
                    "eventTypes": ["newStatus", "statusTransition"], "transitions": [{"to": "final"}],
                    "destination": {"method": "POST", "url": format!("https://example.com/{i}")}}),
            });
        }
    }
    raw.push(RawConfigItem {
        id: "map".into(),
        value: json!({"id": "map", "kind": "statusMapping", "partnerId": 1413,
            "statuses": {"repair_done": {"key": "final", "name": "Repair finished"}}}),
    });
    ConfigSet::from_raw(raw)
}

fn golden(t: &str) -> Value {
    let path = format!(
        "{}/../events/catalogue/{t}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn main() {
    let case = CaseRecord::from_json(golden("invoice")["case"].clone()).unwrap();
    let status = StatusRecord::from_json(json!({"id": 9, "caseId": case.id, "guid": case.guid,
        "key": "repair_done", "name": "Repair done", "createdAt": "2023-01-25T13:11:18.000Z"}))
    .unwrap();
    let previous: Vec<StatusRecord> = (1..=8)
        .rev()
        .map(|i| {
            StatusRecord::from_json(json!({"id": i, "caseId": case.id, "guid": case.guid,
                "key": format!("k{i}"), "name": "n", "createdAt": "2023-01-25T13:11:18.000Z"}))
            .unwrap()
        })
        .collect();
    for n in [1, 20] {
        let cfg = config(n);
        let change = Change::StatusAdded {
            status: &status,
            previous: &previous,
        };
        bench(
            &format!("route a status, {} subscriptions, both types", 2 * n),
            2_000,
            || {
                black_box(routing::route(&cfg, &case, &change).unwrap());
            },
        );
    }

    let input = golden("caseUpdated");
    let old = CaseRecord::from_json(input["old"].clone()).unwrap();
    let new = CaseRecord::from_json(input["item"].clone()).unwrap();
    bench("case-update diff (seed example)", 20_000, || {
        black_box(case_update::diff(&old, &new));
    });

    let invoice = hubhooks::record::Invoice::from_json(golden("invoice")["item"].clone()).unwrap();
    bench("render an invoice body (seed example, v3)", 20_000, || {
        black_box(
            hubhooks::payload::render(
                &hubhooks::payload::Subject::Invoice {
                    invoice: &invoice,
                    case: &case,
                },
                hubhooks::payload::Version::V3,
            )
            .unwrap(),
        );
    });

    let body = "x".repeat(10 * 1024);
    let keys = vec![
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
        "whsec_bmV3LWtleS0xMjM0NTY3ODkw".to_owned(),
    ];
    bench("sign a 10 KiB body with 2 keys (rotation)", 5_000, || {
        black_box(hubhooks::signature::sign(&keys, "msg_1", 1_700_000_000, &body).unwrap());
    });
}
