//! What a standby does on its own: during a NATS outage the active node
//! keeps taking the orders that reach it while a standby answers 503
//! `no_engine`, and the standby's storefronts resynchronise when NATS
//! returns; a customer's basket, set through a standby, shows in the
//! snapshot of their storefront on that standby; a producer's stock page
//! saved on a standby is what the active engine sells from at once.

use std::collections::HashMap;

use rust_decimal_macros::dec;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::client::{follow_until, order_once, sale_now};
use super::harness::Nodes;
use crate::fixtures::{customers, shop_available, sold, OpenSale};
use crate::helpers::TestApp;
use crate::live_client::{connect, connect_as, next_of_type, WAIT};
use crate::web_client::WebClient;

/// Two nodes, the active one's and the standby's clients, and a sale of
/// one offer (`stock` units) planned through the active node.
async fn two_nodes(stock: u32) -> (Nodes, TestApp, TestApp, OpenSale) {
    let cluster = Nodes::start(2, &[]).await;
    let active = cluster.active().await;
    let (direct, edge) = (cluster.app(active).await, cluster.app(1 - active).await);
    let sale = sale_now(&direct, stock).await;
    (cluster, direct, edge, sale)
}

#[actix_web::test]
async fn during_a_nats_outage_the_active_node_orders_and_standbys_resync_when_it_returns() {
    let _heavy = crate::helpers::heavy().await;
    let (cluster, direct, edge, sale) = two_nodes(100).await;
    let standby = 1 - cluster.active().await;
    let chicken = sale.producer.offers[0];
    let crowd = customers(&direct, 8).await;
    let (target_tx, target) = watch::channel(None);
    let ws = connect(
        &edge,
        &format!("/ws/distributions/{}", sale.distribution_id),
    )
    .await;
    let watcher = tokio::spawn(follow_until(ws, target));

    cluster.stop_nats();
    cluster.wait_nats(standby, "disconnected").await;
    let (status, body) = order_once(&edge, &sale, chicken, &crowd[0], "outage-edge")
        .await
        .expect("answer");
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("no_engine")),
        "{body}"
    );
    for (i, customer) in crowd.iter().enumerate().skip(1).take(5) {
        let (status, body) = order_once(&direct, &sale, chicken, customer, &format!("outage-{i}"))
            .await
            .expect("answer");
        assert_eq!(status, 201, "the active node orders without NATS: {body}");
    }

    cluster.restart_nats();
    cluster.wait_nats(standby, "connected").await;
    // The changes published during the outage were lost; the standby's
    // storefront took a fresh snapshot when NATS came back.
    let truth: HashMap<String, Value> = [(chicken.to_string(), json!("95"))].into();
    target_tx.send_replace(Some(truth.clone()));
    let (shown, snapshots) = tokio::time::timeout(WAIT, watcher)
        .await
        .expect("the standby's storefront converges")
        .expect("task")
        .unwrap_or_else(|e| panic!("storefront: {e}"));
    assert_eq!(shown, truth);
    assert!(snapshots >= 2, "resynchronised after the outage");
    // And forwarding works again.
    let (status, body) = order_once(&edge, &sale, chicken, &crowd[0], "outage-edge")
        .await
        .expect("answer");
    assert_eq!(status, 201, "{body}");
    assert_eq!(sold(&direct, chicken).await, dec!(6));
}

/// An offer of a shop document.
fn offer_of(shop: &Value, offer: uuid::Uuid) -> Value {
    shop["offers"]
        .as_array()
        .and_then(|offers| offers.iter().find(|o| o["offer_id"] == json!(offer)))
        .cloned()
        .unwrap_or(Value::Null)
}

#[actix_web::test]
async fn a_basket_set_through_a_standby_shows_in_its_customers_storefront_there() {
    let _heavy = crate::helpers::heavy().await;
    let (_cluster, direct, edge, sale) = two_nodes(10).await;
    let chicken = sale.producer.offers[0];
    let buyers = customers(&direct, 1).await;
    let buyer = &buyers[0];

    // The basket is set through the standby (forwarded to the engine).
    let cart = crate::carts::put_cart(&edge, sale.distribution_id, buyer, &[(chicken, "3")])
        .await
        .expect(200);
    assert_eq!(crate::carts::held(&cart, chicken).as_deref(), Some("3"));

    // The customer's storefront on the standby shows what it holds…
    let watched = format!("/ws/distributions/{}", sale.distribution_id);
    let mut theirs = connect_as(&edge, &watched, &buyer.token)
        .await
        .expect("the storefront opens with a token");
    let snapshot = next_of_type(&mut theirs, "snapshot").await;
    assert_eq!(offer_of(&snapshot, chicken)["held"], "3", "{snapshot}");
    assert_eq!(offer_of(&snapshot, chicken)["available"], "7");
    // …and an anonymous one there sees what is left, no basket.
    let mut anyone = connect(&edge, &watched).await;
    let snapshot = next_of_type(&mut anyone, "snapshot").await;
    assert_eq!(offer_of(&snapshot, chicken)["available"], "7");
    assert!(
        offer_of(&snapshot, chicken).get("held").is_none(),
        "{snapshot}"
    );
}

#[actix_web::test]
async fn a_stock_page_saved_on_a_standby_is_what_the_active_engine_sells_from() {
    let _heavy = crate::helpers::heavy().await;
    let (_cluster, direct, edge, sale) = two_nodes(10).await;
    let chicken = sale.producer.offers[0];
    let crowd = customers(&direct, 1).await;
    // The offer's actor is live on the active node: it sells from 10.
    let (status, body) = order_once(&direct, &sale, chicken, &crowd[0], "stock-page")
        .await
        .expect("answer");
    assert_eq!(status, 201, "{body}");

    // The producer signs in and saves 4 on the standby's stock page, as a
    // browser on the standby's address (its `Origin`) does.
    let browser = WebClient::new(&edge);
    browser.sign_in(&sale.producer.owner).await;
    let stocks = format!(
        "/espace-producteur/{}/produits/stocks",
        sale.producer.producer_id
    );
    browser.get(&stocks).await.expect(200);
    let token = browser.cookie("etal_csrf").expect("a CSRF cookie");
    let c = chicken.to_string();
    browser
        .post_raw(
            &stocks,
            &[
                ("csrf", &token),
                ("row", &c),
                ("real", "4"),
                ("tracked", &c),
            ],
            &[("Origin", &edge.address)],
        )
        .await
        .expect(303);

    // The active engine sells from 4 now: 4 − 1 ordered.
    assert_eq!(
        shop_available(&direct, sale.distribution_id, chicken)
            .await
            .as_deref(),
        Some("3")
    );
}
