//! The fair waiting room through HTTP and WebSocket, on the test clock: 500
//! customers waiting before the opening are admitted in the drawn order at
//! the configured rate, nobody takes stock without admission, latecomers
//! queue behind in arrival order, a crowd at the opening opens the room by
//! itself, an unused admission expires, the room is pushed live, and every
//! refusal is a problem document with its code. The admin's mark and the
//! edge cases are in `marks`.

mod marks;

use std::collections::HashMap;

use chrono::Duration;
use futures_util::{stream, StreamExt};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::{
    customers, distribution, link, market, offer, order, participate, producer_with_catalog,
    window_from, MarketSetup, OfferSpec, ProducerSetup, Window,
};
use crate::helpers::{fresh_database, parse_id, spawn_app_with, test_settings, TestApp, TestUser};
use etal::engine::clock::Clock;

/// An engine whose waiting rooms admit `rate` per second, open by
/// themselves from `threshold` waiting, and draw with a fixed seed.
pub(crate) async fn app_with_room(rate: f64, threshold: usize) -> TestApp {
    let mut settings = test_settings(&fresh_database().await);
    settings.admission.rate_per_s = rate;
    settings.admission.threshold = threshold;
    settings.admission.seed = 42;
    settings.admission.ticket_idle_seconds = 300;
    spawn_app_with(settings, chrono::Utc::now()).await
}

/// A sale that opens in a minute (the clock stays before it).
pub(crate) struct Upcoming {
    pub producer: ProducerSetup,
    pub market: MarketSetup,
    pub distribution_id: Uuid,
    pub window: Window,
}

pub(crate) async fn upcoming_sale(app: &TestApp, offers: &[OfferSpec]) -> Upcoming {
    let producer = producer_with_catalog(app, "Ferme de Noël", offers).await;
    let market = market(app, "Marché de la Croix-Rousse").await;
    link(app, &market, &producer).await;
    let window = window_from(app.clock.now());
    let distribution_id = distribution(app, &market, &window).await;
    participate(app, &producer, distribution_id).await;
    Upcoming {
        producer,
        market,
        distribution_id,
        window,
    }
}

/// The market admin marks the sale popular.
pub(crate) async fn mark_popular(app: &TestApp, sale: &Upcoming) -> Value {
    app.put(
        &format!(
            "/api/v1/distributions/{}/waiting-room",
            sale.distribution_id
        ),
        &json!({"popular": true}),
        Some(&sale.market.admin.token),
    )
    .await
    .expect(200)
}

pub(crate) fn join<'a>(
    app: &'a TestApp,
    distribution_id: Uuid,
    customer: &'a TestUser,
) -> impl std::future::Future<Output = crate::helpers::Answer> + 'a {
    let path = format!("/api/v1/distributions/{distribution_id}/admission");
    async move { app.post(&path, &json!({}), Some(&customer.token)).await }
}

pub(crate) async fn ticket_status(
    app: &TestApp,
    distribution_id: Uuid,
    customer: &TestUser,
    ticket: Uuid,
) -> Value {
    app.get(
        &format!("/api/v1/distributions/{distribution_id}/admission/{ticket}"),
        Some(&customer.token),
    )
    .await
    .expect(200)
}

/// An order of one unit with the customer's ticket (if any).
pub(crate) async fn order_with(
    app: &TestApp,
    distribution_id: Uuid,
    customer: &TestUser,
    ticket: Option<Uuid>,
    offer: Uuid,
) -> crate::helpers::Answer {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/distributions/{distribution_id}/orders")))
        .bearer_auth(&customer.token)
        .json(&json!({"lines": [{"offer_id": offer, "quantity": "1"}]}));
    if let Some(ticket) = ticket {
        request = request.header("Admission-Ticket", ticket.to_string());
    }
    let response = request.send().await.expect("sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    crate::helpers::Answer {
        status,
        body,
        headers,
    }
}

/// Requests in flight at once: real concurrency, without queueing hundreds
/// of them behind the test database's pool on a busy machine.
const IN_FLIGHT: usize = 64;

async fn orders_in_database(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(&app.db)
        .await
        .expect("count")
}

