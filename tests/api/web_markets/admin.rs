//! A market admin's pages: creating a market, planning a weekly series,
//! validating a distribution (payout dates appear), and the admins.

use chrono::{Datelike, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Paris;
use etal::engine::clock::Clock;
use sqlx::Row;

use crate::fixtures::{offer, open_sale, order};
use crate::helpers::count;
use crate::helpers::{fresh_database, spawn_app, spawn_app_with, test_settings};
use crate::web_client::WebClient;

#[actix_web::test]
async fn a_market_is_created_from_its_town_and_payment_mode_and_bad_fields_change_nothing() {
    let app = spawn_app().await;
    let founder = app.user("Claire").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&founder).await;
    let refused = browser
        .post(
            "/mes-marches",
            &[
                ("name", ""),
                ("address", "Place Colbert"),
                ("lieu", "Zzyzx"),
                ("jour", "4"),
                ("paiement", ""),
            ],
        )
        .await
        .expect(422);
    for field in ["name", "lieu", "paiement"] {
        assert!(refused.field_error(field).is_some(), "{field}");
    }
    assert_eq!(
        refused.field_value("address").as_deref(),
        Some("Place Colbert")
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM market_admins WHERE account_id = $1",
            founder.id
        )
        .await,
        0
    );

    let created = browser
        .post(
            "/mes-marches",
            &[
                ("name", "Marché de la Croix-Rousse"),
                ("address", "Place Colbert"),
                ("lieu", "69004"),
                ("jour", "4"),
                ("paiement", "en_ligne"),
            ],
        )
        .await
        .expect(303);
    let page = browser.get(&created.location()).await.expect(200);
    assert!(page.shows("Votre marché est créé"));
    let row = sqlx::query("SELECT m.address, m.lat, m.usual_weekday, m.online_payment FROM markets m JOIN market_admins a ON a.market_id = m.id WHERE a.account_id = $1")
        .bind(founder.id)
        .fetch_one(&app.db)
        .await
        .expect("the market");
    assert_eq!(
        row.get::<String, _>(0),
        "Place Colbert, 69004 Lyon 4e Arrondissement"
    );
    assert!((row.get::<f64, _>(1) - 45.76).abs() < 0.1);
    assert_eq!(row.get::<Option<i16>, _>(2), Some(4));
    assert!(row.get::<bool, _>(3));
    // The menu now offers "Mes marchés".
    assert!(browser
        .get("/mes-marches")
        .await
        .expect(200)
        .shows("Marché de la Croix-Rousse"));
}

