//! Three real `etal serve --cluster` processes on one PostgreSQL and one
//! NATS (`nodes/harness.rs`): a rush sent round-robin to the three never
//! oversells and every 201 is in the database, while storefront watchers
//! spread over the three converge to it and a producer's feed on a standby
//! sees every order; `kill -9` of the active node mid-rush — a standby
//! takes over, retries with the same `Idempotency-Key` through another node
//! order once, nothing acknowledged is lost, nothing oversold, and the old
//! node restarted comes back as a standby; a paused (SIGSTOP) active node
//! that wakes after losing its lease commits nothing. What a standby does
//! on its own (a NATS outage, a customer's basket) is in `standby`, the
//! waiting room seen from a standby's storefront in `room`, the lease's
//! fence against the database alone in `lease`.

mod client;
mod harness;
mod lease;
mod room;
mod standby;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::{stream, StreamExt};
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use tokio::sync::watch;
use uuid::Uuid;

use crate::fixtures::{customers, sold};
use crate::helpers::parse_id;
use crate::live_client::{connect, connect_as, next_of_type, watch_until, WAIT};
use client::{follow_until, order_ids, order_once, sale_now};
use harness::Nodes;

#[actix_web::test]
async fn a_round_robin_rush_over_three_nodes_never_oversells_and_every_watcher_converges() {
    let _heavy = crate::helpers::heavy().await;
    let cluster = Nodes::start(3, &[]).await;
    let active = cluster.active().await;
    let standby = (active + 1) % 3;
    let mut apps = Vec::new();
    for i in 0..3 {
        apps.push(cluster.app(i).await);
    }

    // Every node names the same active node; the others are standbys.
    let active_url = &cluster.nodes[active].url;
    for (i, node) in cluster.nodes.iter().enumerate() {
        let ready = cluster.ready_of(&node.url).await.expect("ready");
        let role = if i == active { "active" } else { "standby" };
        assert_eq!(ready["role"], role, "{ready}");
        assert_eq!(ready["active"]["url"], json!(active_url), "{ready}");
        assert_eq!(ready["cluster"], true);
        assert_eq!(ready["nats"], "connected");
    }

    // Planned through a standby: the planning changes are forwarded.
    let sale = sale_now(&apps[standby], 150).await;
    let chicken = sale.producer.offers[0];
    let crowd = customers(&apps[active], 300).await;

    // Watchers on every node, and the producer's feed on a standby.
    let (target_tx, target) = watch::channel(None);
    let watched = format!("/ws/distributions/{}", sale.distribution_id);
    let mut watchers = Vec::new();
    for app in &apps {
        for _ in 0..4 {
            let ws = connect(app, &watched).await;
            watchers.push(tokio::spawn(watch_until(ws, target.clone())));
        }
    }
    let feed = format!("/ws/producers/{}", sale.producer.producer_id);
    let mut board = connect_as(&apps[standby], &feed, &sale.producer.owner.token)
        .await
        .expect("the producer's feed opens on a standby");

    // The rush: customers round-robin over the three nodes.
    let answers: Vec<_> = stream::iter(crowd.iter().enumerate().map(|(i, c)| {
        let app = &apps[i % 3];
        let key = format!("rush-{i}");
        let sale = &sale;
        async move { order_once(app, sale, chicken, c, &key).await }
    }))
    .buffer_unordered(64)
    .collect()
    .await;
    let mut acknowledged = Vec::new();
    for answer in answers {
        let (status, body) = answer.expect("every node answered");
        assert!(status == 201 || status == 409, "{status}: {body}");
        if status == 201 {
            acknowledged.push(parse_id(&body["id"]));
        }
    }
    assert_eq!(acknowledged.len(), 150, "exactly the stock was sold");
    assert_eq!(sold(&apps[0], chicken).await, dec!(150), "not oversold");
    let stored = order_ids(&apps[0]).await;
    for id in &acknowledged {
        assert!(stored.contains(id), "acknowledged order {id} is stored");
    }

    // Every watcher, whichever node serves it, ends at the database's figure.
    let truth: HashMap<String, Value> = [(chicken.to_string(), json!("0"))].into();
    target_tx.send_replace(Some(truth.clone()));
    let views = tokio::time::timeout(WAIT * 2, join_all(watchers))
        .await
        .expect("every watcher converges in time");
    for (i, view) in views.into_iter().enumerate() {
        let view = view
            .expect("task")
            .unwrap_or_else(|e| panic!("watcher {i}: {e}"));
        assert_eq!(view.available, truth, "watcher {i} (node {})", i / 4);
    }
    // The producer's feed on a standby saw every order placed, once.
    let mut seen = std::collections::HashSet::new();
    while seen.len() < acknowledged.len() {
        let event = next_of_type(&mut board, "order_placed").await;
        assert_eq!(
            event["order"]["distribution_id"],
            json!(sale.distribution_id)
        );
        assert!(
            seen.insert(parse_id(&event["order"]["id"])),
            "announced twice"
        );
    }
    let acknowledged: std::collections::HashSet<Uuid> = acknowledged.into_iter().collect();
    assert_eq!(seen, acknowledged);
}

