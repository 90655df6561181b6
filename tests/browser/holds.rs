//! The shop page holds the basket of a signed-in customer: adding holds it
//! (everyone else sees it taken), a countdown shows how long, what could
//! not be held when signing in is explained and leaves the basket, and the
//! order consumes the holds. Every wait is a bounded wait for the
//! condition, in the page or on the server.

use std::time::Duration;

use chrono::Duration as Span;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::driver::{Browser, Driver, EVENT_WAIT, LAPTOP, PHONE};
use crate::fixtures::{customers, shop_available, sold};
use crate::helpers::{TestApp, TestUser};
use crate::sales::{farm, follow_real_time, live_sale, tilleuls};

/// The hold line and the basket's lines (quantity and what is held).
const HOLD_STATE: &str = "
    const hold = document.getElementById('reservation');
    const lines = {};
    for (const li of document.querySelectorAll('#panier-contenu li.line')) {
        const held = li.querySelector('[data-role=held]');
        lines[li.dataset.offerId] = {qty: li.querySelector('output.qty').textContent,
                                     held: held ? held.textContent : null};
    }
    const m = document.getElementById('message');
    return {mode: hold.hidden ? 'none' : hold.dataset.mode, hold: hold.textContent, lines,
            message: m.hidden ? null : {kind: m.dataset.kind, text: m.textContent}};";

async fn hold_state(browser: &Browser, what: &str, ready: impl Fn(&Value) -> bool) -> Value {
    browser
        .wait_for(what, EVENT_WAIT, HOLD_STATE, vec![], ready)
        .await
        .0
}

/// What the server holds for `customer` of `offer` (waits until `wanted`).
async fn server_holds(
    app: &TestApp,
    distribution: Uuid,
    customer: &TestUser,
    offer: Uuid,
    wanted: &str,
) {
    let path = format!("/api/v1/distributions/{distribution}/cart");
    let mut last = Value::Null;
    for _ in 0..200 {
        last = app.get(&path, Some(&customer.token)).await.expect(200);
        let held = last["lines"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["offer_id"] == json!(offer)))
            .map_or(json!("0"), |l| l["held"].clone());
        if held == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server never held {wanted} for the customer: {last}");
}

#[actix_web::test]
async fn the_page_holds_the_basket_with_a_countdown_and_explains_what_it_could_not_hold() {
    let app = crate::helpers::spawn_app().await;
    let _clock = follow_real_time(&app);
    let farm = farm(&app, "Ferme des Tilleuls", &tilleuls()).await;
    let sale = live_sale(&app, vec![farm], Span::minutes(-5), Span::days(1)).await;
    let d = sale.distribution_id;
    let sack = sale.farms[0].offers[2]; // 3 in stock
    let alice = &customers(&app, 1).await[0];
    let bruno = app.user("Bruno Martin").await;
    let url = app.url(&format!("/shop/{d}"));

    let mut driver = Driver::start().await;
    let a = driver.browser(LAPTOP).await;
    a.goto(&url).await;
    a.sign_in_as(&alice.token, alice.id, &alice.name).await;
    a.goto(&url).await;
    a.wait_ready().await;

    // Two sacks: held for Alice, a countdown, taken for everyone else.
    a.click(&format!("li.offer[data-offer-id='{sack}'] button.add"))
        .await;
    a.click(&format!(
        "li.line[data-offer-id='{sack}'] button[data-action=more]"
    ))
    .await;
    server_holds(&app, d, alice, sack, "2").await;
    let held = hold_state(&a, "the countdown", |v| {
        v["mode"] == "held" && v["lines"][sack.to_string()]["held"] == "2 réservés pour vous"
    })
    .await;
    assert!(
        held["hold"]
            .as_str()
            .is_some_and(|t| t.contains("réservé encore")),
        "{held}"
    );
    assert_eq!(shop_available(&app, d, sack).await.as_deref(), Some("1"));
    a.screenshot("shop-laptop-basket-held").await;

    // Bruno fills his basket signed out (the last sack), then someone
    // else's basket takes it: signing in, his can hold nothing — explained.
    let b = driver.browser(PHONE).await;
    b.goto(&url).await;
    b.wait_ready().await;
    b.click(&format!("li.offer[data-offer-id='{sack}'] button.add"))
        .await;
    let signed_out = hold_state(&b, "the invitation to sign in", |v| {
        v["mode"] == "signed-out"
    })
    .await;
    assert!(
        signed_out["hold"]
            .as_str()
            .is_some_and(|t| t.contains("Connectez-vous")),
        "{signed_out}"
    );
    let rival = &customers(&app, 1).await[0];
    app.put(
        &format!("/api/v1/distributions/{d}/cart"),
        &json!({"lines": [{"offer_id": sack, "quantity": 1}]}),
        Some(&rival.token),
    )
    .await
    .expect(200);
    b.click("#connexion").await;
    b.type_into("#auth-email", &bruno.email).await;
    b.type_into("#auth-password", &bruno.password).await;
    b.click("dialog.auth button[type=submit]").await;
    let explained = hold_state(&b, "what could not be held", |v| {
        v["message"]["kind"] == "error"
            && v["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("n'a pas pu vous être réservée"))
    })
    .await;
    assert!(
        explained["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("plus aucun disponible, retiré du panier")),
        "{explained}"
    );
    assert!(
        explained["lines"].get(sack.to_string()).is_none(),
        "{explained}"
    );
    b.screenshot("shop-phone-not-held").await;

    // Alice orders: her holds become her order, the countdown goes.
    a.click("#commander").await;
    hold_state(&a, "the order placed", |v| {
        v["mode"] == "none"
            && v["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("est enregistrée"))
    })
    .await;
    assert_eq!(sold(&app, sack).await, rust_decimal::Decimal::from(2));
    server_holds(&app, d, alice, sack, "0").await;
    a.close().await;
    b.close().await;
}