#[actix_web::test]
async fn a_weekly_series_keeps_its_local_times_across_the_clock_change() {
    // 1 March 2027: the series crosses the spring change (28 March).
    let now = Utc
        .with_ymd_and_hms(2027, 3, 1, 9, 0, 0)
        .single()
        .expect("date");
    let app = spawn_app_with(test_settings(&fresh_database().await), now).await;
    let place = crate::fixtures::market(&app, "Marché du jeudi").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&place.admin).await;
    let base = format!("/mes-marches/{}", place.market_id);
    let form = [
        ("date", "2027-03-18"),
        ("debut", "17:00"),
        ("fin", "19:30"),
        ("ouverture_date", "2027-03-11"),
        ("ouverture_heure", "08:00"),
        ("cloture_date", "2027-03-17"),
        ("cloture_heure", "20:00"),
        ("lieu", ""),
        ("semaines", "3"),
    ];
    let bad = browser
        .post(
            &base,
            &[
                ("date", "18/03"),
                ("debut", "17:00"),
                ("fin", "16:00"),
                ("semaines", "99"),
            ],
        )
        .await
        .expect(422);
    assert!(bad.field_error("date").is_some() && bad.field_error("semaines").is_some());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM distributions WHERE market_id = $1",
            place.market_id
        )
        .await,
        0
    );

    browser.post(&base, &form).await.expect(303);
    let starts: Vec<chrono::DateTime<Utc>> = sqlx::query_scalar(
        "SELECT starts_at FROM distributions WHERE market_id = $1 ORDER BY starts_at",
    )
    .bind(place.market_id)
    .fetch_all(&app.db)
    .await
    .expect("distributions");
    assert_eq!(starts.len(), 3);
    for (i, at) in starts.iter().enumerate() {
        let local = at.with_timezone(&Paris);
        assert_eq!((local.hour(), local.minute()), (17, 0), "week {i}");
        let first = starts[0].with_timezone(&Paris).date_naive();
        assert_eq!(
            (local.date_naive() - first).num_days(),
            7 * i as i64,
            "week {i}"
        );
        assert_eq!(local.weekday(), chrono::Weekday::Thu);
    }
    let page = browser.get(&base).await.expect(200);
    assert!(
        page.shows("jeudi 1er avril, 17 h – 19 h 30"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn validating_a_distribution_shows_each_producers_payout_dates() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.00", Some(10))]).await;
    let customer = app.user("Léa").await;
    order(
        &app,
        sale.distribution_id,
        &customer,
        &[(sale.producer.offers[0], "2")],
    )
    .await
    .expect(201);
    let browser = WebClient::new(&app);
    browser.sign_in(&sale.market.admin).await;
    let page = format!(
        "/mes-marches/{}/distributions/{}",
        sale.market.market_id, sale.distribution_id
    );
    let before = browser.get(&page).await.expect(200);
    assert!(before.shows("à venir"));
    assert!(!before.shows("Valider la distribution"));
    // Too early: refused with a message, nothing validated.
    browser
        .post(&format!("{page}/valider"), &[])
        .await
        .expect(303);
    assert!(browser
        .get(&page)
        .await
        .shows("se valide une fois terminée"));

    let ends: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT ends_at FROM distributions WHERE id = $1")
            .bind(sale.distribution_id)
            .fetch_one(&app.db)
            .await
            .expect("ends_at");
    app.clock.set(ends + Duration::hours(1));
    assert!(browser
        .get(&page)
        .await
        .expect(200)
        .shows("Valider la distribution"));
    browser
        .post(&format!("{page}/valider"), &[])
        .await
        .expect(303);
    let after = browser.get(&page).await.expect(200);
    assert!(after.shows("Distribution validée : 1 versement programmé."));
    assert!(after.shows("Ferme des Tilleuls"));
    assert!(after.shows("24,00"));
    let (available, paid): (chrono::NaiveDate, chrono::NaiveDate) =
        sqlx::query_as("SELECT available_on, paid_on FROM payouts WHERE distribution_id = $1")
            .bind(sale.distribution_id)
            .fetch_one(&app.db)
            .await
            .expect("payout");
    assert_eq!(paid.weekday(), chrono::Weekday::Mon);
    let noon = |d: chrono::NaiveDate| d.and_hms_opt(12, 0, 0).expect("noon").and_utc();
    let said = |d| etal::api::webapp::kit::fr::day(noon(d), chrono_tz::UTC, app.clock.now());
    assert!(after.shows(&said(available)), "{}", after.body);
    assert!(after.shows(&said(paid)));
}

#[actix_web::test]
async fn admins_are_added_by_email_and_the_last_one_stays() {
    let app = spawn_app().await;
    let place = crate::fixtures::market(&app, "Marché").await;
    let helper = app.user("Ines").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&place.admin).await;
    let base = format!("/mes-marches/{}/administrateurs", place.market_id);
    let unknown = browser
        .post(&base, &[("email", "personne@example.org")])
        .await
        .expect(422);
    assert!(unknown
        .field_error("email")
        .is_some_and(|e| e.contains("Aucun compte")));
    browser
        .post(&base, &[("email", helper.email.as_str())])
        .await
        .expect(303);
    assert!(browser
        .get(&base)
        .await
        .shows("Ines administre maintenant le marché."));
    let admins = "SELECT count(*) FROM market_admins WHERE market_id = $1";
    assert_eq!(count(&app, admins, place.market_id).await, 2);
    let again = browser
        .post(&base, &[("email", helper.email.as_str())])
        .await
        .expect(422);
    assert!(again
        .field_error("email")
        .is_some_and(|e| e.contains("administre déjà")));
    assert_eq!(count(&app, admins, place.market_id).await, 2, "added once");

    // The new admin removes the founder, then cannot remove themself.
    let other = WebClient::new(&app);
    other.sign_in(&helper).await;
    other
        .post(&format!("{base}/{}/retirer", place.admin.id), &[])
        .await
        .expect(303);
    assert_eq!(count(&app, admins, place.market_id).await, 1);
    other
        .post(&format!("{base}/{}/retirer", helper.id), &[])
        .await
        .expect(303);
    assert!(other
        .get(&base)
        .await
        .shows("garde au moins un administrateur"));
    assert_eq!(count(&app, admins, place.market_id).await, 1);
    // The founder's pages of this market are gone (404).
    browser.get(&base).await.expect(404);
}