#[actix_web::test]
async fn five_hundred_waiting_are_admitted_in_the_drawn_order_at_the_rate() {
    let _heavy = crate::helpers::heavy().await;
    let app = app_with_room(50.0, 10_000).await;
    let sale = upcoming_sale(&app, &[offer("Chapon", "42.00", Some(1000))]).await;
    let (d, capon) = (sale.distribution_id, sale.producer.offers[0]);
    let room = mark_popular(&app, &sale).await;
    assert_eq!(
        (room["popular"].clone(), room["active"].clone()),
        (json!(true), json!(true))
    );
    let crowd = customers(&app, 500).await;

    // Everyone joins before the opening: no place yet, the wait counts the opening.
    let joined: Vec<_> = stream::iter(crowd.iter().map(|c| join(&app, d, c)))
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let mut tickets: HashMap<Uuid, Uuid> = HashMap::new();
    for (customer, answer) in crowd.iter().zip(joined) {
        let body = answer.expect(201);
        assert!(body["position"].is_null(), "{body}");
        assert_eq!(body["admitted"], false);
        assert!(
            body["estimated_wait_s"].as_u64().is_some_and(|s| s >= 59),
            "{body}"
        );
        tickets.insert(customer.id, parse_id(&body["ticket"]));
    }
    let again = join(&app, d, &crowd[0]).await.expect(200);
    assert_eq!(
        parse_id(&again["ticket"]),
        tickets[&crowd[0].id],
        "one ticket each"
    );

    // The opening: the draw gives everyone a place, nobody is in yet.
    app.clock.set(sale.window.opens_at);
    let mut position: HashMap<Uuid, usize> = HashMap::new();
    for customer in &crowd {
        let status = ticket_status(&app, d, customer, tickets[&customer.id]).await;
        assert_eq!(status["admitted"], false);
        position.insert(
            customer.id,
            status["position"].as_u64().expect("a place") as usize,
        );
    }
    let mut places: Vec<usize> = position.values().copied().collect();
    places.sort_unstable();
    assert_eq!(places, (1..=500).collect::<Vec<_>>(), "every place once");

    // Nobody takes stock without admission.
    let refused = order_with(&app, d, &crowd[0], None, capon)
        .await
        .expect_problem(409, "not_admitted");
    assert!(refused["position"].is_null());
    let waiting = order_with(&app, d, &crowd[0], Some(tickets[&crowd[0].id]), capon)
        .await
        .expect_problem(409, "not_admitted");
    assert_eq!(waiting["position"], position[&crowd[0].id]);
    assert!(waiting["estimated_wait_s"].as_u64().is_some_and(|s| s >= 1));
    assert_eq!(orders_in_database(&app).await, 0);

    // One second later, the first 50 places — and only they — are in.
    app.clock.set(sale.window.opens_at + Duration::seconds(1));
    let attempts: Vec<_> = stream::iter(
        crowd
            .iter()
            .map(|c| order_with(&app, d, c, Some(tickets[&c.id]), capon)),
    )
    .buffered(IN_FLIGHT)
    .collect()
    .await;
    let mut admitted = Vec::new();
    for (customer, answer) in crowd.iter().zip(attempts) {
        let place = position[&customer.id];
        if place <= 50 {
            assert_eq!(
                answer.status.as_u16(),
                201,
                "place {place}: {}",
                answer.body
            );
            admitted.push(place);
        } else {
            assert_eq!(
                answer.status.as_u16(),
                409,
                "place {place}: {}",
                answer.body
            );
            assert_eq!(answer.body["code"], "not_admitted");
            assert_eq!(answer.body["position"], place);
            let wait = answer.body["estimated_wait_s"].as_u64().expect("wait");
            let expected = ((place - 50) as f64 / 50.0).ceil() as u64;
            assert_eq!(wait, expected, "place {place}");
        }
    }
    assert_eq!(admitted.len(), 50);
    assert_eq!(
        orders_in_database(&app).await,
        50,
        "only the admitted ordered"
    );

    // Latecomers queue behind, in arrival order.
    let late = customers(&app, 3).await;
    for (i, customer) in late.iter().enumerate() {
        let body = join(&app, d, customer).await.expect(201);
        assert_eq!(body["position"], 501 + i, "{body}");
        assert_eq!(body["admitted"], false);
    }
    // Ten seconds in, the whole early crowd is in; the latecomers just after.
    app.clock.set(sale.window.opens_at + Duration::seconds(10));
    let last_early = crowd
        .iter()
        .find(|c| position[&c.id] == 500)
        .expect("place 500");
    assert_eq!(
        ticket_status(&app, d, last_early, tickets[&last_early.id]).await["admitted"],
        true
    );
    let first_late = join(&app, d, &late[0]).await.expect(200);
    assert_eq!(first_late["admitted"], false);
    app.clock
        .set(sale.window.opens_at + Duration::milliseconds(10_100));
    let first_late = join(&app, d, &late[0]).await.expect(200);
    assert_eq!(first_late["admitted"], true);
    let room = app
        .get(&format!("/api/v1/distributions/{d}/waiting-room"), None)
        .await
        .expect(200);
    assert_eq!(room["admitted"], 503);
    assert_eq!(room["waiting"], 0);

    // Every order in the database is an admitted customer's.
    let buyers: Vec<(Uuid,)> = sqlx::query_as("SELECT customer_id FROM orders")
        .fetch_all(&app.db)
        .await
        .expect("buyers");
    assert!(buyers
        .iter()
        .all(|(c,)| position.get(c).is_some_and(|p| *p <= 50)));
}

