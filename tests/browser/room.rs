//! A popular sale in a real browser: a signed-in customer on the shop
//! before the opening takes a place in the waiting room by herself, waits
//! for the draw, sees her place in the line (her add buttons say "En
//! attente"), then her turn comes live and she orders. Every wait is a
//! bounded wait for the condition in the page.

use std::time::Duration;

use chrono::Duration as Span;
use serde_json::{json, Value};

use crate::driver::{Browser, Driver, LAPTOP};
use crate::fixtures::customers;
use crate::helpers::{fresh_database, spawn_app_with, test_settings};
use crate::sales::{farm, follow_real_time, live_sale, tilleuls};

/// The waiting-room panel and the first add button.
const ROOM_STATE: &str = "
    const room = document.getElementById('salle-attente');
    const add = document.querySelector('li.offer button.add');
    const m = document.getElementById('message');
    return {mode: room.hidden ? 'none' : room.dataset.mode, text: room.textContent,
            add: add ? add.textContent : null,
            message: m.hidden ? null : {kind: m.dataset.kind, text: m.textContent}};";

async fn room_state(
    browser: &Browser,
    what: &str,
    within: Duration,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    browser
        .wait_for(what, within, ROOM_STATE, vec![], ready)
        .await
        .0
}

#[actix_web::test]
async fn a_customer_waits_her_turn_in_the_waiting_room_then_orders() {
    let mut settings = test_settings(&fresh_database().await);
    settings.admission.rate_per_s = 0.5; // one customer every two seconds
    settings.admission.seed = 7;
    let app = spawn_app_with(settings, chrono::Utc::now()).await;
    let _clock = follow_real_time(&app);
    let farm = farm(&app, "Ferme des Tilleuls", &tilleuls()).await;
    let sale = live_sale(&app, vec![farm], Span::seconds(12), Span::days(1)).await;
    let d = sale.distribution_id;
    let eggs = sale.farms[0].offers[3]; // unlimited
    app.put(
        &format!("/api/v1/distributions/{d}/waiting-room"),
        &json!({"popular": true}),
        Some(&sale.market.admin.token),
    )
    .await
    .expect(200);
    let people = customers(&app, 3).await;
    for rival in &people[1..] {
        app.post(
            &format!("/api/v1/distributions/{d}/admission"),
            &json!({}),
            Some(&rival.token),
        )
        .await
        .expect(201);
    }

    let alice = &people[0];
    let url = app.url(&format!("/shop/{d}"));
    let mut driver = Driver::start().await;
    let page = driver.browser(LAPTOP).await;
    page.goto(&url).await;
    page.sign_in_as(&alice.token, alice.id, &alice.name).await;
    page.goto(&url).await;
    page.wait_ready().await;
    let draw = room_state(
        &page,
        "her place taken before the draw",
        Duration::from_secs(10),
        |v| v["mode"] == "draw",
    )
    .await;
    assert!(
        draw["text"]
            .as_str()
            .is_some_and(|t| t.contains("tirage au sort")),
        "{draw}"
    );
    let room = app
        .get(&format!("/api/v1/distributions/{d}/waiting-room"), None)
        .await
        .expect(200);
    assert_eq!(room["waiting"], 3, "two rivals and her, before the opening");

    // The opening: the draw, then her place in the line, live.
    let line = room_state(
        &page,
        "her place in the line",
        Duration::from_secs(30),
        |v| v["mode"] == "line",
    )
    .await;
    assert!(
        line["text"]
            .as_str()
            .is_some_and(|t| t.contains("dans la file")),
        "{line}"
    );
    assert_eq!(line["add"], "En attente", "{line}");
    page.screenshot("shop-laptop-waiting-room").await;
    room_state(&page, "her turn", Duration::from_secs(30), |v| {
        v["mode"] == "in"
    })
    .await;

    // Her turn: she orders.
    page.click(&format!("li.offer[data-offer-id='{eggs}'] button.add"))
        .await;
    page.click("#commander").await;
    room_state(&page, "her order placed", Duration::from_secs(10), |v| {
        v["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("est enregistrée"))
    })
    .await;
    let (orders,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders WHERE customer_id = $1")
        .bind(alice.id)
        .fetch_one(&app.db)
        .await
        .expect("orders");
    assert_eq!(orders, 1);
    page.close().await;
}
