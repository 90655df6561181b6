//! The waiting room's edges: only a market's admins mark a sale popular,
//! the room is pushed live to storefronts, and every refusal — of joining,
//! of a ticket's status, of a bad or foreign ticket — is a problem
//! document with its code; giving stock back needs no admission.

use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::{app_with_room, join, mark_popular, order_with, ticket_status, upcoming_sale};
use crate::after_sale::setup::line_ids;
use crate::fixtures::{customers, offer};
use crate::helpers::parse_id;
use crate::live_client::{connect, next_of_type};

#[actix_web::test]
async fn only_the_markets_admins_mark_a_sale_popular() {
    let app = app_with_room(10.0, 10_000).await;
    let sale = upcoming_sale(&app, &[offer("Chapon", "42.00", Some(10))]).await;
    let d = sale.distribution_id;
    let path = format!("/api/v1/distributions/{d}/waiting-room");
    let body = json!({"popular": true});
    app.put(&path, &body, None)
        .await
        .expect_problem(401, "unauthorized");
    let stranger = app.user("Inconnu").await;
    app.put(&path, &body, Some(&stranger.token))
        .await
        .expect_problem(403, "forbidden");
    app.put(&path, &body, Some(&sale.producer.owner.token))
        .await
        .expect_problem(403, "forbidden");
    app.put(
        &format!("/api/v1/distributions/{}/waiting-room", Uuid::new_v4()),
        &body,
        Some(&sale.market.admin.token),
    )
    .await
    .expect_problem(404, "not_found");
    app.put(
        &path,
        &json!({"popular": "oui"}),
        Some(&sale.market.admin.token),
    )
    .await
    .expect_problem(422, "invalid_field");
    let before = app.get(&path, None).await.expect(200);
    assert_eq!(
        (before["popular"].clone(), before["active"].clone()),
        (json!(false), json!(false))
    );
    let marked = mark_popular(&app, &sale).await;
    assert_eq!(marked["active"], true);
    assert_eq!(app.get(&path, None).await.expect(200)["popular"], true);
    let (popular,): (bool,) = sqlx::query_as("SELECT popular FROM distributions WHERE id = $1")
        .bind(d)
        .fetch_one(&app.db)
        .await
        .expect("distribution");
    assert!(popular, "the mark is stored");
}

#[actix_web::test]
async fn the_room_is_pushed_to_the_storefronts() {
    let app = app_with_room(10.0, 10_000).await;
    let sale = upcoming_sale(&app, &[offer("Chapon", "42.00", Some(10))]).await;
    let d = sale.distribution_id;
    mark_popular(&app, &sale).await;
    for customer in &customers(&app, 25).await {
        join(&app, d, customer).await.expect(201);
    }
    let mut watcher = connect(&app, &format!("/ws/distributions/{d}")).await;
    let snapshot = next_of_type(&mut watcher, "snapshot").await;
    assert_eq!(snapshot["admission"]["active"], true, "{snapshot}");
    assert_eq!(snapshot["admission"]["waiting"], 25);
    app.clock.set(sale.window.opens_at + Duration::seconds(1));
    let pushed = tokio::time::timeout(crate::live_client::WAIT, async {
        loop {
            let frame = next_of_type(&mut watcher, "admission").await;
            if frame["admitted"] == 10 {
                return frame;
            }
        }
    })
    .await
    .expect("the admissions pushed");
    assert_eq!(
        (
            pushed["drawn"].clone(),
            pushed["waiting"].clone(),
            pushed["rate_per_s"].clone()
        ),
        (json!(true), json!(15), json!(10.0))
    );
}

