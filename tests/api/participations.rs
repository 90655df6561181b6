//! Participations ("PLANIFIER") through HTTP: the planning of a producer,
//! taking part alone or in bulk (all or nothing), custom windows, withdrawing
//! (refused once confirmed orders exist), the dashboard, and who may do what.
//!
//! Markets, catalogs, links and orders are fixtures made through the API
//! (see `fixtures`, shared with `distributions.rs`); the planning and
//! dashboard tests are in `planning`.

pub mod fixtures;
mod planning;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::parts::api_cancel;
use crate::helpers::{parse_id, spawn_app};
use fixtures::{
    api_market, catalog, day, link, order, participate, participations_count, plan, ts, world,
};

#[actix_web::test]
async fn single_participation_with_default_or_custom_window() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let body = participate(&app, &w.owner, w.later, &json!({"catalog_id": w.catalog}))
        .await
        .expect(201);
    assert_eq!(body["distribution_id"], w.later.to_string());
    assert_eq!(body["catalog_id"], w.catalog.to_string());
    assert_eq!(body["orders_open_at"], ts(day(5, 6)));
    assert_eq!(body["orders_close_at"], ts(day(9, 20)));
    assert_eq!(body["custom_window"], false);
    assert_eq!(body["status"], "upcoming");
    // Twice → 409.
    participate(&app, &w.owner, w.later, &json!({"catalog_id": w.catalog}))
        .await
        .expect_problem(409, "already_participating");

    // A second catalog opens a week earlier and closes the very morning.
    let (fruits, fruits_code) = catalog(&app, &w.owner, w.producer, "Fruits", &[]).await;
    link(&app, &w.admin, w.market, &fruits_code).await;
    let custom = participate(
        &app,
        &w.owner,
        w.later,
        &json!({"catalog_id": fruits, "orders_open_at": ts(day(-2, 6)),
                "orders_close_at": ts(day(10, 9))}),
    )
    .await
    .expect(201);
    assert_eq!(custom["orders_open_at"], ts(day(-2, 6)));
    assert_eq!(custom["orders_close_at"], ts(day(10, 9)));
    assert_eq!(custom["custom_window"], true);
    assert_eq!(custom["status"], "open");
    let participation = parse_id(&custom["id"]);

    // The public page of the distribution shows both, with producer.
    let detail = app
        .get(&format!("/api/v1/distributions/{}", w.later), None)
        .await
        .expect(200);
    let list = detail["participations"].as_array().expect("participations");
    assert_eq!(list.len(), 2);
    let fruit_row = list
        .iter()
        .find(|p| p["catalog"]["id"] == fruits.to_string())
        .expect("fruits participation");
    assert_eq!(fruit_row["producer"]["name"], "Ferme des Lilas");
    assert_eq!(fruit_row["status"], "open");
    assert_eq!(fruit_row["orders_close_at"], ts(day(10, 9)));

    // Change its window; back to the default with nulls.
    let changed = app
        .put(
            &format!("/api/v1/participations/{participation}"),
            &json!({"orders_open_at": ts(day(1, 6))}),
            Some(&w.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(changed["orders_open_at"], ts(day(1, 6)));
    assert_eq!(changed["orders_close_at"], ts(day(9, 20)));
    assert_eq!(changed["status"], "upcoming");
    let reset = app
        .put(
            &format!("/api/v1/participations/{participation}"),
            &json!({"orders_open_at": null, "orders_close_at": null}),
            Some(&w.owner.token),
        )
        .await
        .expect(200);
    assert_eq!(reset["custom_window"], false);
    assert_eq!(reset["orders_open_at"], ts(day(5, 6)));
}

#[actix_web::test]
async fn invalid_participations_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let refuse = |body: Value, field: &'static str| {
        let app = &app;
        let owner = w.owner.clone();
        let later = w.later;
        async move {
            let problem = participate(app, &owner, later, &body)
                .await
                .expect_problem(422, "invalid_field");
            assert_eq!(problem["errors"][0]["field"], field, "{problem}");
        }
    };
    // Closing before opening; closing after the distribution ends; opening
    // override after the default close.
    refuse(
        json!({"catalog_id": w.catalog, "orders_open_at": ts(day(8, 6)), "orders_close_at": ts(day(7, 6))}),
        "orders_close_at",
    )
    .await;
    refuse(
        json!({"catalog_id": w.catalog, "orders_close_at": ts(day(10, 18))}),
        "orders_close_at",
    )
    .await;
    refuse(
        json!({"catalog_id": w.catalog, "orders_open_at": ts(day(9, 21))}),
        "orders_open_at",
    )
    .await;
    refuse(json!({"catalog_id": "nope"}), "catalog_id").await;
    let problem = participate(
        &app,
        &w.owner,
        w.later,
        &json!({"catalog_id": Uuid::new_v4()}),
    )
    .await
    .expect_problem(409, "unknown_reference");
    assert_eq!(problem["errors"][0]["field"], "catalog_id");
    // A catalog not linked to the market.
    let (unlinked, _) = catalog(&app, &w.owner, w.producer, "Pas relié", &[]).await;
    let problem = participate(&app, &w.owner, w.later, &json!({"catalog_id": unlinked}))
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "catalog_id");
    assert!(problem["detail"]
        .as_str()
        .unwrap_or("")
        .contains("not linked"));
    // A cancelled distribution cannot be joined.
    app.delete(
        &format!("/api/v1/distributions/{}", w.open_now),
        Some(&w.admin.token),
    )
    .await
    .expect(204);
    participate(
        &app,
        &w.owner,
        w.open_now,
        &json!({"catalog_id": w.catalog}),
    )
    .await
    .expect_problem(409, "distribution_not_upcoming");
    assert_eq!(participations_count(&app).await, 0);
}

