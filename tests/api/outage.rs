//! PostgreSQL frozen (every process of the cluster stopped with SIGSTOP: it
//! accepts nothing and answers nothing), then stopped like a crash
//! (`pg_ctl stop -m immediate`) under a running engine: orders and `/ready`
//! answer 503 + `Retry-After` at once instead of waiting for the database
//! (`database.acquire_timeout_ms`, 1 s by default), and ordering resumes
//! once it is back.
//!
//! Its own PostgreSQL cluster (the shared test cluster must stay up).

use std::path::PathBuf;
use std::time::Duration;

use etal::store::cluster::{ClusterStatus, PrivateCluster, StopMode};
use etal::store::Store;
use serde_json::json;

use crate::fixtures::{customers, offer, open_sale, sold};
use crate::helpers::{spawn_app_with, test_settings, TestApp};

/// Sends a request: its status and whether `Retry-After` came with it, or
/// `None` when no answer came within `limit`.
async fn try_within(request: reqwest::RequestBuilder, limit: Duration) -> Option<(u16, bool)> {
    let answer = request.timeout(limit).send().await.ok()?;
    Some((
        answer.status().as_u16(),
        answer.headers().contains_key("retry-after"),
    ))
}

/// Like [`try_within`], for a request that must be answered.
async fn answered_within(
    _app: &TestApp,
    request: reqwest::RequestBuilder,
    limit: Duration,
) -> (u16, bool) {
    try_within(request, limit)
        .await
        .unwrap_or_else(|| panic!("no answer within {limit:?}"))
}

/// The cluster's postmaster and its children (from `/proc`).
fn cluster_processes(cluster: &PrivateCluster) -> Vec<String> {
    let Ok(ClusterStatus::Running { pid }) = cluster.status() else {
        panic!("the outage cluster runs");
    };
    let mut pids = vec![pid.to_string()];
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // `pid (comm) state ppid …`: the fields after the command's parenthesis.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(pid) {
            pids.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    pids
}

/// Sends `SIG<name>` to these processes.
fn signal(pids: &[String], name: &str) {
    let sent = std::process::Command::new("kill")
        .arg(format!("-{name}"))
        .args(pids)
        .status()
        .expect("kill runs");
    assert!(sent.success(), "SIG{name} sent");
}

#[actix_web::test]
async fn with_postgres_crashed_orders_and_ready_answer_503_at_once_then_recover() {
    let _heavy = crate::helpers::heavy().await;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("outage-cluster-{}", std::process::id()));
    let cluster = PrivateCluster::new(&dir).expect("cluster directory");
    let started = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.ensure_started())
    };
    started.await.expect("task").expect("outage cluster starts");
    let admin = Store::connect_lazy(&cluster.url("postgres"), 1, Duration::from_secs(30))
        .expect("admin pool");
    admin
        .create_database_if_missing("etal")
        .await
        .expect("database");
    admin.close().await;

    let mut settings = test_settings(&cluster.url("etal"));
    settings.database.acquire_timeout_ms = 1_000; // the default
    let app = spawn_app_with(settings, chrono::Utc::now()).await;
    let sale = open_sale(&app, &[offer("Miel", "9.00", Some(100))]).await;
    let customer = customers(&app, 1).await.remove(0);
    let path = format!("/api/v1/distributions/{}/orders", sale.distribution_id);
    let body = json!({"lines": [{"offer_id": sale.producer.offers[0], "quantity": 1}]});
    let order = || {
        app.client
            .post(app.url(&path))
            .bearer_auth(&customer.token)
            .json(&body)
    };
    assert_eq!(
        answered_within(&app, order(), Duration::from_secs(30))
            .await
            .0,
        201
    );

    // Frozen: connections neither open nor answer.
    let frozen = cluster_processes(&cluster);
    signal(&frozen, "STOP");
    let during = (
        answered_within(&app, order(), Duration::from_secs(2)).await,
        answered_within(
            &app,
            app.client.get(app.url("/ready")),
            Duration::from_secs(1),
        )
        .await,
    );
    signal(&frozen, "CONT");
    assert_eq!(during.0, (503, true), "an order while PostgreSQL is frozen");
    assert_eq!(during.1, (503, true), "/ready while PostgreSQL is frozen");

    let crashed = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop_in(StopMode::Immediate))
    };
    crashed.await.expect("task").expect("immediate stop");

    let (status, retry) = answered_within(&app, order(), Duration::from_secs(2)).await;
    assert_eq!((status, retry), (503, true), "an order during the outage");
    let (status, retry) = answered_within(
        &app,
        app.client.get(app.url("/ready")),
        Duration::from_secs(1),
    )
    .await;
    assert_eq!((status, retry), (503, true), "/ready during the outage");

    // Back (crash recovery first): ready again, and ordering resumes.
    let restarted = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.ensure_started())
    };
    restarted.await.expect("task").expect("restart");
    let mut ready = false;
    for _ in 0..600 {
        if answered_within(
            &app,
            app.client.get(app.url("/ready")),
            Duration::from_secs(2),
        )
        .await
        .0 == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "/ready turns 200 once PostgreSQL is back");
    let mut placed = 0;
    for _ in 0..50 {
        placed = answered_within(&app, order(), Duration::from_secs(30))
            .await
            .0;
        if placed == 201 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(placed, 201, "ordering resumes");
    // The first order and the one after: the refused one left nothing.
    assert_eq!(
        sold(&app, sale.producer.offers[0]).await,
        rust_decimal_macros::dec!(2)
    );

    let stop = {
        let cluster = cluster.clone();
        tokio::task::spawn_blocking(move || cluster.stop())
    };
    let _ = stop.await;
    let _ = std::fs::remove_dir_all(&dir);
}
