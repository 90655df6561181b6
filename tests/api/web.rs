//! The web application's foundation through HTTP, as a browser uses it:
//! sign-up, sign-in and sign-out with the session cookie, CSRF refusals
//! that change nothing, French field errors with the form kept, where each
//! role lands, another producer's space answering 404, and the public
//! pages (home, catalog share link).

mod catalogs;
mod dashboard;
mod products;
mod settings;
mod stock;
mod users;

use sqlx::Row;
use uuid::Uuid;

use crate::fixtures::{link, market, offer, open_sale, producer_with_catalog};
use crate::helpers::{parse_id, spawn_app, TestApp};
use crate::web_client::WebClient;

/// What `sql` (a `SELECT count(*)` with one `$1`) counts for `value`.
async fn count_with(app: &TestApp, sql: &str, value: &str) -> i64 {
    sqlx::query(sql)
        .bind(value)
        .fetch_one(&app.db)
        .await
        .expect("count")
        .get(0)
}

async fn accounts_with_email(app: &TestApp, email: &str) -> i64 {
    count_with(app, "SELECT count(*) FROM accounts WHERE email = $1", email).await
}

async fn producers_named(app: &TestApp, name: &str) -> i64 {
    count_with(app, "SELECT count(*) FROM producers WHERE name = $1", name).await
}

#[actix_web::test]
async fn sign_up_creates_the_account_and_its_producer_space_and_signs_in() {
    let app = spawn_app().await;
    let browser = WebClient::new(&app);
    browser.get("/inscription").await.expect(200);
    let answer = browser
        .post(
            "/inscription",
            &[
                ("name", "Paul Martin"),
                ("email", "Paul@Ferme.example"),
                ("password", "un mot de passe"),
                ("producer_name", "Ferme du Grand Champ"),
            ],
        )
        .await
        .expect(303);
    let session = answer.set_cookie("etal_session").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(
        answer.set_cookie("etal_csrf").is_some(),
        "the CSRF token is renewed at sign-in"
    );
    let space = answer.location();
    assert!(space.starts_with("/espace-producteur/"), "{space}");
    let page = browser.get(&space).await.expect(200);
    assert!(page.shows("Ferme du Grand Champ"));
    assert!(page.shows("Bienvenue ! Votre compte est créé."));
    for tab in [
        "Tableau de bord",
        "Produits",
        "Catalogues",
        "Commandes",
        "Paramètres",
        "Utilisateurs",
    ] {
        assert!(page.shows(&format!(">{tab}</a>")), "menu entry {tab}");
    }
    // The message is shown once.
    assert!(!browser.get(&space).await.shows("Bienvenue"));
    assert_eq!(accounts_with_email(&app, "paul@ferme.example").await, 1);
}

#[actix_web::test]
async fn a_wrong_field_is_shown_in_french_next_to_it_and_nothing_is_created() {
    let app = spawn_app().await;
    let browser = WebClient::new(&app);
    let page = browser
        .post(
            "/inscription",
            &[
                ("name", "Léa"),
                ("email", "pas-une-adresse"),
                ("password", "court"),
                ("producer_name", ""),
            ],
        )
        .await
        .expect(422);
    assert_eq!(
        page.field_error("email").as_deref(),
        Some("Indiquez une adresse e-mail valide, comme nom@exemple.fr.")
    );
    assert_eq!(
        page.field_error("password").as_deref(),
        Some("Le mot de passe doit faire au moins 8 caractères.")
    );
    assert_eq!(page.field_error("name"), None);
    assert_eq!(page.field_value("name").as_deref(), Some("Léa"), "kept");
    assert_eq!(
        page.field_value("email").as_deref(),
        Some("pas-une-adresse")
    );
    assert!(!page.body.contains("court"), "a password never comes back");
    assert!(page.shows("2 champs sont à corriger"));
    assert_eq!(accounts_with_email(&app, "pas-une-adresse").await, 0);

    // A taken address is named on its field.
    let user = app.user("Hugo").await;
    let page = browser
        .post(
            "/inscription",
            &[
                ("name", "Hugo"),
                ("email", &user.email),
                ("password", "un mot de passe"),
            ],
        )
        .await
        .expect(422);
    assert!(page
        .field_error("email")
        .is_some_and(|e| e.contains("Un compte existe déjà")));
}

