//! Durability: the engine killed with SIGKILL in the middle of a rush and
//! restarted loses no acknowledged order and oversells nothing; with the
//! database gone, orders get 503 with nothing half-written, and ordering
//! resumes when it returns.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use rust_decimal_macros::dec;
use uuid::Uuid;

use crate::fixtures::{customers, offer, open_sale, order, shop_available, sold};
use crate::helpers::{
    cluster, fresh_database, parse_id, spawn_app_with, test_settings, SocketProxy, TestApp,
};

/// `etal serve` as a child process on a free port.
pub struct EngineProcess {
    pub child: Child,
}

impl EngineProcess {
    pub async fn start(database_url: &str, port: u16) -> Self {
        Self::start_with(database_url, port, &[]).await
    }

    /// Started with extra `ETAL__…` settings in its environment.
    pub async fn start_with(database_url: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_etal"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DATABASE_URL", database_url)
            .env("ETAL__LOG__LEVEL", "warn")
            .env("ETAL__SERVER__WORKERS", "2")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start etal");
        let process = Self { child };
        let client = reqwest::Client::new();
        let ready = format!("http://127.0.0.1:{port}/ready");
        let started = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                if let Ok(r) = client.get(&ready).send().await {
                    if r.status().is_success() {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        assert!(started.is_ok(), "the engine became ready");
        process
    }

    /// Sends a signal (`INT`, `TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIG{name} sent");
    }

    /// Waits (polling, up to `limit`) for the process to exit: its status.
    pub async fn exited(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn kill(&mut self) {
        // `Child::kill` sends SIGKILL on Unix: no shutdown code runs.
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for EngineProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[actix_web::test]
async fn an_engine_killed_mid_rush_loses_no_acknowledged_order() {
    let _heavy = crate::helpers::heavy().await;
    let url = fresh_database().await;
    let port = free_port();
    let mut engine = EngineProcess::start(&url, port).await;
    let app = TestApp::external(format!("http://127.0.0.1:{port}"), port, &url).await;

    // A sale whose window the real clock is in (the child uses the system
    // clock): planned as if two minutes ago, it opened a minute ago.
    app.clock
        .set(chrono::Utc::now() - chrono::Duration::minutes(2));
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(500))]).await;
    let chicken = sale.producer.offers[0];
    let crowd = customers(&app, 400).await;

    let acknowledged = Arc::new(AtomicUsize::new(0));
    let rush = join_all(crowd.iter().map(|c| {
        let acknowledged = acknowledged.clone();
        let path = format!("/api/v1/distributions/{}/orders", sale.distribution_id);
        let body = serde_json::json!({"lines": [{"offer_id": chicken, "quantity": "1"}]});
        let app = &app;
        async move {
            let pending = app.try_call(reqwest::Method::POST, &path, Some(&body), Some(&c.token));
            // A request cut by the kill has no answer: it may or may not exist.
            let answer = tokio::time::timeout(Duration::from_secs(20), pending)
                .await
                .ok()?
                .ok()?;
            (answer.status.as_u16() == 201).then(|| {
                acknowledged.fetch_add(1, Ordering::SeqCst);
                parse_id(&answer.body["id"])
            })
        }
    }));
    let killer = async {
        tokio::time::timeout(Duration::from_secs(30), async {
            while acknowledged.load(Ordering::SeqCst) < 40 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .ok();
        engine.kill();
    };
    let (answers, ()) = futures_util::join!(rush, killer);
    let acked: Vec<Uuid> = answers.into_iter().flatten().collect();
    assert!(
        acked.len() >= 40,
        "the engine was killed mid-rush, after {} orders",
        acked.len()
    );

    let _restarted = EngineProcess::start(&url, port).await;
    for id in &acked {
        let (status,): (String,) = sqlx::query_as("SELECT status FROM orders WHERE id = $1")
            .bind(id)
            .fetch_optional(&app.db)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("acknowledged order {id} lost"));
        assert_eq!(status, "confirmed");
    }
    let stored = sold(&app, chicken).await;
    assert!(
        stored >= rust_decimal::Decimal::from(acked.len()),
        "every acknowledged unit is stored"
    );
    assert!(stored <= dec!(500), "not oversold");
    assert!(
        stored < dec!(500),
        "the kill happened before the stock ran out"
    );
    // The restarted engine rebuilt its offer from the database.
    assert_eq!(
        shop_available(&app, sale.distribution_id, chicken).await,
        Some((dec!(500) - stored).normalize().to_string())
    );
    // And keeps selling exactly what is left.
    let late = customers(&app, 520).await;
    let answers = join_all(
        late.iter()
            .map(|c| order(&app, sale.distribution_id, c, &[(chicken, "1")])),
    )
    .await;
    assert!(answers
        .iter()
        .all(|a| matches!(a.status.as_u16(), 201 | 409)));
    assert_eq!(sold(&app, chicken).await, dec!(500), "sold out exactly");
}

#[actix_web::test]
async fn with_the_database_gone_orders_get_503_and_nothing_is_half_written() {
    let _heavy = crate::helpers::heavy().await;
    let target = fresh_database().await;
    let proxy = SocketProxy::start(cluster().socket_dir()).await;
    let mut settings = test_settings(&proxy.url_for(&target));
    settings.database.connect_timeout_secs = 2;
    settings.database.acquire_timeout_ms = 2_000;
    let app = spawn_app_with(settings, chrono::Utc::now()).await;
    let sale = open_sale(&app, &[offer("Miel", "9.00", Some(1000))]).await;
    let honey = sale.producer.offers[0];
    let crowd = customers(&app, 60).await;
    // Everyone orders once (their tokens are now known to the engine). The
    // stock cannot run out: during the outage every attempt stays reserved
    // until its commit fails, and this test is about the 503s.
    let first = join_all(
        crowd
            .iter()
            .map(|c| order(&app, sale.distribution_id, c, &[(honey, "1")])),
    )
    .await;
    assert!(first.iter().all(|a| a.status.as_u16() == 201));

    proxy.cut();
    let during = join_all(
        crowd
            .iter()
            .map(|c| order(&app, sale.distribution_id, c, &[(honey, "1")])),
    )
    .await;
    for answer in &during {
        assert_eq!(answer.status.as_u16(), 503, "{}", answer.body);
        assert!(answer.headers.get("retry-after").is_some());
    }

    proxy.restore();
    // Nothing of the refused attempts reached the database or stuck in memory.
    let (lines,): (i64,) = sqlx::query_as("SELECT count(*) FROM order_lines")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(lines, 60);
    assert_eq!(sold(&app, honey).await, dec!(60));
    assert_eq!(
        shop_available(&app, sale.distribution_id, honey)
            .await
            .as_deref(),
        Some("940")
    );

    // Recovery: orders go through again.
    let after = join_all(
        crowd
            .iter()
            .take(30)
            .map(|c| order(&app, sale.distribution_id, c, &[(honey, "1")])),
    )
    .await;
    assert!(
        after.iter().all(|a| a.status.as_u16() == 201),
        "ordering resumed"
    );
    assert_eq!(sold(&app, honey).await, dec!(90));
    assert_eq!(
        shop_available(&app, sale.distribution_id, honey)
            .await
            .as_deref(),
        Some("910")
    );
}
