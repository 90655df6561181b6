//! The producer's Commandes pages through HTTP: one recap across two
//! markets of the same day (by product, by member, CSV, printable
//! sign-off sheet); a line set to 0 while the sale is open (through the
//! engine: stock back at once, the customer told, the change logged);
//! quantities and weights after closing, one by one and in bulk (all or
//! nothing); another producer's distribution and line answer 404.

use chrono::Duration;
use etal::engine::clock::Clock;
use uuid::Uuid;

use crate::after_sale::setup::{farm, line_ids, link_all, market_with_fee, sale};
use crate::fixtures::{
    customers, distribution, offer, order, participate, producer_with_catalog, shop_available,
};
use crate::helpers::count;
use crate::helpers::spawn_app;
use crate::web_client::WebClient;

#[actix_web::test]
async fn one_recap_covers_every_market_of_the_day_by_product_and_by_member() {
    let app = spawn_app().await;
    let (farm, o) = farm(&app).await;
    let lyon = market_with_fee(&app, "Marché de Lyon", "0", true).await;
    let vaise = market_with_fee(&app, "Marché de Vaise", "0", true).await;
    link_all(&app, &lyon, &[&farm]).await;
    link_all(&app, &vaise, &[&farm]).await;
    let (d1, window) = sale(&app, &lyon, &[&farm]).await;
    let d2 = distribution(&app, &vaise, &window).await;
    participate(&app, &farm, d2).await;
    let c = customers(&app, 2).await;
    order(&app, d1, &c[0], &[(o.apples, "2"), (o.chicken, "1")])
        .await
        .expect(201);
    order(&app, d2, &c[1], &[(o.apples, "3")]).await.expect(201);

    let browser = WebClient::new(&app);
    browser.sign_in(&farm.owner).await;
    let base = format!("/espace-producteur/{}/commandes", farm.producer_id);
    let list = browser.get(&base).await.expect(200);
    assert!(list.shows("Marché de Lyon") && list.shows("Marché de Vaise"));
    let by_product = browser
        .get(&format!("{base}/recap?d={d1}&d={d2}&vue=produits"))
        .await
        .expect(200);
    // 2 + 3 kg of apples in one row, from both markets.
    assert!(by_product.shows("Pommes"));
    assert!(
        by_product
            .body
            .contains("data-label=\"Quantité\" class=\"num\">5</td>"),
        "{}",
        by_product.body
    );
    let by_member = browser
        .get(&format!("{base}/recap?d={d1}&d={d2}&vue=membres"))
        .await
        .expect(200);
    assert!(by_member.shows(&c[0].name) && by_member.shows(&c[1].name));
    assert!(
        by_member.shows("Mettre à 0"),
        "the sale is open: lines can be zeroed"
    );
    let sheet = browser
        .get(&format!("{base}/imprimer?d={d1}&d={d2}&vue=membres"))
        .await
        .expect(200);
    assert!(sheet.shows("liste d'émargement") && sheet.shows("Signature"));
    assert!(sheet.shows("2 commandes"));
    let csv = browser
        .get(&format!("{base}/recap.csv?d={d1}&d={d2}&vue=produits"))
        .await
        .expect(200);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/csv"));
    assert!(csv.body.contains("Pommes"));

    // Another producer's space sees none of it.
    let other = producer_with_catalog(&app, "Autre ferme", &[offer("Miel", "8.00", None)]).await;
    let stranger = WebClient::new(&app);
    stranger.sign_in(&other.owner).await;
    let theirs = format!("/espace-producteur/{}/commandes", other.producer_id);
    stranger
        .get(&format!("{theirs}/recap?d={d1}&vue=produits"))
        .await
        .expect(404);
    stranger
        .get(&format!("{theirs}/pesee?d={d1}"))
        .await
        .expect(404);
    stranger
        .get(&format!("{base}/recap?d={d1}&vue=produits"))
        .await
        .expect(404);
    stranger
        .get(&format!("{theirs}/recap?d=pas-un-id"))
        .await
        .expect(404);
}