#[actix_web::test]
async fn killing_the_active_node_mid_rush_loses_nothing_and_it_returns_as_a_standby() {
    let _heavy = crate::helpers::heavy().await;
    let mut cluster = Nodes::start(3, &[]).await;
    let active = cluster.active().await;
    let survivors: Vec<usize> = (0..3).filter(|i| *i != active).collect();
    let mut apps = Vec::new();
    for i in 0..3 {
        apps.push(cluster.app(i).await);
    }
    let sale = sale_now(&apps[active], 400).await;
    let chicken = sale.producer.offers[0];
    let crowd = customers(&apps[active], 300).await;
    // Storefronts on the surviving nodes stay connected through it.
    let (target_tx, target) = watch::channel(None);
    let watched = format!("/ws/distributions/{}", sale.distribution_id);
    let mut watchers = Vec::new();
    for &i in &survivors {
        for _ in 0..2 {
            let ws = connect(&apps[i], &watched).await;
            watchers.push(tokio::spawn(follow_until(ws, target.clone())));
        }
    }

    // Every customer orders once, through node i % 3; when that node does
    // not answer (killed) or answers 503 (no engine yet), the customer
    // retries with the same key through a surviving node.
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let rush = stream::iter(crowd.iter().enumerate().map(|(i, c)| {
        let (apps, sale, survivors) = (&apps, &sale, &survivors);
        let acknowledged = acknowledged.clone();
        async move {
            let key = format!("failover-{i}");
            let mut node = i % 3;
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                match order_once(&apps[node], sale, chicken, c, &key).await {
                    Some((201, body)) => {
                        acknowledged.fetch_add(1, Ordering::SeqCst);
                        return Some(parse_id(&body["id"]));
                    }
                    Some((409, body)) => panic!("nothing should run out: {body}"),
                    Some((503, _)) | None => {
                        node = survivors[i % survivors.len()];
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Some((status, body)) => panic!("{status}: {body}"),
                }
            }
            None
        }
    }))
    .buffer_unordered(32)
    .collect::<Vec<_>>();
    let killer = async {
        while acknowledged.load(Ordering::SeqCst) < 60 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        cluster.nodes[active].kill();
    };
    let (answers, ()) = futures_util::join!(rush, killer);
    let acked: Vec<Uuid> = answers
        .into_iter()
        .map(|a| a.expect("every customer got an answer in the end"))
        .collect();
    assert_eq!(acked.len(), 300, "ordering resumed for everyone");

    // One order per customer (the retries with the same key ordered once),
    // every acknowledged one stored, nothing oversold.
    let stored = order_ids(&apps[survivors[0]]).await;
    assert_eq!(stored.len(), 300, "one order per customer");
    for id in &acked {
        assert!(stored.contains(id), "acknowledged order {id} is stored");
    }
    assert_eq!(sold(&apps[survivors[0]], chicken).await, dec!(300));
    let new_active = cluster.active_among(&survivors).await;
    let shop = apps[new_active]
        .get(
            &format!("/api/v1/distributions/{}/shop", sale.distribution_id),
            None,
        )
        .await
        .expect(200);
    assert_eq!(
        shop["offers"][0]["available"], "100",
        "rebuilt from the database"
    );
    let truth: HashMap<String, Value> = [(chicken.to_string(), json!("100"))].into();
    target_tx.send_replace(Some(truth.clone()));
    let views = tokio::time::timeout(WAIT, join_all(watchers))
        .await
        .expect("the surviving storefronts converge in time");
    for view in views {
        let (shown, snapshots) = view
            .expect("task")
            .unwrap_or_else(|e| panic!("a storefront: {e}"));
        assert_eq!(shown, truth);
        assert!(snapshots >= 2, "a fresh snapshot after the failover");
    }

    // The old active node, restarted, comes back as a standby.
    let port = cluster.nodes[active].port;
    let back = cluster.add(port).await;
    let ready = cluster
        .ready_of(&cluster.nodes[back].url)
        .await
        .expect("ready");
    assert_eq!(ready["role"], "standby", "{ready}");
    assert_eq!(ready["active"]["url"], json!(cluster.nodes[new_active].url));
    // And it takes orders, through the active node.
    let late = customers(&apps[new_active], 1).await;
    let (status, body) = order_once(&apps[active], &sale, chicken, &late[0], "late")
        .await
        .expect("answer");
    assert_eq!(status, 201, "{body}");
}

