//! The web application in a real browser: a new producer signs up with
//! the keyboard (a mistake first, shown next to its field), lands in its
//! space, finds the home page and a catalog's share page, signs out; a
//! stranger's space answers 404. Screenshots of every page, phone and
//! laptop.

use crate::driver::{Driver, PHONE};
use crate::fixtures::{offer, open_sale};
use crate::helpers::spawn_app;

#[actix_web::test]
async fn a_new_producer_signs_up_in_the_browser_and_finds_its_space() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Pommes de terre", "2.50", Some(40))]).await;
    let base = app.address.clone();
    let mut driver = Driver::start().await;
    let page = driver.browser(PHONE).await;

    page.goto(&base).await;
    assert!(page
        .text("main")
        .await
        .is_some_and(|t| t.contains("Marché de la Croix-Rousse")));
    page.shots("accueil").await;

    page.goto(&format!("{base}/catalog/{}", sale.producer.code))
        .await;
    assert!(page
        .text(".catalog-share .lead")
        .await
        .is_some_and(|t| t.contains("Ferme des Tilleuls")));
    page.shots("catalogue-partage").await;

    page.goto(&format!("{base}/inscription")).await;
    page.fill_and_submit(&[
        ("name", "Paul Martin"),
        ("email", "paul@exemple"),
        ("password", "un mot de passe"),
        ("producer_name", "Ferme du Grand Champ"),
    ])
    .await;
    assert_eq!(
        page.text("#erreur-email").await.as_deref(),
        Some("Indiquez une adresse e-mail valide, comme nom@exemple.fr.")
    );
    let kept = page
        .eval(
            "return document.querySelector('[name=producer_name]').value;",
            vec![],
        )
        .await;
    assert_eq!(kept, "Ferme du Grand Champ", "the rest of the form is kept");
    page.shots("inscription-erreur").await;
    page.fill_and_submit(&[
        ("email", "paul@grand-champ.example"),
        ("password", "un mot de passe"),
    ])
    .await;
    let space = page.path().await;
    assert!(space.starts_with("/espace-producteur/"), "{space}");
    assert_eq!(
        page.text(".space-nav a[aria-current='page']")
            .await
            .as_deref(),
        Some("Tableau de bord")
    );
    assert!(page
        .text(".flash")
        .await
        .is_some_and(|t| t.contains("Bienvenue")));
    page.shots("tableau-de-bord").await;

    // Another producer's space is a page that does not exist.
    page.goto(&format!(
        "{base}/espace-producteur/{}",
        sale.producer.producer_id
    ))
    .await;
    assert_eq!(page.text("h1").await.as_deref(), Some("Page introuvable"));
    page.shots("page-introuvable").await;

    // Signing out from the header, then the space asks to sign in again.
    page.goto(&format!("{base}{space}")).await;
    page.click(".sign-out button").await;
    page.wait_path("home after sign-out", |p| p == "/").await;
    page.goto(&format!("{base}{space}")).await;
    assert!(page.path().await.starts_with("/connexion?suite="));
    page.shots("connexion").await;
    let landed = page
        .sign_in_page(&base, "paul@grand-champ.example", "un mot de passe")
        .await;
    assert_eq!(landed, space, "one producer space: straight to it");
    page.close().await;
}
