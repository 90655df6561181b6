//! Paramètres and the page vitrine through HTTP: a profile with a logo and
//! a portrait makes the public page (products, markets on the map, next
//! distributions with their shop); legal information is read-only to the
//! producer and changed by a platform admin only.

use image::ImageFormat;

use super::products::photo;
use crate::fixtures::{offer, open_sale};
use crate::helpers::spawn_app;
use crate::web_client::WebClient;

#[actix_web::test]
async fn the_profile_makes_the_page_vitrine() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poireaux", "2.00", Some(10))]).await;
    let browser = WebClient::new(&app);
    browser.sign_in(&sale.producer.owner).await;
    let settings = format!(
        "/espace-producteur/{}/parametres",
        sale.producer.producer_id
    );
    let logo = photo(300, 300, ImageFormat::Png);
    let portrait = photo(1600, 1000, ImageFormat::Jpeg);
    let refused = browser
        .post_multipart(
            &settings,
            &[
                ("name", "Ferme des Tilleuls"),
                ("short_description", &"x".repeat(301)),
            ],
            &[("logo", "logo.png", "image/png", &logo)],
            false,
        )
        .await
        .expect(422);
    assert_eq!(
        refused.field_error("short_description").as_deref(),
        Some("300 caractères au plus.")
    );
    browser
        .post_multipart(
            &settings,
            &[
                ("name", "Ferme des Tilleuls"),
                (
                    "short_description",
                    "Légumes de saison en agriculture biologique, à Caluire.",
                ),
                (
                    "description",
                    "Nous cultivons trois hectares.\nVente directe uniquement.",
                ),
            ],
            &[
                ("logo", "logo.png", "image/png", &logo),
                ("portrait", "nous.jpg", "image/jpeg", &portrait),
            ],
            false,
        )
        .await
        .expect(303);
    let page = browser.get(&settings).await.expect(200);
    assert!(page.shows("Profil enregistré") && page.shows("non renseigné"));

    let vitrine = WebClient::new(&app)
        .get(&format!("/vitrine/{}", sale.producer.producer_id))
        .await
        .expect(200);
    for text in [
        "Ferme des Tilleuls",
        "Légumes de saison en agriculture biologique, à Caluire.",
        "Vente directe uniquement.",
        "Poireaux",
        "2,00\u{202f}€",
        "Marché de la Croix-Rousse",
        "Commandes ouvertes jusqu'au",
    ] {
        assert!(vitrine.shows(text), "{text} on the page vitrine");
    }
    assert!(vitrine.shows(&format!("href=\"/shop/{}\"", sale.distribution_id)));
    assert!(vitrine.body.contains("<svg class=\"map\""));
    assert_eq!(
        vitrine.body.matches("<circle").count(),
        1,
        "one market, one marker"
    );
    assert!(vitrine
        .body
        .contains("/vignette\" alt=\"Logo de Ferme des Tilleuls\""));
    WebClient::new(&app)
        .get(&format!("/vitrine/{}", uuid::Uuid::new_v4()))
        .await
        .expect(404);
}

#[actix_web::test]
async fn legal_information_is_changed_by_a_platform_admin_only() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poireaux", "2.00", None)]).await;
    let producer = sale.producer.producer_id;
    let legal = format!("/plateforme/producteurs/{producer}/infos-legales");
    let fields = [
        ("legal_name", "EARL des Tilleuls"),
        ("siret", "120 027 016 00019"),
        ("legal_address", "12 chemin des Tilleuls, 69300 Caluire"),
        ("vat_number", "FR40303265045"),
    ];
    // The producer itself cannot: the page does not exist for it.
    let owner = WebClient::new(&app);
    owner.sign_in(&sale.producer.owner).await;
    owner.get(&legal).await.expect(404);
    owner.post(&legal, &fields).await.expect(404);

    let admin = app.user("Administratrice").await;
    sqlx::query("INSERT INTO platform_admins (account_id) VALUES ($1)")
        .bind(admin.id)
        .execute(&app.db)
        .await
        .expect("grant");
    let browser = WebClient::new(&app);
    browser.sign_in(&admin).await;
    assert!(browser
        .get("/plateforme")
        .await
        .expect(200)
        .shows("Ferme des Tilleuls"));
    let refused = browser
        .post(
            &legal,
            &[
                ("legal_name", "EARL"),
                ("siret", "12002701600018"),
                ("vat_number", "FR41303265045"),
            ],
        )
        .await
        .expect(422);
    assert!(refused
        .field_error("siret")
        .is_some_and(|e| e.contains("14 chiffres")));
    assert!(refused.field_error("vat_number").is_some());
    browser.post(&legal, &fields).await.expect(303);

    let page = owner
        .get(&format!("/espace-producteur/{producer}/parametres"))
        .await
        .expect(200);
    for text in [
        "EARL des Tilleuls",
        "12002701600019",
        "12 chemin des Tilleuls",
        "FR40303265045",
    ] {
        assert!(page.shows(text), "{text}");
    }
    assert!(
        !page.body.contains("name=\"siret\""),
        "read-only to the producer"
    );
}