#[actix_web::test]
async fn a_line_set_to_0_during_the_sale_goes_back_to_stock_and_the_customer_is_told() {
    let app = spawn_app().await;
    let (farm, o) = farm(&app).await;
    let market = market_with_fee(&app, "Marché de Lyon", "0", true).await;
    link_all(&app, &market, &[&farm]).await;
    let (d, _) = sale(&app, &market, &[&farm]).await;
    let c = customers(&app, 1).await;
    let placed = order(&app, d, &c[0], &[(o.apples, "4"), (o.juice, "1")])
        .await
        .expect(201);
    assert_eq!(
        shop_available(&app, d, o.apples).await.as_deref(),
        Some("6")
    );
    let apples = line_ids(&placed, o.apples)[0];
    let juice = line_ids(&placed, o.juice)[0];

    let browser = WebClient::new(&app);
    browser.sign_in(&farm.owner).await;
    let base = format!("/espace-producteur/{}/commandes", farm.producer_id);
    let recap = format!("{base}/recap?d={d}&vue=membres");
    // A quantity other than 0 waits for the close: refused next to the line.
    let refused = browser
        .post(
            &format!("{base}/lignes/{apples}"),
            &[("quantite", "2"), ("retour", &recap)],
        )
        .await
        .expect(422);
    assert!(refused
        .field_error(&format!("ligne-{apples}"))
        .is_some_and(|e| e.contains("mettre une ligne à 0")));
    let done = browser
        .post(
            &format!("{base}/lignes/{apples}"),
            &[
                ("quantite", "0"),
                ("motif", "Gel sur les pommiers"),
                ("retour", &recap),
            ],
        )
        .await
        .expect(303);
    assert_eq!(done.location(), recap);
    assert!(browser
        .get(&recap)
        .await
        .shows("Ligne retirée de la commande"));
    // The order keeps its other line; the stock is back in the shop.
    let mine = app
        .get(
            &format!("/api/v1/distributions/{d}/orders/mine"),
            Some(&c[0].token),
        )
        .await
        .expect(200);
    assert_eq!(mine["lines"].as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(
        shop_available(&app, d, o.apples).await.as_deref(),
        Some("10")
    );
    let told = count(
        &app,
        "SELECT count(*) FROM outbox WHERE kind = 'line_change' AND body LIKE '%Gel sur les pommiers%' AND recipient = (SELECT email FROM accounts WHERE id = $1)",
        c[0].id,
    )
    .await;
    assert_eq!(told, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM order_line_changes WHERE order_id = $1 AND new_value = 0",
            parse(&placed["id"])
        )
        .await,
        1
    );
    // The last line removed cancels the order.
    browser
        .post(
            &format!("{base}/lignes/{juice}"),
            &[("quantite", "0"), ("retour", &recap)],
        )
        .await
        .expect(303);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM orders WHERE id = $1 AND status = 'cancelled'",
            parse(&placed["id"])
        )
        .await,
        1
    );
}

fn parse(v: &serde_json::Value) -> Uuid {
    v.as_str().and_then(|s| s.parse().ok()).expect("an id")
}

#[actix_web::test]
async fn after_closing_quantities_and_weights_change_and_bulk_weighing_is_all_or_nothing() {
    let app = spawn_app().await;
    let (farm, o) = farm(&app).await;
    let market = market_with_fee(&app, "Marché de Lyon", "0", true).await;
    link_all(&app, &market, &[&farm]).await;
    let (d, window) = sale(&app, &market, &[&farm]).await;
    let c = customers(&app, 2).await;
    let first = order(&app, d, &c[0], &[(o.apples, "3"), (o.chicken, "1")])
        .await
        .expect(201);
    let second = order(&app, d, &c[1], &[(o.chicken, "2")]).await.expect(201);
    app.clock.set(window.closes_at + Duration::minutes(1));
    let apples = line_ids(&first, o.apples)[0];
    let chicken_1 = line_ids(&first, o.chicken)[0];
    let chicken_2 = line_ids(&second, o.chicken)[0];

    let browser = WebClient::new(&app);
    browser.sign_in(&farm.owner).await;
    let base = format!("/espace-producteur/{}/commandes", farm.producer_id);
    let recap = format!("{base}/recap?d={d}&vue=membres");
    assert!(browser.get(&recap).await.shows("Enregistrer"));
    // A quantity change: stock follows, the customer is told.
    browser
        .post(
            &format!("{base}/lignes/{apples}"),
            &[
                ("quantite", "2"),
                ("motif", "Une pomme abîmée"),
                ("retour", &recap),
            ],
        )
        .await
        .expect(303);
    let q: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT quantity FROM order_lines WHERE id = $1")
            .bind(apples)
            .fetch_one(&app.db)
            .await
            .expect("line");
    assert_eq!(q, rust_decimal_macros::dec!(2));
    // Nonsense is refused next to its field, nothing changed.
    let bad = browser
        .post(
            &format!("{base}/lignes/{chicken_1}"),
            &[("quantite", "1"), ("poids", "beaucoup"), ("retour", &recap)],
        )
        .await
        .expect(422);
    assert!(bad.field_error(&format!("poids-{chicken_1}")).is_some());

    // Bulk weighing: one wrong weight and nothing is saved…
    let weighing = format!("{base}/pesee?d={d}");
    let page = browser.get(&weighing).await.expect(200);
    assert!(page.shows("Poulet") && page.shows(&c[1].name));
    let (l1, l2) = (chicken_1.to_string(), chicken_2.to_string());
    let refused = browser
        .post(
            &weighing,
            &[
                ("ligne", l1.as_str()),
                ("poids", "1,5"),
                ("ligne", l2.as_str()),
                ("poids", "-2"),
            ],
        )
        .await
        .expect(422);
    assert!(refused.field_error(&format!("poids-{chicken_2}")).is_some());
    let weighed = "SELECT count(*) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.distribution_id = $1 AND l.weight IS NOT NULL";
    assert_eq!(count(&app, weighed, d).await, 0);
    // …then both are.
    browser
        .post(
            &weighing,
            &[
                ("ligne", l1.as_str()),
                ("poids", "1,5"),
                ("ligne", l2.as_str()),
                ("poids", "2,25"),
            ],
        )
        .await
        .expect(303);
    assert_eq!(count(&app, weighed, d).await, 2);
    let total: rust_decimal::Decimal =
        sqlx::query_scalar("SELECT final_total FROM order_lines WHERE id = $1")
            .bind(chicken_2)
            .fetch_one(&app.db)
            .await
            .expect("weighed");
    assert_eq!(
        total,
        rust_decimal_macros::dec!(27.00),
        "12.00 €/kg × 2.25 kg"
    );
    assert!(browser.get(&weighing).await.shows("2 pesées enregistrées"));
}

