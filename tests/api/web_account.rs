//! The customer's pages through HTTP: every order with its weighing and
//! what is to pay; renaming; and deleting the account — what goes (tokens,
//! messages, memberships, open orders cancelled with their stock back),
//! what stays (past orders, anonymous), and what prevents it.

use chrono::Duration;
use etal::engine::clock::Clock;
use serde_json::json;

use crate::after_sale::setup::{farm, line_ids, link_all, market_with_fee, sale};
use crate::fixtures::{
    distribution, market, offer, open_sale, order, participate, shop_available, window_from,
};
use crate::helpers::count;
use crate::helpers::spawn_app;
use crate::web_client::WebClient;

#[actix_web::test]
async fn my_orders_show_each_line_weighed_and_the_total_to_pay() {
    let app = spawn_app().await;
    let (farm, o) = farm(&app).await;
    let market = market_with_fee(&app, "Marché de Lyon", "0", true).await;
    link_all(&app, &market, &[&farm]).await;
    let (d, window) = sale(&app, &market, &[&farm]).await;
    let customer = app.user("Léa").await;
    let placed = order(&app, d, &customer, &[(o.apples, "2"), (o.chicken, "1")])
        .await
        .expect(201);
    let browser = WebClient::new(&app);
    browser.sign_in(&customer).await;
    let open = browser.get("/mes-commandes").await.expect(200);
    assert!(open.shows("Commandes ouvertes : vous pouvez encore la modifier"));
    assert!(open.shows("à peser") && open.shows("(estimé)"));
    app.clock.set(window.closes_at + Duration::minutes(1));
    let chicken = line_ids(&placed, o.chicken)[0];
    app.post(
        &format!("/api/v1/distributions/{d}/weighing"),
        &json!({"lines": [{"line_id": chicken, "weight": "1.5"}]}),
        Some(&farm.owner.token),
    )
    .await
    .expect(200);
    let weighed = browser.get("/mes-commandes").await.expect(200);
    assert!(weighed.shows("En préparation"));
    assert!(weighed.shows("1,5 kg"));
    // 2 × 2.50 + 12.00 as ordered; 5.00 + 18.00 after weighing.
    assert!(weighed.shows("Total commandé : 17,00"), "{}", weighed.body);
    assert!(weighed.shows("après pesée : 23,00"));
}

