//! Distributions through HTTP: one, a weekly series across a DST change,
//! refusals that change nothing, editing and cancelling an upcoming one
//! (cancel refused once orders exist), the public listing and detail, and
//! who may plan a market's days.

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Europe::Paris;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{parse_id, spawn_app, TestApp};
use crate::participations::fixtures::{api_market, day, order, ts, world};

async fn distributions_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM distributions")
        .fetch_one(&app.db)
        .await
        .expect("count")
}

fn body(starts: i64, ends: i64, opens: i64, closes: i64) -> Value {
    // Hours from day 10 at 00:00 UTC.
    let at = |h: i64| ts(day(10, 0) + Duration::hours(h));
    json!({"starts_at": at(starts), "ends_at": at(ends),
           "orders_open_at": at(opens), "orders_close_at": at(closes)})
}

#[actix_web::test]
async fn one_distribution_is_planned_and_public() {
    let app = spawn_app().await;
    let admin = app.user("Admin").await;
    let market = api_market(&app, &admin, "Marché").await;
    let mut input = body(15, 17, -96, -4);
    input["place"] = json!("  Salle des fêtes ");
    let created = app
        .post(
            &format!("/api/v1/markets/{market}/distributions"),
            &input,
            Some(&admin.token),
        )
        .await
        .expect(201);
    assert_eq!(created["market_id"], market.to_string());
    assert_eq!(created["starts_at"], ts(day(10, 15)));
    assert_eq!(created["ends_at"], ts(day(10, 17)));
    assert_eq!(created["orders_open_at"], ts(day(6, 0)));
    assert_eq!(created["orders_close_at"], ts(day(9, 20)));
    assert_eq!(created["place"], "Salle des fêtes");
    assert!(created["series_id"].is_null());
    assert_eq!(created["status"], "upcoming");
    assert_eq!(created["sale_status"], "upcoming");
    let id = parse_id(&created["id"]);

    // Public listing and detail, no account needed.
    let list = app
        .get(&format!("/api/v1/markets/{market}/distributions"), None)
        .await
        .expect(200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], id.to_string());
    let detail = app
        .get(&format!("/api/v1/distributions/{id}"), None)
        .await
        .expect(200);
    assert_eq!(detail["market"]["name"], "Marché");
    assert_eq!(detail["participations"], json!([]));
    assert_eq!(detail["starts_at"], ts(day(10, 15)));
    // Period filters.
    let empty = app
        .get(
            &format!(
                "/api/v1/markets/{market}/distributions?to={}",
                ts(day(10, 0))
            ),
            None,
        )
        .await
        .expect(200);
    assert_eq!(empty, json!([]));
    app.get(
        &format!("/api/v1/markets/{market}/distributions?from=yesterday"),
        None,
    )
    .await
    .expect_problem(422, "invalid_field");
    app.get(
        &format!("/api/v1/markets/{}/distributions", Uuid::new_v4()),
        None,
    )
    .await
    .expect_problem(404, "not_found");
    app.get(&format!("/api/v1/distributions/{}", Uuid::new_v4()), None)
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn weekly_series_keeps_local_time_across_the_october_change() {
    let app = spawn_app().await;
    let admin = app.user("Admin").await;
    let market = api_market(&app, &admin, "Marché du jeudi").await;
    // The next autumn: 7 Thursdays before the last Sunday of October, 5 after.
    let today = Utc::now().date_naive();
    let year = if today.month() < 9 {
        today.year()
    } else {
        today.year() + 1
    };
    let oct31 = NaiveDate::from_ymd_opt(year, 10, 31).expect("date");
    let change = oct31 - Duration::days(i64::from(oct31.weekday().num_days_from_sunday()));
    let first = change - Duration::days(3) - Duration::weeks(6);
    assert_eq!(first.weekday(), Weekday::Thu);
    let local = |date: NaiveDate, h: u32| {
        Paris
            .from_local_datetime(&date.and_hms_opt(h, 0, 0).expect("time"))
            .single()
            .expect("unambiguous")
            .to_rfc3339()
    };
    let series = app
        .post(
            &format!("/api/v1/markets/{market}/distributions"),
            &json!({
                "starts_at": local(first, 17), "ends_at": local(first, 19),
                "orders_open_at": local(first - Duration::days(4), 8),
                "orders_close_at": local(first - Duration::days(2), 22),
                "repeat": {"weekly": 12},
            }),
            Some(&admin.token),
        )
        .await
        .expect(201);
    let series_id = parse_id(&series["series_id"]);
    let list = series["distributions"].as_array().expect("distributions");
    assert_eq!(list.len(), 12);
    let at = |v: &Value| {
        v.as_str()
            .and_then(|s| s.parse::<chrono::DateTime<Utc>>().ok())
            .expect("instant")
    };
    for (week, d) in list.iter().enumerate() {
        assert_eq!(d["series_id"], series_id.to_string());
        let starts = at(&d["starts_at"]).with_timezone(&Paris);
        assert_eq!(starts.date_naive(), first + Duration::weeks(week as i64));
        assert_eq!(
            (starts.weekday(), starts.hour()),
            (Weekday::Thu, 17),
            "week {week}"
        );
        assert_eq!(at(&d["ends_at"]).with_timezone(&Paris).hour(), 19);
        let opens = at(&d["orders_open_at"]).with_timezone(&Paris);
        assert_eq!((opens.weekday(), opens.hour()), (Weekday::Sun, 8));
        assert_eq!(at(&d["orders_close_at"]).with_timezone(&Paris).hour(), 22);
        // Summer time (UTC+2) until the change, winter time (UTC+1) after.
        let utc_hour = if week < 7 { 15 } else { 16 };
        assert_eq!(at(&d["starts_at"]).hour(), utc_hour, "week {week}");
    }
    // The 8th sale opens on the very morning of the change, at 08:00 winter time.
    assert_eq!(at(&list[7]["orders_open_at"]).date_naive(), change);
    assert_eq!(at(&list[7]["orders_open_at"]).hour(), 7);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM distributions WHERE series_id = $1")
        .bind(series_id)
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(stored, 12);
}

