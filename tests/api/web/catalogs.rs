//! Catalogues through HTTP: a catalog made by ticking offers with a
//! catalog price, a wrong price shown next to its offer, the share page
//! showing the catalog price, the forced sync of an open sale, a forged
//! sync refused, another producer's catalog a 404.

use sqlx::Row;

use crate::fixtures::{offer, open_sale};
use crate::helpers::spawn_app;
use crate::web_client::WebClient;

#[actix_web::test]
async fn a_catalog_of_ticked_offers_with_its_own_prices_and_a_forced_sync() {
    let app = spawn_app().await;
    let sale = open_sale(
        &app,
        &[
            offer("Poireaux", "2.00", None),
            offer("Navets", "1.50", None),
        ],
    )
    .await;
    let browser = WebClient::new(&app);
    browser.sign_in(&sale.producer.owner).await;
    let base = format!(
        "/espace-producteur/{}/catalogues",
        sale.producer.producer_id
    );
    let (leeks, turnips) = (
        sale.producer.offers[0].to_string(),
        sale.producer.offers[1].to_string(),
    );
    let form = |price: &'static str| {
        vec![
            ("name", "Légumes — AMAP".to_owned()),
            ("offer", leeks.clone()),
            ("row", leeks.clone()),
            ("price", price.to_owned()),
            ("row", turnips.clone()),
            ("price", String::new()),
        ]
    };
    let refused = form("deux euros");
    let refused: Vec<(&str, &str)> = refused.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = browser
        .post(&format!("{base}/nouveau"), &refused)
        .await
        .expect(422);
    assert!(page.body.contains(&format!("id=\"erreur-prix-{leeks}\"")));
    assert!(page.shows("Un prix du catalogue est à corriger."));
    let count: i64 = sqlx::query("SELECT count(*) FROM catalogs")
        .fetch_one(&app.db)
        .await
        .expect("n")
        .get(0);
    assert_eq!(count, 1, "nothing created");

    let good = form("1,80");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = browser
        .post(&format!("{base}/nouveau"), &good)
        .await
        .expect(303);
    let page = browser.get(&created.location()).await.expect(200);
    assert!(page.shows("Catalogue créé."));
    let (code, entries): (String, i64) = {
        let row = sqlx::query(
            "SELECT c.code, (SELECT count(*) FROM catalog_entries e WHERE e.catalog_id = c.id)
               FROM catalogs c WHERE c.name = 'Légumes — AMAP'",
        )
        .fetch_one(&app.db)
        .await
        .expect("catalog");
        (row.get(0), row.get(1))
    };
    assert_eq!(entries, 1, "only the ticked offer");
    let share = WebClient::new(&app)
        .get(&format!("/catalog/{code}"))
        .await
        .expect(200);
    assert!(share.shows("Poireaux") && share.shows("1,80\u{202f}€") && !share.shows("Navets"));

    // The catalog of the open sale: forced sync, then a forged one.
    let sale_catalog = format!("{base}/{}", sale.producer.catalog_id);
    let synced = browser
        .post(&format!("{sale_catalog}/synchroniser"), &[])
        .await
        .expect(303);
    assert!(browser
        .get(&synced.location())
        .await
        .shows("Synchronisé : la vente ouverte"));
    browser
        .post_raw(&format!("{sale_catalog}/synchroniser"), &[], &[])
        .await
        .expect(403);
    let page = browser.get(&sale_catalog).await.expect(200);
    assert!(page.shows("Forcer la synchronisation") && page.shows("Marché de la Croix-Rousse"));

    // Another producer sees none of it.
    let stranger = app.user("Voisin").await;
    let theirs = app.producer(&stranger, "Ferme voisine").await;
    let other = WebClient::new(&app);
    other.sign_in(&stranger).await;
    other
        .get(&format!(
            "/espace-producteur/{theirs}/catalogues/{}",
            sale.producer.catalog_id
        ))
        .await
        .expect(404);
    other
        .post(
            &format!(
                "/espace-producteur/{theirs}/catalogues/{}/synchroniser",
                sale.producer.catalog_id
            ),
            &[],
        )
        .await
        .expect(404);
}
