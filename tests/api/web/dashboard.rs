//! The producer's Tableau de bord: next distributions with their window
//! and what is ordered so far, its markets, the markets nearby.

use crate::fixtures::{market, offer, open_sale, order};
use crate::helpers::spawn_app;
use crate::web_client::WebClient;

#[actix_web::test]
async fn the_dashboard_shows_what_is_ordered_so_far_and_the_markets_nearby() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poireaux", "2.00", None)]).await;
    let leeks = sale.producer.offers[0];
    let customers = [app.user("Léa").await, app.user("Hugo").await];
    for (who, quantity) in customers.iter().zip(["2", "3"]) {
        order(&app, sale.distribution_id, who, &[(leeks, quantity)])
            .await
            .expect(201);
    }
    market(&app, "Marché des Pentes").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&sale.producer.owner).await;
    let page = browser.follow("/espace-producteur").await.expect(200);
    assert!(page.shows("Marché de la Croix-Rousse"));
    assert!(page.shows("2 commandes · 10,00\u{202f}€"), "{}", page.body);
    assert!(page.shows("ouvertes"));
    // The other market (same place in the fixtures): suggested, 0 km away.
    assert!(page.shows("Marché des Pentes") && page.shows("à 0 km"));
}