#[actix_web::test]
async fn invalid_distributions_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.user("Admin").await;
    let market = api_market(&app, &admin, "Marché").await;
    let path = format!("/api/v1/markets/{market}/distributions");
    let fields = |problem: &Value| -> Vec<String> {
        problem["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str().map(str::to_owned))
            .collect()
    };
    let cases = [
        // Orders close before they open.
        (body(15, 17, -4, -96), vec!["orders_close_at"]),
        // Ends before it starts.
        (body(17, 15, -96, -4), vec!["ends_at"]),
        // Both at once: both named.
        (body(17, 15, -4, -96), vec!["ends_at", "orders_close_at"]),
        // Orders close after the distribution ends.
        (body(15, 17, -96, 18), vec!["orders_close_at"]),
        // Already over.
        (body(-300, -298, -400, -310), vec!["ends_at"]),
    ];
    for (input, expected) in cases {
        let problem = app
            .post(&path, &input, Some(&admin.token))
            .await
            .expect_problem(422, "invalid_field");
        assert_eq!(fields(&problem), expected, "{problem}");
    }
    for weeks in [0, 53, -1] {
        let mut input = body(15, 17, -96, -4);
        input["repeat"] = json!({"weekly": weeks});
        let problem = app
            .post(&path, &input, Some(&admin.token))
            .await
            .expect_problem(422, "invalid_field");
        assert_eq!(fields(&problem), ["repeat.weekly"]);
    }
    let problem = app
        .post(
            &path,
            &json!({"starts_at": "jeudi 17h", "orders_open_at": ts(day(6, 8)),
                    "orders_close_at": ts(day(9, 20))}),
            Some(&admin.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fields(&problem), ["starts_at", "ends_at"]);
    assert_eq!(distributions_count(&app).await, 0);
}

#[actix_web::test]
async fn an_upcoming_distribution_is_edited_then_cancelled() {
    let app = spawn_app().await;
    let w = world(&app).await;
    // The catalog closes its own sale during the distribution (16:00).
    app.post(
        &format!("/api/v1/distributions/{}/participations", w.later),
        &json!({"catalog_id": w.catalog, "orders_close_at": ts(day(10, 16))}),
        Some(&w.owner.token),
    )
    .await
    .expect(201);
    let path = format!("/api/v1/distributions/{}", w.later);

    // Ending at 15:00 would leave that window outside: refused, unchanged.
    let problem = app
        .put(&path, &body(13, 15, -96, -4), Some(&w.admin.token))
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "orders_close_at");
    assert!(problem["errors"][0]["reason"]
        .as_str()
        .unwrap_or("")
        .contains("Légumes"));
    let unchanged = app.get(&path, None).await.expect(200);
    assert_eq!(unchanged["starts_at"], ts(day(10, 15)));

    // A later, longer day at another place.
    let mut input = body(14, 18, -72, -4);
    input["place"] = json!("Halle");
    let edited = app
        .put(&path, &input, Some(&w.admin.token))
        .await
        .expect(200);
    assert_eq!(edited["starts_at"], ts(day(10, 14)));
    assert_eq!(edited["orders_open_at"], ts(day(7, 0)));
    assert_eq!(edited["place"], "Halle");
    let detail = app.get(&path, None).await.expect(200);
    assert_eq!(detail["ends_at"], ts(day(10, 18)));
    assert_eq!(detail["participations"][0]["orders_open_at"], ts(day(7, 0)));
    assert_eq!(
        detail["participations"][0]["orders_close_at"],
        ts(day(10, 16))
    );
    let mut series = input.clone();
    series["repeat"] = json!({"weekly": 2});
    app.put(&path, &series, Some(&w.admin.token))
        .await
        .expect_problem(422, "invalid_field");

    // Cancel: hidden from the listing unless asked for, and frozen.
    app.delete(&path, Some(&w.admin.token)).await.expect(204);
    let cancelled = app.get(&path, None).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    assert!(cancelled["cancelled_at"].is_string());
    let listing = format!("/api/v1/markets/{}/distributions", w.market);
    let ids = |v: Value| -> Vec<String> {
        v.as_array()
            .expect("list")
            .iter()
            .filter_map(|d| d["id"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        ids(app.get(&listing, None).await.expect(200)),
        [w.open_now.to_string()]
    );
    let all = app
        .get(&format!("{listing}?include_cancelled=true"), None)
        .await
        .expect(200);
    assert_eq!(ids(all).len(), 2);
    let problem = app
        .put(&path, &input, Some(&w.admin.token))
        .await
        .expect_problem(409, "distribution_not_upcoming");
    assert_eq!(problem["distribution_status"], "cancelled");
    app.delete(&path, Some(&w.admin.token)).await.expect(204);

    // Once it has ended, it can no longer be changed.
    app.clock.advance(Duration::days(4));
    let problem = app
        .delete(
            &format!("/api/v1/distributions/{}", w.open_now),
            Some(&w.admin.token),
        )
        .await
        .expect_problem(409, "distribution_not_upcoming");
    assert!(problem["detail"].as_str().unwrap_or("").contains("ended"));
}

#[actix_web::test]
async fn cancelling_is_refused_once_orders_exist() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.post(
        &format!("/api/v1/distributions/{}/participations", w.open_now),
        &json!({"catalog_id": w.catalog}),
        Some(&w.owner.token),
    )
    .await
    .expect(201);
    order(&app, w.open_now, w.offer).await;
    let path = format!("/api/v1/distributions/{}", w.open_now);
    let problem = app
        .delete(&path, Some(&w.admin.token))
        .await
        .expect_problem(409, "has_orders");
    assert_eq!(problem["orders"], 1);
    assert!(problem["detail"]
        .as_str()
        .unwrap_or("")
        .contains("1 confirmed order"));
    let still = app.get(&path, None).await.expect(200);
    assert_eq!(still["status"], "upcoming");
    assert!(still["cancelled_at"].is_null());
    // Its times may still change, but its sale cannot move to later than now.
    let problem = app
        .put(&path, &body(-145, -143, -170, -146), Some(&w.admin.token))
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "orders_open_at");
    let edited = app
        .put(&path, &body(-145, -143, -300, -146), Some(&w.admin.token))
        .await
        .expect(200);
    assert_eq!(edited["starts_at"], ts(day(3, 23)));
    // Nothing was deleted.
    let detail = app.get(&path, None).await.expect(200);
    assert_eq!(detail["participations"].as_array().map(Vec::len), Some(1));
    assert_eq!(detail["participations"][0]["status"], "open");
}

