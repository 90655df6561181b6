//! The shop and the board in real browsers: the last unit sells out live on
//! another customer's page and on the producer's board, a refused order
//! leaves a corrected basket (then the order is placed, changed, found
//! again after a reload, cancelled), and the countdown turns into an open
//! shop at the opening instant of the browser's own clock (with the sign-up
//! form). Every wait is a bounded wait for the condition in the page.

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::driver::{Browser, Driver, EVENT_WAIT, LAPTOP, PHONE};
use crate::fixtures::{customers, order, sold};
use crate::helpers::spawn_app;
use crate::sales::{chevrerie, farm, follow_real_time, live_sale, tilleuls};

/// State of one offer card: badge text, add button disabled, its label.
const OFFER_STATE: &str = "
    const li = document.querySelector(`li.offer[data-offer-id='${arguments[0]}']`);
    if (!li) return null;
    const badge = li.querySelector('[data-role=availability]');
    const button = li.querySelector('button.add');
    return {badge: badge.hidden ? null : badge.textContent, disabled: button.disabled, label: button.textContent};";

/// The basket: offer id → quantity shown, plus warnings.
const BASKET_STATE: &str = "
    const lines = {};
    for (const li of document.querySelectorAll('#panier-contenu li.line')) {
        lines[li.dataset.offerId] = {qty: li.querySelector('output.qty').textContent, warning: li.dataset.warning === 'yes'};
    }
    const m = document.getElementById('message');
    return {lines, message: m.hidden ? null : {kind: m.dataset.kind, text: m.textContent}};";

const LIVE_STATE: &str = "return document.getElementById('direct').dataset.state;";

fn minutes(n: i64) -> Span {
    Span::minutes(n)
}

fn seconds(n: i64) -> Span {
    Span::seconds(n)
}

fn days(n: i64) -> Span {
    Span::days(n)
}

async fn offer_state(browser: &Browser, offer: Uuid) -> Value {
    browser.eval(OFFER_STATE, vec![json!(offer)]).await
}

async fn wait_live(browser: &Browser, what: &str) {
    browser
        .wait_for(what, Duration::from_secs(10), LIVE_STATE, vec![], |v| {
            v == "live"
        })
        .await;
}

async fn wait_message(browser: &Browser, kind: &str, contains: &str) -> Value {
    let (state, _) = browser
        .wait_for(
            &format!("{kind} message «{contains}»"),
            EVENT_WAIT,
            BASKET_STATE,
            vec![],
            |v| {
                v["message"]["kind"] == kind
                    && v["message"]["text"]
                        .as_str()
                        .is_some_and(|t| t.contains(contains))
            },
        )
        .await;
    state
}

async fn open_page(browser: &Browser, url: &str, session: Option<(&str, Uuid, &str)>) {
    if let Some((token, account, name)) = session {
        browser.goto(url).await;
        browser.sign_in_as(token, account, name).await;
    }
    browser.goto(url).await;
    browser.wait_ready().await;
}