#[actix_web::test]
async fn a_crowd_at_the_opening_opens_the_room_by_itself() {
    let app = app_with_room(10.0, 3).await;
    let busy = upcoming_sale(&app, &[offer("Fraises", "5.00", Some(100))]).await;
    let quiet = upcoming_sale(&app, &[offer("Radis", "1.00", Some(100))]).await;
    let crowd = customers(&app, 5).await;
    for customer in &crowd[..3] {
        join(&app, busy.distribution_id, customer).await.expect(201);
    }
    for customer in &crowd[3..] {
        join(&app, quiet.distribution_id, customer)
            .await
            .expect(201);
    }
    app.clock.set(busy.window.opens_at + Duration::seconds(1));
    let app = &app;
    let room = |d: Uuid| {
        let path = format!("/api/v1/distributions/{d}/waiting-room");
        async move { app.get(&path, None).await.expect(200) }
    };
    let busy_room = room(busy.distribution_id).await;
    assert_eq!(
        (busy_room["popular"].clone(), busy_room["active"].clone()),
        (json!(false), json!(true))
    );
    assert_eq!(busy_room["admitted"], 3, "10 per second");
    let newcomer = &customers(app, 1).await[0];
    order(
        app,
        busy.distribution_id,
        newcomer,
        &[(busy.producer.offers[0], "1")],
    )
    .await
    .expect_problem(409, "not_admitted");
    // Two waiting only: no room, anyone orders.
    assert_eq!(room(quiet.distribution_id).await["active"], false);
    order(
        app,
        quiet.distribution_id,
        newcomer,
        &[(quiet.producer.offers[0], "1")],
    )
    .await
    .expect(201);
}

#[actix_web::test]
async fn an_unused_admission_expires_and_reading_or_cancelling_never_needs_one() {
    let app = app_with_room(10.0, 10_000).await;
    let sale = upcoming_sale(&app, &[offer("Chapon", "42.00", Some(10))]).await;
    let (d, capon) = (sale.distribution_id, sale.producer.offers[0]);
    mark_popular(&app, &sale).await;
    let lea = &customers(&app, 1).await[0];
    let ticket = parse_id(&join(&app, d, lea).await.expect(201)["ticket"]);
    app.clock.set(sale.window.opens_at + Duration::seconds(1));
    let placed = order_with(&app, d, lea, Some(ticket), capon)
        .await
        .expect(201);
    let order_id = parse_id(&placed["id"]);

    // Reading, emptying a basket and cancelling need no ticket.
    app.get(&format!("/api/v1/distributions/{d}/cart"), Some(&lea.token))
        .await
        .expect(200);
    app.delete(&format!("/api/v1/distributions/{d}/cart"), Some(&lea.token))
        .await
        .expect(204);
    app.delete(&format!("/api/v1/orders/{order_id}"), Some(&lea.token))
        .await
        .expect(204);

    // Five minutes unused: the admission is gone; joining again lets her in.
    app.clock.set(sale.window.opens_at + Duration::seconds(302));
    let expired = order_with(&app, d, lea, Some(ticket), capon)
        .await
        .expect_problem(409, "not_admitted");
    assert_eq!(expired["expired"], true);
    let status = ticket_status(&app, d, lea, ticket).await;
    assert_eq!(
        (status["admitted"].clone(), status["expired"].clone()),
        (json!(false), json!(true))
    );
    let again = join(&app, d, lea).await.expect(201);
    let fresh = parse_id(&again["ticket"]);
    assert_ne!(fresh, ticket);
    assert_eq!(again["position"], 2, "at the back of the line");
    assert_eq!(again["admitted"], true, "the line had drained");
    order_with(&app, d, lea, Some(fresh), capon)
        .await
        .expect(201);
}