#[actix_web::test]
async fn planning_joins_ticked_distributions_all_or_none_and_withdraws_until_orders_exist() {
    let app = spawn_app().await;
    let producer =
        producer_with_catalog(&app, "Ferme des Tilleuls", &[offer("Œufs", "3.00", None)]).await;
    let place = crate::fixtures::market(&app, "Marché du jeudi").await;
    crate::fixtures::link(&app, &place, &producer).await;
    let window = crate::fixtures::window_from(app.clock.now());
    let first = distribution(&app, &place, &window).await;
    let later = crate::fixtures::Window {
        opens_at: window.opens_at + Duration::days(7),
        closes_at: window.closes_at + Duration::days(7),
    };
    let second = distribution(&app, &place, &later).await;
    let browser = WebClient::new(&app);
    browser.sign_in(&producer.owner).await;
    let base = format!("/espace-producteur/{}/planifier", producer.producer_id);
    let page = browser.get(&base).await.expect(200);
    assert!(page.shows("Marché du jeudi") && page.shows("+ Participer"));
    let c = producer.catalog_id;
    let (k1, k2) = (format!("{first}:{c}"), format!("{second}:{c}"));
    // A custom window closing after the distribution: nothing is joined.
    let refused = browser
        .post(
            &base,
            &[
                ("p", k1.as_str()),
                ("p", k2.as_str()),
                ("cloture_date", "2099-01-01"),
                ("cloture_heure", "20:00"),
                ("ouverture_date", ""),
                ("ouverture_heure", ""),
            ],
        )
        .await
        .expect(422);
    assert!(refused.shows("Les dates personnalisées ne conviennent pas"));
    let joined = "SELECT count(*) FROM participations WHERE catalog_id = $1";
    assert_eq!(count(&app, joined, c).await, 0);
    browser
        .post(&base, &[("p", k1.as_str()), ("p", k2.as_str())])
        .await
        .expect(303);
    assert_eq!(count(&app, joined, c).await, 2);
    assert!(browser
        .get(&base)
        .await
        .shows("Participations enregistrées : 2."));

    // With an order, withdrawing is refused; without, it is done.
    app.clock.set(window.opens_at + Duration::seconds(1));
    let customer = app.user("Léa").await;
    order(&app, first, &customer, &[(producer.offers[0], "1")])
        .await
        .expect(201);
    let ids: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT id, distribution_id FROM participations WHERE catalog_id = $1")
            .bind(c)
            .fetch_all(&app.db)
            .await
            .expect("participations");
    let with_order = ids
        .iter()
        .find(|(_, d)| *d == first)
        .map(|(p, _)| *p)
        .expect("first");
    let without = ids
        .iter()
        .find(|(_, d)| *d == second)
        .map(|(p, _)| *p)
        .expect("second");
    browser
        .post(&format!("{base}/{with_order}/retirer"), &[])
        .await
        .expect(303);
    assert!(browser.get(&base).await.shows("mettez leurs quantités à 0"));
    browser
        .post(&format!("{base}/{without}/retirer"), &[])
        .await
        .expect(303);
    assert_eq!(count(&app, joined, c).await, 1);
    // Another producer cannot withdraw it (404).
    let other = producer_with_catalog(&app, "Autre ferme", &[offer("Miel", "8.00", None)]).await;
    let stranger = WebClient::new(&app);
    stranger.sign_in(&other.owner).await;
    stranger
        .post(
            &format!(
                "/espace-producteur/{}/planifier/{with_order}/retirer",
                other.producer_id
            ),
            &[],
        )
        .await
        .expect(404);
    assert_eq!(count(&app, joined, c).await, 1);
}
