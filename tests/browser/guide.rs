//! The producer's guide walked chapter by chapter in real browsers, as a
//! new producer (with a market admin and a customer beside): sign up;
//! VAT rates, a product with two offers and a photo, a product priced by
//! weight; the profile and the page vitrine; a catalog; the directory searched by postal code, the market's
//! page, "Envoyer un catalogue"; the admin links it in one click from the
//! message; "+ Participer"; the customer orders in the shop; the producer
//! sees it live on the board; after closing, the recap by member, the
//! sign-off sheet and "Pesée de produits en masse"; the admin validates
//! and the payout dates appear (admin's and producer's pages); the
//! customer sees the weighed total. Screenshots of every page, phone and
//! laptop (`guide-…`).

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use crate::driver::{Browser, Driver, LAPTOP, PHONE};
use crate::helpers::{parse_id, spawn_app, TestApp};
use crate::producer::photo_file;
use crate::sales::follow_real_time;

const WAIT: Duration = Duration::from_secs(15);

/// Waits until the page's text contains `text`.
async fn wait_text(page: &Browser, what: &str, text: &str) {
    page.wait_for(
        what,
        WAIT,
        "return document.readyState === 'complete' && document.body.innerText.includes(arguments[0]);",
        vec![json!(text)],
        |v| v == &json!(true),
    )
    .await;
}

/// Clicks and waits for the next page.
async fn click_through(page: &Browser, css: &str) {
    let before = page.eval("return performance.timeOrigin;", vec![]).await;
    page.click(css).await;
    page.wait_for(
        &format!("the page after clicking {css}"),
        WAIT,
        "return document.readyState === 'complete' ? performance.timeOrigin : null;",
        vec![],
        |v| !v.is_null() && *v != before,
    )
    .await;
}

async fn id_of(app: &TestApp, sql: &str, key: &str) -> Uuid {
    sqlx::query_scalar(sql)
        .bind(key)
        .fetch_one(&app.db)
        .await
        .expect("an id")
}