#[actix_web::test]
async fn the_last_unit_sells_out_live_on_the_other_page_and_on_the_board() {
    let app = spawn_app().await;
    let _clock = follow_real_time(&app);
    let tilleuls = farm(&app, "Ferme des Tilleuls", &tilleuls()).await;
    let chevrerie = farm(&app, "Chèvrerie du Mont", &chevrerie()).await;
    let sale = live_sale(&app, vec![tilleuls, chevrerie], minutes(-5), days(1)).await;
    let farm = &sale.farms[0];
    let chicken = farm.offers[0];
    let people = customers(&app, 2).await;
    let (alice, bruno) = (&people[0], &people[1]);
    let shop_url = app.url(&format!("/shop/{}", sale.distribution_id));
    let board_url = app.url(&format!("/board/{}", farm.producer_id));

    let mut driver = Driver::start().await;
    let a = driver.browser(LAPTOP).await;
    let b = driver.browser(PHONE).await;
    let board = driver.browser(LAPTOP).await;
    open_page(&a, &shop_url, Some((&alice.token, alice.id, &alice.name))).await;
    open_page(&b, &shop_url, Some((&bruno.token, bruno.id, &bruno.name))).await;
    let owner = &farm.owner;
    open_page(
        &board,
        &board_url,
        Some((&owner.token, owner.id, &owner.name)),
    )
    .await;
    wait_live(&a, "shop A live").await;
    wait_live(&b, "shop B live").await;
    wait_live(&board, "board live").await;

    let before = offer_state(&b, chicken).await;
    assert_eq!(before["badge"], "plus que 1", "{before}");
    assert_eq!(before["disabled"], false, "{before}");
    a.screenshot("shop-laptop").await;
    b.screenshot("shop-phone").await;

    // A buys the last chicken through the page.
    a.click(&format!("li.offer[data-offer-id='{chicken}'] button.add"))
        .await;
    a.click("#commander").await;
    let confirmed = wait_message(&a, "success", "Votre commande n° 1 est enregistrée").await;
    assert!(
        confirmed["lines"][chicken.to_string()]["qty"] == "1",
        "{confirmed}"
    );

    // B's page, never reloaded, shows it sold out and refuses to add.
    let (sold_out, latency) = b
        .wait_for(
            "sold out on B's page",
            EVENT_WAIT,
            OFFER_STATE,
            vec![json!(chicken)],
            |v| v["badge"] == "épuisé" && v["disabled"] == true,
        )
        .await;
    println!("B saw «épuisé» {latency:?} after A's confirmation: {sold_out}");

    // The board shows the order, highlighted, and the total to prepare.
    let (seen, latency) = board
        .wait_for(
            "new order on the board",
            EVENT_WAIT,
            "const o = document.querySelector('li.order[data-number=\"1\"]');
             const row = document.querySelector(`#totaux tr[data-offer-id='${arguments[0]}'] [data-role=qty]`);
             return o ? {fresh: o.classList.contains('fresh'), text: o.textContent, qty: row && row.textContent} : null;",
            vec![json!(chicken)],
            |v| !v.is_null() && v["qty"] == "1",
        )
        .await;
    println!("the board showed order n° 1 {latency:?} after A's confirmation: {seen}");
    assert_eq!(seen["fresh"], true, "{seen}");
    assert!(
        seen["text"]
            .as_str()
            .is_some_and(|t| t.contains(&alice.name) && t.contains("Poulet fermier")),
        "{seen}"
    );
    board
        .wait_for(
            "stock of the chicken on the board",
            EVENT_WAIT,
            "const c = document.querySelector(`#table-stocks tr[data-offer-id='${arguments[0]}'] [data-role=available]`);
             return c && c.textContent;",
            vec![json!(chicken)],
            |v| v == "épuisé",
        )
        .await;

    // What the pages show is what the database holds.
    assert_eq!(sold(&app, chicken).await, rust_decimal::Decimal::ONE);
    let (orders,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM orders WHERE distribution_id = $1 AND customer_id = $2 AND status = 'confirmed'",
    )
    .bind(sale.distribution_id)
    .bind(alice.id)
    .fetch_one(&app.db)
    .await
    .expect("count orders");
    assert_eq!(orders, 1);

    // The recap (another helper's endpoint) opens from the board.
    board
        .click("button[data-action=recap][data-view=product][data-format=html]")
        .await;
    let mut windows = Vec::new();
    for _ in 0..100 {
        windows = board.client.windows().await.expect("windows");
        if windows.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(windows.len(), 2, "the recap opened in a new tab");
    let main_window = board.client.window().await.expect("current window");
    let recap = windows
        .into_iter()
        .find(|w| *w != main_window)
        .expect("recap tab");
    board.client.switch_to_window(recap).await.expect("switch");
    board
        .wait_for(
            "the recap's content",
            EVENT_WAIT,
            "return document.body ? document.body.innerText : '';",
            vec![],
            |v| v.as_str().is_some_and(|t| t.contains("Poulet fermier")),
        )
        .await;
    board.screenshot("recap-from-board").await;
    board.client.close_window().await.expect("close recap");
    board
        .client
        .switch_to_window(main_window)
        .await
        .expect("back");

    a.screenshot("shop-laptop-ordered").await;
    b.screenshot("shop-phone-sold-out").await;
    board.screenshot("board-laptop").await;
    board.screenshot_at("board-phone", PHONE).await;
    a.close().await;
    b.close().await;
    board.close().await;
}

#[actix_web::test]
async fn a_refused_order_leaves_a_corrected_basket_then_the_order_lives_on() {
    let app = spawn_app().await;
    let _clock = follow_real_time(&app);
    let tilleuls = farm(&app, "Ferme des Tilleuls", &tilleuls()).await;
    let sale = live_sale(&app, vec![tilleuls], minutes(-5), days(1)).await;
    let (sack, eggs) = (sale.farms[0].offers[2], sale.farms[0].offers[3]);
    let claire = app.user("Claire Dubois").await;
    let people = customers(&app, 1).await;
    let rival = &people[0];
    let url = app.url(&format!("/shop/{}", sale.distribution_id));

    // Claire fills her basket before signing in.
    let mut driver = Driver::start().await;
    let page = driver.browser(PHONE).await;
    open_page(&page, &url, None).await;
    wait_live(&page, "shop live").await;

    // A 10 kg sack at 20 € shows its price per kilogram.
    let reference = page
        .text(&format!("li.offer[data-offer-id='{sack}'] .offer-ref"))
        .await
        .unwrap_or_default();
    assert!(
        reference.starts_with("soit 2,00") && reference.ends_with("le kg"),
        "price per kg: {reference:?}"
    );

    // Three sacks (the whole stock) with the mouse, two boxes of eggs with
    // the keyboard (Enter on the focused button, focus kept on re-render).
    page.click(&format!("li.offer[data-offer-id='{sack}'] button.add"))
        .await;
    for _ in 0..2 {
        page.click(&format!(
            "li.line[data-offer-id='{sack}'] button[data-action=more]"
        ))
        .await;
    }
    let add_eggs = page
        .client
        .find(fantoccini::Locator::Css(&format!(
            "li.offer[data-offer-id='{eggs}'] button.add"
        )))
        .await
        .expect("eggs button");
    add_eggs
        .send_keys("\u{E007}")
        .await
        .expect("Enter on Ajouter");
    let more_eggs = page
        .client
        .find(fantoccini::Locator::Css(&format!(
            "li.line[data-offer-id='{eggs}'] button[data-action=more]"
        )))
        .await
        .expect("eggs +");
    more_eggs.send_keys("\u{E007}").await.expect("Enter on +");
    let focused = page
        .eval(
            "return document.activeElement.dataset.focusKey || null;",
            vec![],
        )
        .await;
    assert_eq!(focused, json!(format!("more-{eggs}")), "focus stays on «+»");
    page.active_key_enter().await;
    let basket = page.eval(BASKET_STATE, vec![]).await;
    assert_eq!(basket["lines"][sack.to_string()]["qty"], "3", "{basket}");
    assert_eq!(basket["lines"][eggs.to_string()]["qty"], "3", "{basket}");
    assert_eq!(
        offer_state(&page, sack).await["disabled"],
        true,
        "no more sacks to add"
    );

    // Meanwhile someone else takes two sacks.
    order(&app, sale.distribution_id, rival, &[(sack, "2")])
        .await
        .expect(201);
    page.wait_for(
        "the basket line flagged",
        EVENT_WAIT,
        BASKET_STATE,
        vec![],
        |v| v["lines"][sack.to_string()]["warning"] == true,
    )
    .await;
    assert_eq!(offer_state(&page, sack).await["badge"], "plus que 1");

    // Ordering anyway, signing in on the way (the sign-in form): refused,
    // explained, basket corrected — not lost.
    page.click("#commander").await;
    page.type_into("#auth-email", &claire.email).await;
    page.type_into("#auth-password", &claire.password).await;
    page.click("dialog.auth button[type=submit]").await;
    let refused = wait_message(&page, "error", "le stock a changé entre-temps").await;
    assert_eq!(refused["lines"][sack.to_string()]["qty"], "1", "{refused}");
    assert_eq!(refused["lines"][eggs.to_string()]["qty"], "3", "{refused}");
    assert!(
        refused["message"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("ramenée de 3 à 1")),
        "{refused}"
    );
    let (none,): (i64,) = sqlx::query_as("SELECT count(*) FROM orders WHERE customer_id = $1")
        .bind(claire.id)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(none, 0, "nothing was recorded for the refused order");
    page.screenshot("shop-phone-refused").await;

    // The corrected basket goes through.
    page.click("#commander").await;
    wait_message(&page, "success", "Votre commande n° 2 est enregistrée").await;
    assert_eq!(sold(&app, sack).await, rust_decimal::Decimal::from(3));
    assert_eq!(sold(&app, eggs).await, rust_decimal::Decimal::from(3));

    // Changed from the page (one box of eggs less).
    page.click(&format!(
        "li.line[data-offer-id='{eggs}'] button[data-action=less]"
    ))
    .await;
    page.click("#enregistrer").await;
    wait_message(&page, "success", "Votre commande n° 2 a été modifiée").await;
    assert_eq!(sold(&app, eggs).await, rust_decimal::Decimal::from(2));

    // Found again after a reload (GET …/orders/mine), then cancelled.
    page.goto(&url).await;
    page.wait_ready().await;
    let again = page
        .eval("return document.querySelector('.order-ref') && document.querySelector('.order-ref').textContent;", vec![])
        .await;
    assert!(
        again
            .as_str()
            .is_some_and(|t| t.contains("Ma commande n° 2")),
        "{again}"
    );
    let basket = page.eval(BASKET_STATE, vec![]).await;
    assert_eq!(basket["lines"][eggs.to_string()]["qty"], "2", "{basket}");
    page.screenshot("shop-phone-my-order").await;
    page.click("#annuler").await;
    page.click("#annuler").await;
    wait_message(&page, "success", "Votre commande n° 2 est annulée").await;
    let (status,): (String,) =
        sqlx::query_as("SELECT status FROM orders WHERE customer_id = $1 AND distribution_id = $2")
            .bind(claire.id)
            .bind(sale.distribution_id)
            .fetch_one(&app.db)
            .await
            .expect("order row");
    assert_eq!(status, "cancelled");
    assert_eq!(sold(&app, sack).await, rust_decimal::Decimal::from(2));
    page.close().await;
}

#[actix_web::test]
async fn the_countdown_opens_the_shop_at_the_opening_instant_and_closing_freezes_it() {
    let app = spawn_app().await;
    let _clock = follow_real_time(&app);
    let tilleuls = farm(&app, "Ferme des Tilleuls", &tilleuls()).await;
    let mut driver = Driver::start().await;
    let page = driver.browser(PHONE).await;
    // Opens in a few seconds of real time: enough to sign up first.
    let sale = live_sale(&app, vec![tilleuls], seconds(12), seconds(30)).await;
    let chicken = sale.farms[0].offers[0];
    let url = app.url(&format!("/shop/{}", sale.distribution_id));
    open_page(&page, &url, None).await;
    let countdown = "const c = document.getElementById('compte-a-rebours'); return {state: c.dataset.state, text: c.textContent};";
    let before = page.eval(countdown, vec![]).await;
    assert_eq!(before["state"], "upcoming", "{before}");
    assert!(
        before["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Ouverture des commandes dans 00:00:")),
        "{before}"
    );
    let closed = offer_state(&page, chicken).await;
    assert_eq!(closed["disabled"], true, "{closed}");
    assert_eq!(closed["label"], "Bientôt", "{closed}");
    page.screenshot("shop-phone-countdown").await;

    // Sign up with the form while waiting. Signing in asks for no name: the
    // field shows once "Créer un compte" is chosen.
    page.click("#connexion").await;
    let name_field = "return getComputedStyle(document.getElementById('auth-name')\
                      .closest('.field')).display";
    assert_eq!(
        page.eval(name_field, vec![]).await,
        "none",
        "no name field in sign-in mode"
    );
    page.click("dialog.auth button.link").await;
    assert_ne!(
        page.eval(name_field, vec![]).await,
        "none",
        "the name field in sign-up mode"
    );
    page.type_into("#auth-name", "Denise Martin").await;
    page.type_into(
        "#auth-email",
        &format!(
            "denise-{}@example.org",
            &Uuid::new_v4().simple().to_string()[..8]
        ),
    )
    .await;
    page.type_into("#auth-password", "un mot de passe").await;
    page.screenshot("shop-phone-sign-up").await;
    page.click("dialog.auth button[type=submit]").await;
    page.wait_for(
        "signed in",
        Duration::from_secs(10),
        "const w = document.querySelector('#compte .who'); return w && w.textContent;",
        vec![],
        |v| v == "Denise Martin",
    )
    .await;

    // The page opens by itself at the opening instant, without reload.
    let until_open = (sale.window.opens_at - Utc::now())
        .to_std()
        .unwrap_or_default();
    page.wait_for(
        "the shop opens",
        until_open + EVENT_WAIT,
        &format!("return {{countdown: (() => {{ {countdown} }})(), offer: (() => {{ {OFFER_STATE} }})()}};"),
        vec![json!(chicken)],
        |v| v["countdown"]["state"] == "open" && v["offer"]["disabled"] == false,
    )
    .await;
    let opened_at = Utc::now();
    assert!(
        opened_at >= sale.window.opens_at,
        "opened early: {opened_at} < {}",
        sale.window.opens_at
    );
    let open = page.eval(countdown, vec![]).await;
    assert!(
        open["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Fermeture des commandes dans")),
        "{open}"
    );

    page.click(&format!("li.offer[data-offer-id='{chicken}'] button.add"))
        .await;
    page.click("#commander").await;
    wait_message(&page, "success", "Votre commande n° 1 est enregistrée").await;
    page.wait_for(
        "the order can be cancelled while open",
        EVENT_WAIT,
        "return !!document.getElementById('annuler');",
        vec![],
        |v| v == &json!(true),
    )
    .await;

    // At the closing instant the page turns read-only by itself.
    let until_close = (sale.window.closes_at - Utc::now())
        .to_std()
        .unwrap_or_default();
    let (closed, _) = page
        .wait_for(
            "the sale closes",
            until_close + EVENT_WAIT,
            &format!("return {{countdown: (() => {{ {countdown} }})(), offer: (() => {{ {OFFER_STATE} }})(),
                       cancel: !!document.getElementById('annuler'), text: document.getElementById('panier-contenu').textContent}};"),
            vec![json!(chicken)],
            |v| v["countdown"]["state"] == "closed",
        )
        .await;
    assert!(Utc::now() >= sale.window.closes_at, "closed early");
    assert_eq!(closed["offer"]["disabled"], true, "{closed}");
    assert_eq!(closed["offer"]["label"], "Vente close", "{closed}");
    assert_eq!(
        closed["cancel"], false,
        "no cancelling after closing: {closed}"
    );
    assert!(
        closed["text"]
            .as_str()
            .is_some_and(|t| t.contains("ne peut plus changer")),
        "{closed}"
    );
    page.screenshot("shop-phone-closed").await;
    let (name,): (String,) = sqlx::query_as(
        "SELECT a.name FROM orders o JOIN accounts a ON a.id = o.customer_id WHERE o.distribution_id = $1",
    )
    .bind(sale.distribution_id)
    .fetch_one(&app.db)
    .await
    .expect("the order");
    assert_eq!(name, "Denise Martin");
    page.close().await;
}