#[actix_web::test]
async fn a_forged_post_is_refused_with_403_and_changes_nothing() {
    let app = spawn_app().await;
    let browser = WebClient::new(&app);
    let fields = [
        ("name", "Mallory"),
        ("email", "mallory@example.org"),
        ("password", "un mot de passe"),
    ];
    // No token at all, not even a cookie.
    let page = browser
        .post_raw("/inscription", &fields, &[])
        .await
        .expect(403);
    assert!(page.shows("Formulaire refusé"));
    // A cookie but another token in the form.
    browser.get("/inscription").await.expect(200);
    let mut forged = fields.to_vec();
    forged.push(("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    browser
        .post_raw("/inscription", &forged, &[])
        .await
        .expect(403);
    // The right token, posted from another site.
    let token = browser.cookie("etal_csrf").expect("token");
    let mut from_elsewhere = fields.to_vec();
    from_elsewhere.push(("csrf", &token));
    browser
        .post_raw(
            "/inscription",
            &from_elsewhere,
            &[("origin", "https://evil.example")],
        )
        .await
        .expect(403);
    assert_eq!(accounts_with_email(&app, "mallory@example.org").await, 0);

    // Signed in: creating a producer space without the token changes nothing.
    let user = app.user("Camille").await;
    browser.sign_in(&user).await;
    browser
        .post_raw("/espace-producteur", &[("name", "Ferme forgée")], &[])
        .await
        .expect(403);
    assert_eq!(producers_named(&app, "Ferme forgée").await, 0);
    // The same form with the token works.
    browser
        .post("/espace-producteur", &[("name", "Ferme forgée")])
        .await
        .expect(303);
    assert_eq!(producers_named(&app, "Ferme forgée").await, 1);
}

#[actix_web::test]
async fn each_role_lands_on_its_own_page_after_signing_in() {
    let app = spawn_app().await;
    let one = producer_with_catalog(&app, "Ferme des Lilas", &[offer("Œufs", "3.20", None)]).await;
    let browser = WebClient::new(&app);
    let space = format!("/espace-producteur/{}", one.producer_id);
    assert_eq!(browser.sign_in(&one.owner).await, "/espace-producteur");
    assert_eq!(
        browser
            .get("/espace-producteur")
            .await
            .expect(303)
            .location(),
        space
    );

    // Two producers under one account: a chooser.
    app.producer(&one.owner, "Les Ruchers du Lilas").await;
    let chooser = browser.get("/espace-producteur").await.expect(200);
    assert!(chooser.shows("Ferme des Lilas") && chooser.shows("Les Ruchers du Lilas"));

    let admin = market(&app, "Marché des Pentes").await.admin;
    let browser = WebClient::new(&app);
    assert_eq!(browser.sign_in(&admin).await, "/mes-marches");
    assert!(browser
        .get("/mes-marches")
        .await
        .expect(200)
        .shows("Marché des Pentes"));

    let customer = app.user("Léa").await;
    let browser = WebClient::new(&app);
    assert_eq!(browser.sign_in(&customer).await, "/mes-commandes");
    browser.get("/mes-commandes").await.expect(200);

    // Back where the visitor was going; never to another site.
    let browser = WebClient::new(&app);
    let to_sign_in = browser.get(&space).await.expect(303).location();
    assert_eq!(
        to_sign_in,
        format!(
            "/connexion?suite=%2Fespace-producteur%2F{}",
            one.producer_id
        )
    );
    let login = [
        ("email", one.owner.email.as_str()),
        ("password", one.owner.password.as_str()),
        ("suite", space.as_str()),
    ];
    assert_eq!(
        browser
            .post("/connexion", &login)
            .await
            .expect(303)
            .location(),
        space
    );
    let browser = WebClient::new(&app);
    let login = [
        ("email", one.owner.email.as_str()),
        ("password", one.owner.password.as_str()),
        ("suite", "//evil.example/"),
    ];
    assert_eq!(
        browser
            .post("/connexion", &login)
            .await
            .expect(303)
            .location(),
        "/espace-producteur"
    );
}

#[actix_web::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_refusal() {
    let app = spawn_app().await;
    let user = app.user("Nicolas").await;
    let browser = WebClient::new(&app);
    let wrong = browser
        .post(
            "/connexion",
            &[("email", &user.email), ("password", "pas le bon")],
        )
        .await
        .expect(422);
    let unknown = browser
        .post(
            "/connexion",
            &[
                ("email", "personne@example.org"),
                ("password", "pas le bon"),
            ],
        )
        .await
        .expect(422);
    for page in [&wrong, &unknown] {
        assert!(page.shows("Adresse e-mail ou mot de passe incorrect."));
        assert!(page.set_cookie("etal_session").is_none());
    }
    assert_eq!(
        wrong.field_value("email").as_deref(),
        Some(user.email.as_str())
    );
}

#[actix_web::test]
async fn another_producers_space_answers_like_a_page_that_does_not_exist() {
    let app = spawn_app().await;
    let farm = producer_with_catalog(&app, "Ferme des Lilas", &[offer("Œufs", "3.20", None)]).await;
    let stranger = app.user("Intrus").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&stranger).await;
    let theirs = browser
        .get(&format!("/espace-producteur/{}", farm.producer_id))
        .await
        .expect(404);
    let nowhere = browser
        .get(&format!("/espace-producteur/{}", Uuid::new_v4()))
        .await
        .expect(404);
    assert_eq!(theirs.body, nowhere.body, "the answer reveals nothing");
    assert!(!theirs.shows("Ferme des Lilas"));
    browser
        .get("/espace-producteur/not-an-id")
        .await
        .expect(404);
    assert!(theirs
        .headers
        .get("content-type")
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.starts_with("text/html"))));
}