#[actix_web::test]
async fn a_paused_active_node_that_wakes_after_losing_its_lease_commits_nothing() {
    let _heavy = crate::helpers::heavy().await;
    // Batches wait 1.5 s for company: orders sent to the active node are
    // still uncommitted when it is paused.
    let cluster = Nodes::start(3, &[("ETAL__ENGINE__WRITER_BATCH_WAIT_MS", "1500")]).await;
    let active = cluster.active().await;
    let others: Vec<usize> = (0..3).filter(|i| *i != active).collect();
    let mut apps = Vec::new();
    for i in 0..3 {
        apps.push(cluster.app(i).await);
    }
    let sale = sale_now(&apps[active], 10).await;
    let chicken = sale.producer.offers[0];
    let early = customers(&apps[active], 5).await;
    let late = customers(&apps[active], 10).await;

    // Five orders reach the active node's writer, then it is paused.
    let pending = join_all(early.iter().enumerate().map(|(i, c)| {
        let (app, sale) = (&apps[active], &sale);
        async move { order_once(app, sale, chicken, c, &format!("paused-{i}")).await }
    }));
    let pause = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        cluster.nodes[active].signal("STOP");
        // A standby takes the lease over and sells the whole stock.
        let new_active = cluster.active_among(&others).await;
        let answers = join_all(late.iter().enumerate().map(|(i, c)| {
            let app = &apps[new_active];
            let sale = &sale;
            async move { order_once(app, sale, chicken, c, &format!("late-{i}")).await }
        }))
        .await;
        for answer in answers {
            let (status, body) = answer.expect("answered");
            assert_eq!(status, 201, "{body}");
        }
        cluster.nodes[active].signal("CONT");
        new_active
    };
    let (paused_answers, new_active) = futures_util::join!(pending, pause);

    // The woken node's batch was refused: none of its orders is stored and
    // the stock is not oversold.
    for answer in paused_answers {
        let (status, body) = answer.expect("the woken node answered");
        assert_ne!(status, 201, "a node that lost its lease committed: {body}");
    }
    assert_eq!(
        sold(&apps[new_active], chicken).await,
        dec!(10),
        "not oversold"
    );
    let (stored,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders")
        .fetch_one(&apps[new_active].db)
        .await
        .expect("count");
    assert_eq!(stored, 10, "only the new active node's orders");
    // It knows it is a standby now.
    let demoted = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ready = cluster.ready_of(&cluster.nodes[active].url).await;
            if ready.is_some_and(|r| r["role"] == "standby") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(demoted.is_ok(), "the woken node stepped down");
}
