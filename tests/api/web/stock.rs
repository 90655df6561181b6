//! The stock page through HTTP: every row checked before any is saved, a
//! saved stock live in the shop at once, ordered and available shown.

use crate::fixtures::{offer, open_sale, order, shop_available};
use crate::helpers::spawn_app;
use crate::web_client::WebClient;

#[actix_web::test]
async fn the_weekly_stock_page_checks_every_row_and_the_shop_follows() {
    let app = spawn_app().await;
    let sale = open_sale(
        &app,
        &[
            offer("Poulet entier", "18.00", Some(5)),
            offer("Œufs", "3.20", None),
        ],
    )
    .await;
    let (chicken, eggs) = (sale.producer.offers[0], sale.producer.offers[1]);
    let customer = app.user("Léa").await;
    order(&app, sale.distribution_id, &customer, &[(chicken, "2")])
        .await
        .expect(201);
    let browser = WebClient::new(&app);
    browser.sign_in(&sale.producer.owner).await;
    let stocks = format!(
        "/espace-producteur/{}/produits/stocks",
        sale.producer.producer_id
    );
    let page = browser.get(&stocks).await.expect(200);
    assert!(page.shows("Poulet entier") && page.shows("illimité"));

    // One bad row: nothing saved, the row says why.
    let (c, e) = (chicken.to_string(), eggs.to_string());
    let refused = browser
        .post(
            &stocks,
            &[
                ("row", &c),
                ("real", "12"),
                ("tracked", &c),
                ("row", &e),
                ("real", "2,5"),
                ("tracked", &e),
            ],
        )
        .await
        .expect(422);
    assert!(refused.body.contains(&format!("id=\"erreur-reel-{eggs}\"")));
    assert!(refused.shows("Ce produit se vend à l'unité"));
    assert_eq!(
        shop_available(&app, sale.distribution_id, chicken)
            .await
            .as_deref(),
        Some("3")
    );

    browser
        .post(
            &stocks,
            &[
                ("row", &c),
                ("real", "12"),
                ("tracked", &c),
                ("row", &e),
                ("real", "30"),
                ("tracked", &e),
            ],
        )
        .await
        .expect(303);
    // Live at once: 12 real − 2 ordered.
    assert_eq!(
        shop_available(&app, sale.distribution_id, chicken)
            .await
            .as_deref(),
        Some("10")
    );
    assert_eq!(
        shop_available(&app, sale.distribution_id, eggs)
            .await
            .as_deref(),
        Some("30")
    );
    let page = browser.get(&stocks).await.expect(200);
    assert!(page.shows("2 stocks enregistrés"));
}
