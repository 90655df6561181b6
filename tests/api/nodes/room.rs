//! The waiting room across nodes: a customer whose storefront is served by
//! a standby, holding a ticket taken through that standby, sees the room's
//! `admission` messages move there (the active engine publishes them on
//! the distribution's subject) until her place is in, then orders with her
//! ticket through the same standby.

use futures_util::future::join_all;
use serde_json::json;

use super::client::sale_now;
use super::harness::Nodes;
use crate::admission::{join, order_with, ticket_status};
use crate::fixtures::customers;
use crate::helpers::parse_id;
use crate::live_client::{connect_as, next_of_type, WAIT};

#[actix_web::test]
async fn a_storefront_on_a_standby_sees_its_ticket_move_and_be_admitted() {
    let _heavy = crate::helpers::heavy().await;
    // One admission a second: the last of five arrivals waits about 4 s.
    let cluster = Nodes::start(2, &[("ETAL__ADMISSION__RATE_PER_S", "1")]).await;
    let active = cluster.active().await;
    let (direct, edge) = (cluster.app(active).await, cluster.app(1 - active).await);
    let sale = sale_now(&direct, 10).await;
    let (d, chicken) = (sale.distribution_id, sale.producer.offers[0]);
    edge.put(
        &format!("/api/v1/distributions/{d}/waiting-room"),
        &json!({"popular": true}),
        Some(&sale.market.admin.token),
    )
    .await
    .expect(200);
    let crowd = customers(&direct, 5).await;
    let (ahead, holder) = crowd.split_at(4);
    let holder = &holder[0];

    // Her storefront, on the standby, shows the room from its snapshot on.
    let mut storefront = connect_as(&edge, &format!("/ws/distributions/{d}"), &holder.token)
        .await
        .expect("the storefront opens on the standby");
    let snapshot = next_of_type(&mut storefront, "snapshot").await;
    assert_eq!(snapshot["admission"]["active"], true, "{snapshot}");

    // Four arrive before her (the sale is open: arrival order), all
    // through the standby.
    for answer in join_all(ahead.iter().map(|c| join(&edge, d, c))).await {
        answer.expect(201);
    }
    let ticket = join(&edge, d, holder).await.expect(201);
    let (id, place) = (parse_id(&ticket["ticket"]), ticket["position"].clone());
    assert_eq!(place, 5, "behind the four: {ticket}");

    // The room's moves reach her storefront on the standby until her
    // place is in.
    let mut admitted_seen = Vec::new();
    let reached = tokio::time::timeout(WAIT, async {
        loop {
            let frame = next_of_type(&mut storefront, "admission").await;
            assert_eq!(frame["active"], true, "{frame}");
            assert_eq!(frame["rate_per_s"], 1.0, "{frame}");
            let admitted = frame["admitted"].as_u64().expect("admitted");
            admitted_seen.push(admitted);
            if admitted >= 5 {
                return frame;
            }
        }
    })
    .await
    .expect("her admission reached the standby's storefront");
    assert_eq!(reached["waiting"], 0, "{reached}");
    assert!(
        admitted_seen.iter().any(|a| *a < 5),
        "she saw her place move before it came: {admitted_seen:?}"
    );
    assert!(
        admitted_seen.windows(2).all(|w| w[0] <= w[1]),
        "admissions only go up: {admitted_seen:?}"
    );

    // Her ticket says so, and orders through the standby.
    let status = ticket_status(&edge, d, holder, id).await;
    assert_eq!(status["admitted"], true, "{status}");
    let order = order_with(&edge, d, holder, Some(id), chicken).await;
    order.expect(201);
}
