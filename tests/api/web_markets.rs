//! The market pages through HTTP, as a browser uses them: the directory
//! searched by town, postal code and day; a market's public page; writing
//! to its admins and offering a catalog, linked in one click from the
//! message; the admin's pages (creating a market, planning a weekly
//! series, validating a distribution with its payout dates, its admins);
//! and their refusals (another market's pages answer 404, forged forms
//! 403, bad fields 422 with nothing changed).

mod admin;
mod messages;

use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{market, market_of, MarketSetup};
use crate::helpers::{count, spawn_app, TestApp};
use crate::web_client::WebClient;

/// A market (its admin a new account) at a place, on a usual weekday.
pub async fn market_at(app: &TestApp, name: &str, lat: f64, lng: f64, day: i64) -> MarketSetup {
    market_of(
        app,
        &json!({"name": name, "place": {"address": format!("Place, {name}"), "lat": lat, "lng": lng},
                "online_payment": true, "usual_weekday": day}),
    )
    .await
}

/// The order of the market names on a directory page.
fn listed(body: &str, names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|n| body.find(&format!(">{n}</a></h3>")).unwrap_or(usize::MAX))
        .collect()
}

#[actix_web::test]
async fn the_directory_finds_the_nearest_markets_from_a_town_or_a_postal_code() {
    let app = spawn_app().await;
    // Lyon Croix-Rousse on Thursdays, Paris 5e on Saturdays.
    market_at(&app, "Marché de Lyon", 45.7745, 4.8320, 4).await;
    market_at(&app, "Marché de Paris", 48.8448, 2.3471, 6).await;
    let browser = WebClient::new(&app);

    let near_lyon = browser.get("/?lieu=villeurbanne").await.expect(200);
    assert!(near_lyon.shows("Marchés les plus proches de 69100 Villeurbanne"));
    let at = listed(&near_lyon.body, &["Marché de Lyon", "Marché de Paris"]);
    assert!(at[0] < at[1] && at[1] < usize::MAX, "{at:?}");
    assert!(
        near_lyon.shows("class=\"distance\">à 3,8 km"),
        "distance shown"
    );

    let near_paris = browser.get("/?lieu=75005").await.expect(200);
    let at = listed(&near_paris.body, &["Marché de Lyon", "Marché de Paris"]);
    assert!(at[1] < at[0], "{at:?}");
    assert!(near_paris.shows("Paris 5e Arrondissement"));

    // Thursday only: Paris (Saturdays) is not listed.
    let thursday = browser.get("/?lieu=75005&jour=4").await.expect(200);
    let at = listed(&thursday.body, &["Marché de Lyon", "Marché de Paris"]);
    assert!(at[0] < usize::MAX && at[1] == usize::MAX, "{at:?}");
    // Within 50 km of Villeurbanne: Lyon only.
    let near = browser.get("/?lieu=69100&rayon=50").await.expect(200);
    let at = listed(&near.body, &["Marché de Lyon", "Marché de Paris"]);
    assert!(at[0] < usize::MAX && at[1] == usize::MAX, "{at:?}");

    // Without a place: every market; an unknown place is said next to the field.
    let all = browser.get("/").await.expect(200);
    assert!(all.shows("Marché de Lyon") && all.shows("Marché de Paris"));
    let unknown = browser.get("/?lieu=Zzyzx").await.expect(200);
    assert!(unknown
        .field_error("lieu")
        .is_some_and(|e| e.contains("Aucune commune")));
    assert!(!unknown.shows("Marché de Lyon</a>"));
}

#[actix_web::test]
async fn a_market_page_shows_its_admins_customers_producers_and_next_distributions() {
    let app = spawn_app().await;
    let sale =
        crate::fixtures::open_sale(&app, &[crate::fixtures::offer("Œufs", "3.00", None)]).await;
    let customer = app.user("Léa").await;
    crate::fixtures::order(
        &app,
        sale.distribution_id,
        &customer,
        &[(sale.producer.offers[0], "1")],
    )
    .await
    .expect(201);
    let browser = WebClient::new(&app);
    let page = browser
        .get(&format!("/marche/{}", sale.market.market_id))
        .await
        .expect(200);
    assert!(page.shows("Marché de la Croix-Rousse"));
    assert!(page.shows("Administré par Marché de la Croix-Rousse admin"));
    assert!(page.shows("<strong>1</strong> client"));
    assert!(page.shows("Ferme des Tilleuls"));
    assert!(page.shows(&format!("/shop/{}", sale.distribution_id)));
    assert!(page.shows("Connectez-vous pour écrire aux administrateurs"));

    // Unknown and malformed ids: the same 404 page.
    browser
        .get(&format!("/marche/{}", Uuid::new_v4()))
        .await
        .expect(404);
    browser.get("/marche/pas-un-id").await.expect(404);
}

#[actix_web::test]
async fn another_markets_admin_pages_answer_404() {
    let app = spawn_app().await;
    let mine = market(&app, "Mon marché").await;
    let theirs = market(&app, "Leur marché").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&mine.admin).await;
    browser
        .get(&format!("/mes-marches/{}", mine.market_id))
        .await
        .expect(200);
    for page in ["", "/catalogues", "/messages", "/administrateurs"] {
        browser
            .get(&format!("/mes-marches/{}{page}", theirs.market_id))
            .await
            .expect(404);
    }
    // Posting to another market's pages changes nothing either.
    browser
        .post(
            &format!("/mes-marches/{}/administrateurs", theirs.market_id),
            &[("email", mine.admin.email.as_str())],
        )
        .await
        .expect(404);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM market_admins WHERE market_id = $1",
            theirs.market_id
        )
        .await,
        1
    );
}