#[actix_web::test]
async fn only_the_markets_admins_may_plan_its_days() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let stranger = app.user("Inconnu").await;
    let colleague = app.user("Collègue").await;
    let other_owner = app.user("Voisin").await;
    let other_producer = app.producer(&other_owner, "Ferme voisine").await;
    app.post(
        &format!("/api/v1/producers/{other_producer}/members"),
        &json!({"email": colleague.email, "role": "collaborator"}),
        Some(&other_owner.token),
    )
    .await
    .expect(201);
    let other_admin = app.user("Autre admin").await;
    api_market(&app, &other_admin, "Autre marché").await;

    let create = format!("/api/v1/markets/{}/distributions", w.market);
    let one = format!("/api/v1/distributions/{}", w.later);
    // The producer selling there is not an admin either.
    for user in [&stranger, &colleague, &other_admin, &w.owner] {
        let token = Some(user.token.as_str());
        app.post(&create, &body(15, 17, -96, -4), token)
            .await
            .expect_problem(403, "forbidden");
        app.put(&one, &body(15, 17, -96, -4), token)
            .await
            .expect_problem(403, "forbidden");
        app.delete(&one, token)
            .await
            .expect_problem(403, "forbidden");
    }
    app.post(&create, &body(15, 17, -96, -4), None)
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(distributions_count(&app).await, 2);
    let untouched = app.get(&one, None).await.expect(200);
    assert_eq!(untouched["status"], "upcoming");
}