#[actix_web::test]
async fn bulk_participation_is_all_or_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let path = format!("/api/v1/producers/{}/participations", w.producer);
    let third = parse_id(&plan(&app, &w.admin, w.market, 17, 12).await["id"]);
    let (unlinked, _) = catalog(&app, &w.owner, w.producer, "Pas relié", &[]).await;

    // One bad item (a catalog not linked) → 422 naming it, nothing created.
    let problem = app
        .post(
            &path,
            &json!({"items": [
                {"distribution_id": w.open_now, "catalog_id": w.catalog},
                {"distribution_id": w.later, "catalog_id": unlinked},
                {"distribution_id": third, "catalog_id": w.catalog, "orders_open_at": "tomorrow"},
            ]}),
            Some(&w.owner.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(
        problem["errors"][0]["field"], "items[2].orders_open_at",
        "{problem}"
    );
    let problem = app
        .post(
            &path,
            &json!({"items": [
                {"distribution_id": w.open_now, "catalog_id": w.catalog},
                {"distribution_id": w.later, "catalog_id": unlinked},
                {"distribution_id": Uuid::new_v4(), "catalog_id": w.catalog},
            ]}),
            Some(&w.owner.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    let errors = problem["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2, "{problem}");
    assert_eq!(errors[0]["field"], "items[1].catalog_id");
    assert_eq!(errors[1]["field"], "items[2].distribution_id");
    // Same with one catalog and a list of dates; an empty list.
    let problem = app
        .post(
            &path,
            &json!({"catalog_id": w.catalog, "distribution_ids": [w.open_now, w.later, w.open_now]}),
            Some(&w.owner.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "distribution_ids[2]");
    app.post(
        &path,
        &json!({"catalog_id": w.catalog, "distribution_ids": []}),
        Some(&w.owner.token),
    )
    .await
    .expect_problem(422, "invalid_field");
    assert_eq!(participations_count(&app).await, 0);

    // Every date at once, opening one week earlier than the default.
    let created = app
        .post(
            &path,
            &json!({"catalog_id": w.catalog, "distribution_ids": [w.later, third],
                    "orders_open_at": ts(day(2, 6))}),
            Some(&w.owner.token),
        )
        .await
        .expect(201);
    let list = created["participations"].as_array().expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["distribution_id"], w.later.to_string());
    assert_eq!(list[1]["distribution_id"], third.to_string());
    assert!(list.iter().all(|p| p["orders_open_at"] == ts(day(2, 6))));
    assert_eq!(list[1]["orders_close_at"], ts(day(16, 20)));
    // Already there → the whole request is refused.
    let problem = app
        .post(
            &path,
            &json!({"items": [{"distribution_id": w.open_now, "catalog_id": w.catalog},
                              {"distribution_id": third, "catalog_id": w.catalog}]}),
            Some(&w.owner.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "items[1].distribution_id");
    assert_eq!(participations_count(&app).await, 2);
}

#[actix_web::test]
async fn withdraw_is_refused_once_ordered() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let first = participate(
        &app,
        &w.owner,
        w.open_now,
        &json!({"catalog_id": w.catalog}),
    )
    .await
    .expect(201);
    // Without orders: withdrawn.
    app.delete(
        &format!(
            "/api/v1/participations/{}",
            first["id"].as_str().unwrap_or("")
        ),
        Some(&w.owner.token),
    )
    .await
    .expect(204);
    assert_eq!(participations_count(&app).await, 0);

    let again = participate(
        &app,
        &w.owner,
        w.open_now,
        &json!({"catalog_id": w.catalog}),
    )
    .await
    .expect(201);
    let participation = parse_id(&again["id"]);
    let (first, first_order) = order(&app, w.open_now, w.offer).await;
    let (second, second_order) = order(&app, w.open_now, w.offer).await;
    let path = format!("/api/v1/participations/{participation}");
    let problem = app
        .delete(&path, Some(&w.owner.token))
        .await
        .expect_problem(409, "has_orders");
    assert_eq!(problem["orders"], 2);
    assert!(problem["detail"].as_str().unwrap_or("").contains('2'));
    // With orders, the sale may not be pushed back to later.
    app.put(
        &path,
        &json!({"orders_open_at": ts(day(1, 6))}),
        Some(&w.owner.token),
    )
    .await
    .expect_problem(422, "invalid_field");
    assert_eq!(participations_count(&app).await, 1);

    // Once every order is cancelled, withdrawing works (the orders stay).
    api_cancel(&app, &first, first_order).await;
    api_cancel(&app, &second, second_order).await;
    app.delete(&path, Some(&w.owner.token)).await.expect(204);
    assert_eq!(participations_count(&app).await, 0);
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE id = $1")
        .bind(first_order)
        .fetch_one(&app.db)
        .await
        .expect("orders");
    assert_eq!(kept, 1);
}

#[actix_web::test]
async fn only_the_producers_members_may_plan() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let participation = parse_id(
        &participate(&app, &w.owner, w.later, &json!({"catalog_id": w.catalog}))
            .await
            .expect(201)["id"],
    );
    // A collaborator of the producer may act.
    let helper = app.user("Collaboratrice").await;
    app.post(
        &format!("/api/v1/producers/{}/members", w.producer),
        &json!({"email": helper.email, "role": "collaborator"}),
        Some(&w.owner.token),
    )
    .await
    .expect(201);
    app.put(
        &format!("/api/v1/participations/{participation}"),
        &json!({}),
        Some(&helper.token),
    )
    .await
    .expect(200);

    let stranger = app.user("Inconnu").await;
    let other_owner = app.user("Voisin").await;
    let other_producer = app.producer(&other_owner, "Ferme voisine").await;
    let colleague = app.user("Collègue").await;
    app.post(
        &format!("/api/v1/producers/{other_producer}/members"),
        &json!({"email": colleague.email, "role": "collaborator"}),
        Some(&other_owner.token),
    )
    .await
    .expect(201);
    let other_admin = app.user("Autre admin").await;
    api_market(&app, &other_admin, "Autre marché").await;

    for user in [&stranger, &colleague, &other_admin] {
        let token = Some(user.token.as_str());
        participate(&app, user, w.open_now, &json!({"catalog_id": w.catalog}))
            .await
            .expect_problem(403, "forbidden");
        app.post(
            &format!("/api/v1/producers/{}/participations", w.producer),
            &json!({"catalog_id": w.catalog, "distribution_ids": [w.open_now]}),
            token,
        )
        .await
        .expect_problem(403, "forbidden");
        app.put(
            &format!("/api/v1/participations/{participation}"),
            &json!({}),
            token,
        )
        .await
        .expect_problem(403, "forbidden");
        app.delete(&format!("/api/v1/participations/{participation}"), token)
            .await
            .expect_problem(403, "forbidden");
        for view in ["planning", "dashboard"] {
            app.get(&format!("/api/v1/producers/{}/{view}", w.producer), token)
                .await
                .expect_problem(403, "forbidden");
        }
    }
    // Another producer's member cannot slip its catalog into this producer's bulk.
    let (foreign, foreign_code) = catalog(&app, &other_owner, other_producer, "Voisin", &[]).await;
    link(&app, &w.admin, w.market, &foreign_code).await;
    let problem = app
        .post(
            &format!("/api/v1/producers/{}/participations", w.producer),
            &json!({"items": [{"distribution_id": w.open_now, "catalog_id": foreign}]}),
            Some(&w.owner.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "items[0].catalog_id");
    app.delete(&format!("/api/v1/participations/{participation}"), None)
        .await
        .expect_problem(401, "unauthorized");
    assert_eq!(participations_count(&app).await, 1);
}