#[actix_web::test]
async fn signing_out_revokes_the_session() {
    let app = spawn_app().await;
    let user = app.user("Ines").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&user).await;
    let session = browser.cookie("etal_session").expect("signed in");
    browser.get("/mes-commandes").await.expect(200);
    let out = browser.post("/deconnexion", &[]).await.expect(303);
    assert!(out
        .set_cookie("etal_session")
        .is_some_and(|c| c.contains("Max-Age=0")));
    assert!(browser
        .get("/mes-commandes")
        .await
        .expect(303)
        .location()
        .starts_with("/connexion"));
    // The old cookie, replayed, is worth nothing.
    browser.set_cookie("etal_session", &session);
    browser.get("/mes-commandes").await.expect(303);
    let revoked: Option<chrono::DateTime<chrono::Utc>> = sqlx::query(
        "SELECT revoked_at FROM auth_tokens WHERE account_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user.id)
    .fetch_one(&app.db)
    .await
    .expect("token")
    .get(0);
    assert!(revoked.is_some());
}

#[actix_web::test]
async fn the_home_page_lists_markets_with_their_open_sales() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poireaux", "2.00", Some(5))]).await;
    let quiet = market(&app, "Marché sans vente").await;
    let page = WebClient::new(&app).get("/").await.expect(200);
    assert!(page.shows("Marché de la Croix-Rousse"));
    assert!(page.shows("Marché sans vente"));
    assert!(page.shows(&format!("href=\"/shop/{}\"", sale.distribution_id)));
    assert!(page.shows("Commandes ouvertes jusqu'au"));
    // The market selling now comes first.
    let selling = page.body.find("Marché de la Croix-Rousse").expect("listed");
    let idle = page.body.find("Marché sans vente").expect("listed");
    assert!(selling < idle);
    let csp = page
        .headers
        .get("content-security-policy")
        .expect("a policy");
    assert!(csp.to_str().is_ok_and(|v| v.contains("script-src 'self'")));
    let _ = quiet;
}

#[actix_web::test]
async fn the_catalog_share_link_opens_a_real_page() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Pommes de terre", "2.50", None)]).await;
    let other = market(&app, "Marché des Pentes").await;
    link(&app, &other, &sale.producer).await;
    let catalog = app
        .get(
            &format!("/api/v1/catalogs/{}", sale.producer.catalog_id),
            Some(&sale.producer.owner.token),
        )
        .await
        .expect(200);
    let share = catalog["share_link"]
        .as_str()
        .expect("a share link")
        .to_owned();
    assert_eq!(share, format!("/catalog/{}", sale.producer.code));
    let page = WebClient::new(&app).get(&share).await.expect(200);
    assert!(page.shows("Ferme des Tilleuls"));
    assert!(page.shows("Pommes de terre"));
    assert!(page.shows("2,50\u{202f}€"));
    assert!(page.shows(&sale.producer.code));
    assert!(page.shows("Marché de la Croix-Rousse") && page.shows("Marché des Pentes"));
    assert!(page.shows(&format!("href=\"/shop/{}\"", sale.distribution_id)));
    WebClient::new(&app)
        .get("/catalog/000000")
        .await
        .expect(404);
    WebClient::new(&app)
        .get("/catalog/pas-un-code")
        .await
        .expect(404);
    let _ = parse_id;
}
