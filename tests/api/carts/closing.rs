//! A sale that closes gives its baskets' holds back at once, long before
//! they would run out: the offer is sold in a second market whose sale
//! stays open, and its storefront sees the units come back live.

use chrono::Duration;
use etal::engine::clock::Clock;
use serde_json::json;

use super::{cart_path, held, put_cart, until_available};
use crate::fixtures::{
    customers, distribution, link, market, offer, participate, producer_with_catalog, window_from,
    Window,
};
use crate::helpers::spawn_app;
use crate::live_client::{connect, next_of_type};

#[actix_web::test]
async fn a_closing_sale_releases_its_baskets_holds_at_once() {
    let app = spawn_app().await;
    let farm = producer_with_catalog(
        &app,
        "Ferme des Tilleuls",
        &[offer("Poulet", "12.00", Some(3))],
    )
    .await;
    let chicken = farm.offers[0];
    // Market A's sale closes three minutes after it opens, well within a
    // basket's 10 minutes; market B sells the same chicken until tomorrow.
    let now = app.clock.now();
    let short = Window {
        opens_at: now + Duration::minutes(1),
        closes_at: now + Duration::minutes(4),
    };
    let market_a = market(&app, "Marché de la Croix-Rousse").await;
    link(&app, &market_a, &farm).await;
    let a = distribution(&app, &market_a, &short).await;
    participate(&app, &farm, a).await;
    let market_b = market(&app, "Marché de Villeurbanne").await;
    link(&app, &market_b, &farm).await;
    let b = distribution(&app, &market_b, &window_from(now)).await;
    participate(&app, &farm, b).await;
    app.clock.set(short.opens_at + Duration::seconds(1));

    let crowd = customers(&app, 2).await;
    let (lea, hugo) = (&crowd[0], &crowd[1]);
    let mut watcher_b = connect(&app, &format!("/ws/distributions/{b}")).await;
    next_of_type(&mut watcher_b, "snapshot").await;
    let cart = put_cart(&app, a, lea, &[(chicken, "2")]).await.expect(200);
    assert_eq!(held(&cart, chicken).as_deref(), Some("2"));
    until_available(&mut watcher_b, chicken, "1").await;
    let stocks = format!("/api/v1/producers/{}/stocks", farm.producer_id);
    let page = app.get(&stocks, Some(&farm.owner.token)).await.expect(200);
    assert_eq!(page[0]["held"], "2");

    // One second before the closing nothing moves; at it, the hold goes.
    app.clock.set(short.closes_at - Duration::seconds(1));
    let still = app.get(&cart_path(a), Some(&lea.token)).await.expect(200);
    assert_eq!(held(&still, chicken).as_deref(), Some("2"));
    app.clock.set(short.closes_at);
    until_available(&mut watcher_b, chicken, "3").await;
    let gone = app.get(&cart_path(a), Some(&lea.token)).await.expect(200);
    assert_eq!(
        gone["lines"],
        json!([]),
        "the closed sale's basket is empty"
    );
    let page = app.get(&stocks, Some(&farm.owner.token)).await.expect(200);
    assert_eq!(
        (
            &page[0]["real"],
            &page[0]["ordered"],
            &page[0]["held"],
            &page[0]["available"]
        ),
        (&json!("3"), &json!("0"), &json!("0"), &json!("3"))
    );
    // The units are anyone's again, in the sale still open.
    let his = put_cart(&app, b, hugo, &[(chicken, "3")]).await.expect(200);
    assert_eq!(held(&his, chicken).as_deref(), Some("3"));
    // And the closed sale takes nothing any more.
    put_cart(&app, a, lea, &[(chicken, "1")])
        .await
        .expect_problem(409, "sale_closed");
}
