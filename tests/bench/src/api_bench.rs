//! The management API on the local stack: the latency of listing
//! deliveries and of creating a subscription over real HTTP (the router
//! served on 127.0.0.1 over moto's tables), beside moto's own round trip,
//! which bounds both (moto is Python); and the api Lambda binary's start,
//! memory and size under the Runtime API emulator.
use crate::lambda_start;
use crate::stats::Spread;
use anyhow::{Context, Result, bail};
use hubhooks::party::Party;
use hubhooks::timestamp::Timestamp;
use hubhooks_cli::local::provision::LocalStack;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Percentiles of one kind of request, ms.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Latency {
    pub requests: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(mut ms: Vec<f64>) -> Latency {
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() as f64 * q).ceil() as usize).clamp(1, ms.len()) - 1];
        Latency {
            requests: ms.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: ms[ms.len() - 1],
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiFigures {
    /// `GET /v1/deliveries?limit=50` of a party with `logged` attempts.
    pub list_deliveries: Latency,
    /// `POST /v1/subscriptions`.
    pub create_subscription: Latency,
    /// One DynamoDB GetItem against moto: the floor under every request.
    pub moto_get_item: Latency,
    pub logged_attempts: usize,
    /// The api binary: start → first poll (ms), peak RSS (MB) after
    /// `invocations`, size (bytes).
    pub start_ms: Option<Spread>,
    pub peak_rss_mb: Option<f64>,
    pub invocations: usize,
    pub bytes: Option<u64>,
    /// Why the invocations did not all succeed, if they did not.
    pub invocation_error: Option<String>,
}

/// The prefix the bench's stack uses.
const PREFIX: &str = "hubhooks-dev";
const PARTNER: i64 = 1413;

/// Measures the served router, then the binary if `exe` is given.
pub async fn measure(
    sdk: &aws_config::SdkConfig,
    stack: &LocalStack,
    env: &[(String, String)],
    exe: Option<&PathBuf>,
) -> Result<ApiFigures> {
    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let resources = hubhooks_cli::local::api::resources(stack, PREFIX);
    let (key, stored) =
        hubhooks::party_key::create(Party::partner(PARTNER), None, Timestamp::now())
            .map_err(|e| anyhow::anyhow!("a party key: {e}"))?;
    hubhooks::adapters::party_keys::DynamoPartyKeys::new(ddb.clone(), resources.party_keys.clone())
        .put(&stored)
        .await?;
    let egress = hubhooks::egress::AllowList::default();
    let state = hubhooks::adapters::api::state(&ddb, &sqs, &resources, egress).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, hubhooks::api::router(Arc::new(state))).await;
    });
    let http = reqwest::Client::new();
    let key = key.expose().to_owned();

    eprintln!("api: subscriptions and a logged week for partner {PARTNER}…");
    let subscriptions = create_many(&http, &base, &key, 10).await?;
    let logged = log_attempts(
        &ddb,
        &resources.attempt_log,
        &resources.config,
        &subscriptions,
        500,
    )
    .await?;

    eprintln!("api: 50 deliveries lists, 100 creates, 200 moto GetItems…");
    // A list reads every own subscription's pages and each day's mixed
    // pages on moto: about a second each here.
    let list = time(50, || async {
        let r = http
            .get(format!("{base}/v1/deliveries?limit=50"))
            .bearer_auth(&key)
            .send()
            .await?;
        expect(r, 200).await
    })
    .await?;
    let create = time(100, || async {
        let r = http
            .post(format!("{base}/v1/subscriptions"))
            .bearer_auth(&key)
            .json(&subscription())
            .send()
            .await?;
        expect(r, 201).await
    })
    .await?;
    let get_item = time(200, || async {
        ddb.get_item()
            .table_name(&resources.config)
            .key(
                "id",
                aws_sdk_dynamodb::types::AttributeValue::S(subscriptions[0].clone()),
            )
            .send()
            .await?;
        Ok(())
    })
    .await?;
    server.abort();

    let mut figures = ApiFigures {
        list_deliveries: list,
        create_subscription: create,
        moto_get_item: get_item,
        logged_attempts: logged,
        start_ms: None,
        peak_rss_mb: None,
        invocations: 0,
        bytes: None,
        invocation_error: None,
    };
    if let Some(exe) = exe {
        let mut env = env.to_vec();
        env.extend([
            ("PARTY_KEYS_TABLE".to_owned(), resources.party_keys.clone()),
            (
                "IDEMPOTENCY_TABLE".to_owned(),
                resources.idempotency.clone(),
            ),
            ("ATTEMPT_LOG_DAYS".to_owned(), "30".to_owned()),
        ]);
        eprintln!("api: the binary, 10 starts and 15 invocations…");
        let ms = |d: Vec<Duration>| Spread::of(d.iter().map(|d| d.as_secs_f64() * 1e3).collect());
        figures.start_ms = Some(ms(lambda_start::start_times(exe, &env, 10).await?));
        let events: Vec<String> = (0..15)
            .map(|i| match i % 3 {
                0 => event("GET", "/v1/deliveries", "limit=50", &key, None),
                1 => event("GET", "/v1/subscriptions", "", &key, None),
                _ => event("POST", "/v1/subscriptions", "", &key, Some(&subscription())),
            })
            .collect();
        figures.invocations = events.len();
        figures.bytes = Some(std::fs::metadata(exe)?.len());
        let mut f = lambda_start::Function::start(exe, &env, events).await?;
        // A failure here is reported with the figures, not fatal: the
        // other figures stand.
        let ran = f
            .until_idle(Duration::from_secs(240))
            .await
            .and_then(|()| check(&f.responses(), &f.errors(), figures.invocations))
            .with_context(|| {
                format!(
                    "{} of {} answered; the api's log ends:\n{}",
                    f.responses().len(),
                    figures.invocations,
                    f.log_tail(15)
                )
            });
        match ran {
            Ok(()) => figures.peak_rss_mb = Some(f.peak_rss()? as f64 / 1048576.0),
            Err(e) => figures.invocation_error = Some(format!("{e:#}")),
        }
    }
    Ok(figures)
}