#[actix_web::test]
async fn deleting_an_account_keeps_past_orders_anonymous_and_removes_everything_else() {
    let app = spawn_app().await;
    let past = open_sale(&app, &[offer("Œufs", "3.00", Some(20))]).await;
    let egg = past.producer.offers[0];
    let customer = app.user("Léa Martin").await;
    order(&app, past.distribution_id, &customer, &[(egg, "2")])
        .await
        .expect(201);
    let ends: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT ends_at FROM distributions WHERE id = $1")
            .bind(past.distribution_id)
            .fetch_one(&app.db)
            .await
            .expect("end");
    app.clock.set(ends + Duration::hours(1));
    // Next week's sale is open, and she ordered there too.
    let window = window_from(app.clock.now());
    let next = distribution(&app, &past.market, &window).await;
    participate(&app, &past.producer, next).await;
    app.clock.set(window.opens_at + Duration::seconds(1));
    order(&app, next, &customer, &[(egg, "5")])
        .await
        .expect(201);
    let before = shop_available(&app, next, egg).await;
    let browser = WebClient::new(&app);
    browser.sign_in(&customer).await;
    browser
        .post(
            &format!("/marche/{}/message", past.market.market_id),
            &[("body", "Bonjour !")],
        )
        .await
        .expect(303);

    let page = browser.get("/mon-compte/supprimer").await.expect(200);
    assert!(page.shows("vos commandes en cours (1) sont annulées"));
    assert!(page.shows("1 commande passée"));
    // A wrong password, then a forged form: nothing changes.
    let wrong = browser
        .post("/mon-compte/supprimer", &[("password", "pas le bon")])
        .await
        .expect(422);
    assert!(wrong.field_error("password").is_some());
    browser
        .post_raw(
            "/mon-compte/supprimer",
            &[("password", customer.password.as_str())],
            &[],
        )
        .await
        .expect(403);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM accounts WHERE id = $1 AND name = 'Léa Martin'",
            customer.id
        )
        .await,
        1
    );

    let done = browser
        .post(
            "/mon-compte/supprimer",
            &[("password", customer.password.as_str())],
        )
        .await
        .expect(303);
    assert_eq!(done.location(), "/");
    assert!(done
        .set_cookie("etal_session")
        .is_some_and(|c| c.contains("Max-Age=0")));
    // The open order is cancelled and its 5 eggs are back on sale.
    let after = shop_available(&app, next, egg).await;
    assert_eq!(
        after.as_deref().and_then(|a| a.parse::<i64>().ok()),
        before
            .as_deref()
            .and_then(|b| b.parse::<i64>().ok())
            .map(|b| b + 5)
    );
    // The past order stays, under an anonymous account nobody can use.
    let (name, email): (String, String) =
        sqlx::query_as("SELECT name, email FROM accounts WHERE id = $1")
            .bind(customer.id)
            .fetch_one(&app.db)
            .await
            .expect("the row stays for the past order");
    assert_eq!(name, "Compte supprimé");
    assert_ne!(email, customer.email);
    let kept = "SELECT count(*) FROM orders WHERE customer_id = $1 AND status = 'confirmed'";
    assert_eq!(count(&app, kept, customer.id).await, 1);
    for table in ["auth_tokens", "idempotency_keys"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE account_id = $1");
        assert_eq!(count(&app, &sql, customer.id).await, 0, "{table}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM messages WHERE correspondent_id = $1",
            customer.id
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM orders WHERE customer_id = $1 AND status = 'cancelled'",
            customer.id
        )
        .await,
        0
    );
    // Her API token and her password are worth nothing now.
    app.get("/api/v1/accounts/me", Some(&customer.token))
        .await
        .expect(401);
    app.post(
        "/api/v1/sessions",
        &json!({"email": customer.email, "password": customer.password}),
        None,
    )
    .await
    .expect(401);
    // The producer's recap still counts the past order.
    let recap = app
        .get(
            &format!(
                "/api/v1/distributions/{}/recap?producer_id={}",
                past.distribution_id, past.producer.producer_id
            ),
            Some(&past.producer.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(recap["totals"]["incl"], json!("6.00"), "{recap}");
}

#[actix_web::test]
async fn an_account_is_not_deleted_while_it_is_a_markets_last_admin_or_owns_a_space_with_sales() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Œufs", "3.00", None)]).await;
    let customer = app.user("Hugo").await;
    order(
        &app,
        sale.distribution_id,
        &customer,
        &[(sale.producer.offers[0], "1")],
    )
    .await
    .expect(201);
    for (who, reason) in [
        (&sale.market.admin, "seul administrateur du marché"),
        (&sale.producer.owner, "a des ventes"),
    ] {
        let browser = WebClient::new(&app);
        browser.sign_in(who).await;
        assert!(browser
            .get("/mon-compte/supprimer")
            .await
            .expect(200)
            .shows(reason));
        let refused = browser
            .post(
                "/mon-compte/supprimer",
                &[("password", who.password.as_str())],
            )
            .await
            .expect(409);
        assert!(refused.shows(reason));
        assert_eq!(
            count(
                &app,
                "SELECT count(*) FROM auth_tokens WHERE account_id = $1",
                who.id
            )
            .await,
            2
        );
    }
    // An order being prepared (sale closed, distribution to come) waits too.
    app.clock.set(sale.window.closes_at + Duration::minutes(1));
    let browser = WebClient::new(&app);
    browser.sign_in(&customer).await;
    assert!(browser
        .post(
            "/mon-compte/supprimer",
            &[("password", customer.password.as_str())]
        )
        .await
        .expect(409)
        .shows("en préparation"));

    // A new admin and a producer space that never sold: both go.
    let newcomer = app.user("Nina").await;
    let space = app.producer(&newcomer, "Jardin de Nina").await;
    let own = market(&app, "Marché de Nina").await;
    app.post(
        &format!("/api/v1/markets/{}/admins", own.market_id),
        &json!({"email": newcomer.email}),
        Some(&own.admin.token),
    )
    .await
    .expect(201);
    let nina = WebClient::new(&app);
    nina.sign_in(&newcomer).await;
    assert!(nina
        .get("/mon-compte/supprimer")
        .await
        .shows("Jardin de Nina"));
    nina.post(
        "/mon-compte/supprimer",
        &[("password", newcomer.password.as_str())],
    )
    .await
    .expect(303);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM accounts WHERE id = $1",
            newcomer.id
        )
        .await,
        0,
        "no history: the row goes"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM producers WHERE id = $1", space).await,
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM market_admins WHERE market_id = $1",
            own.market_id
        )
        .await,
        1
    );
}