#[actix_web::test]
async fn a_new_producer_walks_the_guide_from_sign_up_to_payout() {
    let app = spawn_app().await;
    let realtime = follow_real_time(&app);
    let base = app.address.clone();
    let files = std::env::temp_dir().join(format!("etal-guide-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&files).expect("files");
    let photo = photo_file(&files);

    // The market the producer will find: Claire's, with next week's day.
    let claire = app.user("Claire Dubois").await;
    let market = app
        .post(
            "/api/v1/markets",
            &json!({"name": "Marché de la Croix-Rousse", "place": {"address": "Boulevard de la Croix-Rousse, 69004 Lyon", "lat": 45.7745, "lng": 4.8320},
                    "online_payment": true, "usual_weekday": 4, "fee_rate": "2"}),
            Some(&claire.token),
        )
        .await
        .expect(201);
    let market_id = parse_id(&market["id"]);
    let now = Utc::now();
    let (opens, closes) = (
        now - chrono::Duration::minutes(5),
        now + chrono::Duration::days(1),
    );
    let starts = closes + chrono::Duration::hours(20);
    let distribution = app
        .post(
            &format!("/api/v1/markets/{market_id}/distributions"),
            &json!({"starts_at": starts, "ends_at": starts + chrono::Duration::hours(2),
                    "orders_open_at": opens, "orders_close_at": closes}),
            Some(&claire.token),
        )
        .await
        .expect(201);
    let distribution_id = parse_id(&distribution["id"]);

    let mut driver = Driver::start().await;
    let page = driver.browser(LAPTOP).await;

    // 1. Votre 1ère connexion.
    let space = page.sign_up_grand_champ(&base).await;
    assert!(space.starts_with("/espace-producteur/"), "{space}");
    let producer_id: Uuid = space
        .trim_start_matches("/espace-producteur/")
        .parse()
        .expect("producer id");
    page.shots("guide-1-tableau-de-bord").await;

    // 2. Créez vos produits: VAT, potatoes with a photo and two offers, a chicken by weight.
    page.goto(&format!("{base}{space}/produits/tva")).await;
    page.fill_and_submit(&[("name", "Taux réduit"), ("rate", "5,5")])
        .await;
    wait_text(&page, "VAT rate added", "Taux de TVA ajouté").await;
    page.goto(&format!("{base}{space}/produits/nouveau")).await;
    page.type_into("[name='name']", "Pommes de terre").await;
    page.type_into("[name='category']", "Légumes").await;
    page.type_into("[name='unit']", "kg").await;
    page.choose_file("#champ-photo", &photo).await;
    click_through(&page, "form[enctype] button[type=submit]").await;
    wait_text(&page, "product saved", "Produit enregistré").await;
    page.add_potato_offers().await;
    page.shots("guide-2-produit-deux-offres").await;
    page.goto(&format!("{base}{space}/produits/nouveau")).await;
    page.type_into("[name='name']", "Poulet fermier").await;
    page.type_into("[name='category']", "Volailles").await;
    page.type_into("[name='unit']", "kg").await;
    page.click("#champ-variable_price").await;
    click_through(&page, "form[enctype] button[type=submit]").await;
    page.fill_and_submit(&[
        ("label", "Poulet entier"),
        ("quantity", "1"),
        ("unit", "kg"),
        ("price", "12"),
    ])
    .await;
    page.goto(&format!("{base}{space}/produits")).await;
    page.shots("guide-2-produits").await;

    // 3. Paramétrez votre profil: logo, short presentation, page vitrine.
    page.goto(&format!("{base}{space}/parametres")).await;
    page.type_into(
        "[name='short_description']",
        "Légumes de plein champ et poulets fermiers, à Caluire.",
    )
    .await;
    page.choose_file("#champ-logo", &photo).await;
    click_through(&page, "form[enctype] button[type=submit]").await;
    wait_text(&page, "profile saved", "Profil enregistré").await;
    page.shots("guide-3-parametres").await;
    click_through(&page, "a[href^='/vitrine/']").await;
    wait_text(
        &page,
        "the page vitrine",
        "Légumes de plein champ et poulets fermiers",
    )
    .await;
    page.shots("guide-3-vitrine").await;

    // 5, étape 1: a catalog with every offer.
    page.goto(&format!("{base}{space}/catalogues/nouveau"))
        .await;
    page.type_into("[name='name']", "Catalogue de la Croix-Rousse")
        .await;
    page.eval("document.querySelectorAll('input[name=offer]').forEach(c => c.checked = true); return true;", vec![])
        .await;
    click_through(&page, "form[action$='/nouveau'] button[type=submit]").await;
    let code = page
        .text(".catalog-code")
        .await
        .expect("the catalog's code");
    let catalog_id = id_of(&app, "SELECT id FROM catalogs WHERE code = $1", &code).await;
    page.shots("guide-5-catalogue").await;

    // 4. Trouvez votre premier Marché: the directory by postal code.
    page.goto(&format!("{base}/")).await;
    page.fill_and_submit(&[("lieu", "69004")]).await;
    wait_text(
        &page,
        "markets near 69004",
        "Marchés les plus proches de 69004",
    )
    .await;
    page.shots("guide-4-annuaire").await;
    click_through(
        &page,
        &format!("li.market[data-market-id='{market_id}'] h3 a"),
    )
    .await;
    wait_text(&page, "the market's page", "Administré par Claire Dubois").await;
    page.shots("guide-4-fiche-marche").await;

    // 4, étape 2 + 5, étape 2: "Envoyer un catalogue".
    page.type_into(
        "#champ-catalog_id ~ * [name='body'], form[action$='/catalogue'] [name='body']",
        "Bonjour Claire, voici mes légumes et mes poulets.",
    )
    .await;
    click_through(&page, "form[action$='/catalogue'] button[type=submit]").await;
    wait_text(
        &page,
        "catalog sent",
        "Catalogue « Catalogue de la Croix-Rousse » envoyé",
    )
    .await;
    page.shots("guide-5-catalogue-envoye").await;

    // The admin links it in one click from the message.
    let admin = driver.browser(LAPTOP).await;
    admin
        .sign_in_page(&base, &claire.email, &claire.password)
        .await;
    admin
        .goto(&format!("{base}/mes-marches/{market_id}/messages"))
        .await;
    admin.shots("guide-admin-messages").await;
    click_through(&admin, "a.card-link").await;
    admin.shots("guide-admin-conversation").await;
    click_through(&admin, ".offered form button").await;
    wait_text(&admin, "catalog linked", "relié au marché").await;
    admin
        .goto(&format!("{base}/mes-marches/{market_id}/catalogues"))
        .await;
    admin.shots("guide-admin-catalogues").await;
    admin.goto(&format!("{base}/mes-marches/{market_id}")).await;
    admin.shots("guide-admin-distributions").await;
    admin
        .goto(&format!("{base}/mes-marches/{market_id}/administrateurs"))
        .await;
    admin.shots("guide-admin-administrateurs").await;

    // 6. Lancez vos ventes: "+ Participer".
    page.goto(&format!("{base}{space}")).await;
    wait_text(
        &page,
        "the market on the dashboard",
        "Marché de la Croix-Rousse",
    )
    .await;
    page.goto(&format!("{base}{space}/planifier")).await;
    page.click(&format!(
        "input[name=p][value='{distribution_id}:{catalog_id}']"
    ))
    .await;
    click_through(&page, "#participer p.actions button.primary").await;
    wait_text(&page, "joined", "Participation enregistrée").await;
    page.shots("guide-6-planifier").await;
    // The page vitrine now shows the market and the next distribution.
    page.goto(&format!("{base}/vitrine/{producer_id}")).await;
    wait_text(
        &page,
        "the market on the page vitrine",
        "Marché de la Croix-Rousse",
    )
    .await;
    page.shots("guide-6-vitrine-agenda").await;

    // A customer orders in the shop; the producer's board shows it live.
    let lea = app.user("Léa Fontaine").await;
    let bag = id_of(
        &app,
        "SELECT o.id FROM offers o JOIN products p ON p.id = o.product_id WHERE o.label = $1",
        "Sac",
    )
    .await;
    let chicken = id_of(
        &app,
        "SELECT o.id FROM offers o JOIN products p ON p.id = o.product_id WHERE o.label = $1",
        "Poulet entier",
    )
    .await;
    let session = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "paul@grand-champ.example", "password": "un mot de passe"}),
            None,
        )
        .await
        .expect(201);
    let paul_token = session["token"].as_str().expect("token").to_owned();
    let paul_id = parse_id(&session["account_id"]);
    let board = driver.browser(LAPTOP).await;
    let board_url = format!("{base}/board/{producer_id}");
    board.goto(&board_url).await;
    board.sign_in_as(&paul_token, paul_id, "Paul Martin").await;
    board.goto(&board_url).await;
    board.wait_ready().await;
    let shop = driver.browser(LAPTOP).await;
    let shop_url = format!("{base}/shop/{distribution_id}");
    shop.goto(&shop_url).await;
    shop.sign_in_as(&lea.token, lea.id, &lea.name).await;
    shop.goto(&shop_url).await;
    shop.wait_ready().await;
    shop.click(&format!("li.offer[data-offer-id='{bag}'] button.add"))
        .await;
    shop.click(&format!("li.offer[data-offer-id='{chicken}'] button.add"))
        .await;
    shop.click("#commander").await;
    wait_text(&shop, "order confirmed", "Votre commande n° 1").await;
    shop.shots("guide-6-boutique-commande").await;
    board
        .wait_for(
            "the order on the board",
            WAIT,
            "return !!document.querySelector('li.order[data-number=\"1\"]');",
            vec![],
            |v| v == &json!(true),
        )
        .await;
    board.shots("guide-7-tableau-en-direct").await;

    // 7. Gérez vos ventes: after closing, recap by member, sign-off sheet, weighing.
    drop(realtime);
    app.clock.set(closes + chrono::Duration::minutes(5));
    page.goto(&format!("{base}{space}/commandes")).await;
    page.shots("guide-7-commandes").await;
    click_through(&page, "form[action$='/recap'] button[value=membres]").await;
    wait_text(&page, "recap by member", "N° 1 — Léa Fontaine").await;
    page.shots("guide-7-recap-membres").await;
    click_through(&page, "a[href*='/imprimer']").await;
    wait_text(&page, "sign-off sheet", "Signature").await;
    page.shots("guide-7-liste-emargement").await;
    page.goto(&format!(
        "{base}{space}/commandes/pesee?d={distribution_id}"
    ))
    .await;
    page.type_into("input[name=poids]", "1,85").await;
    click_through(&page, "form[action*='/pesee'] button.primary").await;
    wait_text(&page, "weighed", "1 pesée enregistrée").await;
    page.shots("guide-7-pesee").await;

    // The admin validates once the day is over; the payout dates appear.
    app.clock.set(starts + chrono::Duration::hours(3));
    let day = format!("{base}/mes-marches/{market_id}/distributions/{distribution_id}");
    admin.goto(&day).await;
    click_through(&admin, "form[action$='/valider'] button").await;
    wait_text(
        &admin,
        "validated",
        "Distribution validée : 1 versement programmé.",
    )
    .await;
    let paid = admin.text("td.payout-paid").await.expect("the payout date");
    assert!(paid.starts_with("lundi"), "paid on a Monday: {paid}");
    admin.shots("guide-7-validation-versements").await;
    page.goto(&format!("{base}{space}/commandes")).await;
    wait_text(&page, "the producer's payouts", "Versements").await;
    assert_eq!(
        page.text("table.payouts td.payout-paid").await.as_deref(),
        Some(paid.as_str())
    );
    page.shots("guide-7-versements").await;

    // The customer sees the weighed total (20 + 1.85 × 12 = 42.20).
    let customer = driver.browser(PHONE).await;
    customer
        .sign_in_page(&base, &lea.email, &lea.password)
        .await;
    customer.goto(&format!("{base}/mes-commandes")).await;
    wait_text(&customer, "weighed total", "après pesée : 42,20").await;
    customer.shots("guide-client-mes-commandes").await;
    customer.goto(&format!("{base}/messages")).await;
    customer.shots("guide-client-messages").await;
    customer.goto(&format!("{base}/mon-compte")).await;
    customer.shots("guide-client-mon-compte").await;
    customer.goto(&format!("{base}/mon-compte/supprimer")).await;
    customer.shots("guide-client-supprimer-compte").await;

    for b in [page, admin, board, shop, customer] {
        b.close().await;
    }
    let _ = std::fs::remove_dir_all(&files);
}