fn subscription() -> Value {
    json!({"eventTypes": ["newStatus"],
           "destination": {"method": "POST", "url": "https://erp.example/hooks"}})
}

async fn expect(r: reqwest::Response, status: u16) -> Result<()> {
    let got = r.status().as_u16();
    if got != status {
        bail!("answered {got}: {}", r.text().await.unwrap_or_default());
    }
    r.bytes().await?;
    Ok(())
}

/// `n` sequential runs of `f`, each timed.
async fn time<F, Fut>(n: usize, f: F) -> Result<Latency>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    f().await?; // warm-up
    let mut ms = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Latency::of(ms))
}

async fn create_many(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    n: usize,
) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let r = http
            .post(format!("{base}/v1/subscriptions"))
            .bearer_auth(key)
            .json(&subscription())
            .send()
            .await?;
        let v: Value = r.json().await?;
        ids.push(v["id"].as_str().context("a created id")?.to_owned());
    }
    Ok(ids)
}

/// `n` delivered attempts spread over the subscriptions and the last six
/// days, as the sender logs them.
async fn log_attempts(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    config: &str,
    subscriptions: &[String],
    n: usize,
) -> Result<usize> {
    use hubhooks::attempt::{AttemptOutcome, AttemptRecord};
    use hubhooks::operations::{Scope, subscriptions as ops};
    use hubhooks::ports::AttemptLog;
    let log =
        hubhooks::adapters::dynamo::DynamoAttemptLog::new(ddb.clone(), table.to_owned(), 30, true);
    let store =
        hubhooks::adapters::config_writer::ConfigWriter::new(ddb.clone(), config.to_owned());
    let mut subs = Vec::new();
    for id in subscriptions {
        subs.push(ops::parse(&ops::get(&store, Scope::Operator, id).await?)?);
    }
    let now = Timestamp::now();
    for i in 0..n {
        let s = &subs[i % subs.len()];
        let sub = s.id.to_string();
        let at = Timestamp(now.0 - chrono::Duration::minutes((i * 17) as i64));
        let record = AttemptRecord {
            delivery_id: hubhooks::ids::DeliveryId::new(format!("bench-{i}")),
            attempt: 1,
            subscription_id: hubhooks::ids::SubscriptionId::new(sub),
            event_type: hubhooks::event::EventType::NewStatus,
            case_guid: hubhooks::ids::CaseGuid::new(
                "68ea1505-a44f-4434-be5a-dcc959be250e".to_owned(),
            ),
            transport: "http".into(),
            outcome: AttemptOutcome::Delivered,
            status: Some(200),
            error: None,
            latency_ms: Some(40),
            excerpt: "ok".into(),
            at,
            test: false,
        };
        let delivery = hubhooks::delivery::Delivery::new(
            record.delivery_id.clone(),
            s,
            record.event_type,
            s.destination.as_ref().context("a destination")?,
            record.case_guid.as_str(),
            "{}".into(),
            "bench".into(),
            at,
        );
        log.record(&record, &delivery).await?;
    }
    log.flush().await?;
    Ok(n)
}

/// An API Gateway HTTP API (payload 2.0) event, as events/ holds them.
fn event(method: &str, path: &str, query: &str, key: &str, body: Option<&Value>) -> String {
    json!({
        "version": "2.0",
        "routeKey": "ANY /v1/{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"authorization": format!("Bearer {key}"), "content-type": "application/json",
                    "host": "bench.execute-api.eu-central-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "bench",
            "domainName": "bench.execute-api.eu-central-1.amazonaws.com", "domainPrefix": "bench",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "bench"},
            "requestId": "bench", "routeKey": "ANY /v1/{proxy+}", "stage": "$default",
            "time": "05/Dec/2026:10:00:01 +0000", "timeEpoch": 1796464801000_i64
        },
        "pathParameters": {"proxy": path.trim_start_matches("/v1/")},
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    })
    .to_string()
}

/// Every invocation answered 2xx.
fn check(responses: &[String], errors: &[String], expected: usize) -> Result<()> {
    if let Some(e) = errors.first() {
        bail!("the api failed an invocation: {e}");
    }
    if responses.len() != expected {
        bail!(
            "the api answered {} of {expected} invocations",
            responses.len()
        );
    }
    for r in responses {
        let v: Value = serde_json::from_str(r)?;
        let status = v["statusCode"].as_u64().unwrap_or(0);
        if !(200..300).contains(&status) {
            bail!("the api answered {status}: {r}");
        }
    }
    Ok(())
}