#[actix_web::test]
async fn every_refusal_is_a_problem_document() {
    let app = app_with_room(10.0, 10_000).await;
    let sale = upcoming_sale(&app, &[offer("Chapon", "42.00", Some(10))]).await;
    let (d, capon) = (sale.distribution_id, sale.producer.offers[0]);
    mark_popular(&app, &sale).await;
    let people = customers(&app, 2).await;
    let (lea, hugo) = (&people[0], &people[1]);
    let path = format!("/api/v1/distributions/{d}/admission");
    app.post(&path, &json!({}), None)
        .await
        .expect_problem(401, "unauthorized");
    app.post(
        &format!("/api/v1/distributions/{}/admission", Uuid::new_v4()),
        &json!({}),
        Some(&lea.token),
    )
    .await
    .expect_problem(404, "not_found");
    let ticket = parse_id(&join(&app, d, lea).await.expect(201)["ticket"]);
    app.get(&format!("{path}/{ticket}"), Some(&hugo.token))
        .await
        .expect_problem(404, "not_found");
    app.get(&format!("{path}/{}", Uuid::new_v4()), Some(&lea.token))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        ticket_status(&app, d, lea, ticket).await["ticket"],
        json!(ticket)
    );

    app.clock.set(sale.window.opens_at + Duration::seconds(1));
    // A ticket that is not an id; someone else's ticket.
    let bad = app
        .client
        .put(app.url(&format!("/api/v1/distributions/{d}/cart")))
        .bearer_auth(&lea.token)
        .header("Admission-Ticket", "mon-ticket")
        .json(&json!({"lines": [{"offer_id": capon, "quantity": 1}]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(bad.status().as_u16(), 422);
    let problem: serde_json::Value = bad.json().await.expect("problem");
    assert_eq!(problem["errors"][0]["field"], "Admission-Ticket");
    let foreign = order_with(&app, d, hugo, Some(ticket), capon)
        .await
        .expect_problem(409, "not_admitted");
    assert!(foreign["position"].is_null());
    // The admitted owner gets in, with a basket too.
    let basket = app
        .client
        .put(app.url(&format!("/api/v1/distributions/{d}/cart")))
        .bearer_auth(&lea.token)
        .header("Admission-Ticket", ticket.to_string())
        .json(&json!({"lines": [{"offer_id": capon, "quantity": 1}]}))
        .send()
        .await
        .expect("sent");
    assert_eq!(basket.status().as_u16(), 200);

    // After the sale closes, or once cancelled, nobody joins.
    app.clock.set(sale.window.closes_at);
    app.post(&path, &json!({}), Some(&hugo.token))
        .await
        .expect_problem(409, "sale_closed");
}

/// What only gives stock back passes the room without a ticket: a producer
/// taking a line off an order during the sale (its request carries none),
/// and the customer cancelling.
#[actix_web::test]
async fn giving_stock_back_needs_no_admission() {
    let app = app_with_room(1000.0, 10_000).await;
    let sale = upcoming_sale(
        &app,
        &[
            offer("Chapon", "42.00", Some(10)),
            offer("Dinde", "30.00", Some(10)),
        ],
    )
    .await;
    mark_popular(&app, &sale).await;
    let d = sale.distribution_id;
    let (capon, turkey) = (sale.producer.offers[0], sale.producer.offers[1]);
    let crowd = customers(&app, 1).await;
    let lea = &crowd[0];
    let ticket = parse_id(&join(&app, d, lea).await.expect(201)["ticket"]);
    app.clock.set(sale.window.opens_at + Duration::seconds(1));
    let placed = order_with(&app, d, lea, Some(ticket), capon)
        .await
        .expect(201);
    order_with(&app, d, lea, Some(ticket), turkey)
        .await
        .expect(201);
    // Still active: an order without the ticket is refused…
    order_with(&app, d, lea, None, capon)
        .await
        .expect_problem(409, "not_admitted");
    // …but the producer takes the capon off.
    let line = line_ids(&placed, capon)[0];
    let removed = app
        .patch(
            &format!("/api/v1/order-lines/{line}"),
            &json!({"quantity": "0", "reason": "renard au poulailler"}),
            Some(&sale.producer.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(removed["removed"], true);
    // And the customer cancels what is left, without a ticket either.
    let order_id = parse_id(&placed["id"]);
    let cancelled = app
        .client
        .delete(app.url(&format!("/api/v1/orders/{order_id}")))
        .bearer_auth(&lea.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(cancelled.status().as_u16(), 204);
    let sold: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id \
         WHERE o.distribution_id = $1 AND o.status <> 'cancelled'",
    )
    .bind(d)
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(sold, 0, "nothing left ordered");
}
