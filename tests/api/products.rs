//! VAT rates, products and offers through HTTP: CRUD, the guide's potatoes
//! (VAT split half-up to the cent), the product rules (multi-weight implies
//! variable price, deactivation empties catalogs), invalid input changing
//! nothing, and who may touch what. The catalogs these tests need are
//! created through the API too.
//!
//! The small fixtures here are `pub(crate)` for the stock tests.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::fixtures::parts::api_catalog;
use crate::helpers::{count_rows, parse_id, spawn_app, TestApp, TestUser};

/// An owner, their producer and a 5.5 % VAT rate.
pub(crate) struct Farm {
    pub owner: TestUser,
    pub producer: Uuid,
    pub vat: Uuid,
}

pub(crate) async fn farm(app: &TestApp, name: &str) -> Farm {
    let owner = app.user(&format!("Owner of {name}")).await;
    let producer = app.producer(&owner, name).await;
    let vat = app
        .post(
            &format!("/api/v1/producers/{producer}/vat-rates"),
            &json!({"name": "Taux réduit", "rate": "5.5"}),
            Some(&owner.token),
        )
        .await
        .expect(201);
    Farm {
        owner,
        producer,
        vat: parse_id(&vat["id"]),
    }
}

/// A product with the given fields on top of sensible defaults.
pub(crate) async fn product(app: &TestApp, farm: &Farm, fields: Value) -> Uuid {
    let mut body = json!({"name": "Pommes de terre", "unit": "kg", "category": "Légumes",
                          "organic": true, "variable_price": false, "multi_weight": false,
                          "active": true});
    if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
        b.extend(f.clone());
    }
    let created = app
        .post(
            &format!("/api/v1/producers/{}/products", farm.producer),
            &body,
            Some(&farm.owner.token),
        )
        .await
        .expect(201);
    parse_id(&created["id"])
}

/// An offer of `product` at the farm's VAT rate; returns its view.
pub(crate) async fn offer(app: &TestApp, farm: &Farm, product: Uuid, fields: Value) -> Value {
    let mut body = json!({"label": "Vrac", "quantity": "1", "unit": "kg", "price": "2.50",
                          "vat_rate_id": farm.vat});
    if let (Some(b), Some(f)) = (body.as_object_mut(), fields.as_object()) {
        b.extend(f.clone());
    }
    app.post(
        &format!("/api/v1/products/{product}/offers"),
        &body,
        Some(&farm.owner.token),
    )
    .await
    .expect(201)
}

/// A catalog of the farm listing `offers`, created through the API.
pub(crate) async fn catalog_of(app: &TestApp, farm: &Farm, offers: &[Uuid]) -> Uuid {
    let doc = api_catalog(app, &farm.owner, farm.producer, "Catalogue", offers).await;
    parse_id(&doc["id"])
}

fn fields_of(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn vat_rates_crud_and_removal_refused_while_used() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let rates = format!("/api/v1/producers/{}/vat-rates", farm.producer);

    let normal = app
        .post(&rates, &json!({"name": "Taux normal", "rate": 20}), token)
        .await
        .expect(201);
    assert_eq!(normal["rate"], "20");
    app.post(&rates, &json!({"name": "Taux normal", "rate": "10"}), token)
        .await
        .expect_problem(409, "vat_rate_name_taken");
    for bad in [json!("120"), json!("cinq"), json!(5.555), json!(true)] {
        let problem = app
            .post(&rates, &json!({"name": "Autre", "rate": bad}), token)
            .await
            .expect_problem(422, "invalid_field");
        assert_eq!(fields_of(&problem), vec!["rate"], "{bad}");
    }

    let list = app.get(&rates, token).await.expect(200);
    let listed: Vec<(&str, &str)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or(""),
                r["rate"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(listed, vec![("Taux réduit", "5.5"), ("Taux normal", "20")]);

    let normal_id = parse_id(&normal["id"]);
    let changed = app
        .put(
            &format!("/api/v1/vat-rates/{normal_id}"),
            &json!({"name": "Taux intermédiaire", "rate": "10.00"}),
            token,
        )
        .await
        .expect(200);
    assert_eq!(
        (changed["name"].as_str(), changed["rate"].as_str()),
        (Some("Taux intermédiaire"), Some("10"))
    );

    // In use: refused, naming the offer; nothing removed.
    let potatoes = product(&app, &farm, json!({})).await;
    let vrac = offer(&app, &farm, potatoes, json!({})).await;
    let problem = app
        .delete(&format!("/api/v1/vat-rates/{}", farm.vat), token)
        .await
        .expect_problem(409, "vat_rate_in_use");
    assert_eq!(problem["offers"][0]["offer_id"], vrac["id"]);
    assert_eq!(problem["offers"][0]["label"], "Vrac");
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM vat_rates").await,
        2
    );

    // A deactivated offer still holds the rate (old orders show it).
    app.delete(
        &format!("/api/v1/offers/{}", vrac["id"].as_str().unwrap_or("")),
        token,
    )
    .await
    .expect(200);
    app.delete(&format!("/api/v1/vat-rates/{}", farm.vat), token)
        .await
        .expect_problem(409, "vat_rate_in_use");

    // Unused: removed.
    app.delete(&format!("/api/v1/vat-rates/{normal_id}"), token)
        .await
        .expect(204);
    app.delete(&format!("/api/v1/vat-rates/{normal_id}"), token)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        app.get(&rates, token)
            .await
            .expect(200)
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[actix_web::test]
async fn another_producers_vat_rate_is_refused() {
    let app = spawn_app().await;
    let lilas = farm(&app, "Ferme des Lilas").await;
    let other = farm(&app, "Ferme voisine").await;
    let potatoes = product(&app, &lilas, json!({})).await;
    let path = format!("/api/v1/products/{potatoes}/offers");
    let token = Some(lilas.owner.token.as_str());

    // Another producer's rate or none at all: a reference to nothing (409);
    // not an id: an invalid field (422).
    for (vat, status, code) in [
        (json!(other.vat), 409, "unknown_reference"),
        (json!(Uuid::new_v4()), 409, "unknown_reference"),
        (json!("not-a-uuid"), 422, "invalid_field"),
    ] {
        let body = json!({"label": "Vrac", "quantity": 1, "unit": "kg", "price": "2.50",
                          "vat_rate_id": vat});
        let problem = app
            .post(&path, &body, token)
            .await
            .expect_problem(status, code);
        assert_eq!(fields_of(&problem), vec!["vat_rate_id"]);
    }
    assert_eq!(count_rows(&app.db, "SELECT count(*) FROM offers").await, 0);

    // Changing an offer to a foreign rate is refused too, and changes nothing.
    let vrac = offer(&app, &lilas, potatoes, json!({})).await;
    let problem = app
        .put(
            &format!("/api/v1/offers/{}", vrac["id"].as_str().unwrap_or("")),
            &json!({"label": "Vrac 2", "quantity": 1, "unit": "kg", "price": "3",
                    "vat_rate_id": other.vat}),
            token,
        )
        .await
        .expect_problem(409, "unknown_reference");
    assert_eq!(fields_of(&problem), vec!["vat_rate_id"]);
    let (label, vat): (String, Uuid) = sqlx::query_as("SELECT label, vat_rate_id FROM offers")
        .fetch_one(&app.db)
        .await
        .expect("offer");
    assert_eq!((label.as_str(), vat), ("Vrac", lilas.vat));
}

#[actix_web::test]
async fn guide_potatoes_prices_are_split_half_up() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let potatoes = product(
        &app,
        &farm,
        json!({"description": "Charlotte, récolte du jour"}),
    )
    .await;
    let vrac = offer(&app, &farm, potatoes, json!({"reference": "PDT-1"})).await;
    let sac = offer(
        &app,
        &farm,
        potatoes,
        json!({"label": "Sac", "quantity": 10, "price": 20}),
    )
    .await;

    assert_eq!(vrac["price"], "2.50");
    assert_eq!(vrac["price_excl_vat"], "2.37");
    assert_eq!(vrac["vat_amount"], "0.13");
    assert_eq!(vrac["vat_rate"], "5.5");
    assert_eq!(vrac["vat_rate_id"], json!(farm.vat));
    assert_eq!(vrac["reference"], "PDT-1");
    assert_eq!(
        (sac["quantity"].as_str(), sac["unit"].as_str()),
        (Some("10"), Some("kg"))
    );
    assert_eq!(sac["price"], "20.00");
    assert_eq!(sac["price_excl_vat"], "18.96");
    assert_eq!(sac["vat_amount"], "1.04");
    // No `stock` = unlimited.
    assert_eq!(
        sac["stock"],
        json!({"tracked": false, "real": "0", "ordered": "0", "held": "0", "available": null})
    );

    let token = Some(farm.owner.token.as_str());
    let offers = app
        .get(&format!("/api/v1/products/{potatoes}/offers"), token)
        .await
        .expect(200);
    let labels: Vec<&str> = offers
        .as_array()
        .expect("offers")
        .iter()
        .filter_map(|o| o["label"].as_str())
        .collect();
    assert_eq!(labels, vec!["Vrac", "Sac"]);
    let one = app
        .get(
            &format!("/api/v1/offers/{}", sac["id"].as_str().unwrap_or("")),
            token,
        )
        .await
        .expect(200);
    assert_eq!(one, sac);

    // A new rate changes the derived figures at once.
    app.put(
        &format!("/api/v1/vat-rates/{}", farm.vat),
        &json!({"name": "Taux réduit", "rate": "20"}),
        token,
    )
    .await
    .expect(200);
    let one = app
        .get(
            &format!("/api/v1/offers/{}", sac["id"].as_str().unwrap_or("")),
            token,
        )
        .await
        .expect(200);
    assert_eq!(
        (one["price_excl_vat"].as_str(), one["vat_amount"].as_str()),
        (Some("16.67"), Some("3.33"))
    );

    let product = app
        .get(&format!("/api/v1/products/{potatoes}"), token)
        .await
        .expect(200);
    assert_eq!(product["description"], "Charlotte, récolte du jour");
    assert_eq!(product["organic"], true);
    let list = app
        .get(
            &format!("/api/v1/producers/{}/products", farm.producer),
            token,
        )
        .await
        .expect(200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn multi_weight_implies_variable_price_and_fractional_follows_it() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let path = format!("/api/v1/producers/{}/products", farm.producer);
    let base = json!({"name": "Poulet", "unit": "pièce", "category": "Volailles",
                      "organic": false, "active": true});
    let with = |extra: Value| {
        let mut b = base.clone();
        if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        b
    };

    let problem = app
        .post(
            &path,
            &with(json!({"variable_price": false, "multi_weight": true})),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fields_of(&problem), vec!["variable_price"]);
    let problem = app
        .post(
            &path,
            &with(json!({"variable_price": true, "multi_weight": true, "fractional": true})),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fields_of(&problem), vec!["fractional"]);
    let problem = app
        .post(
            &path,
            &json!({"name": " ", "unit": "", "category": "Volailles", "photo_url": "poulet.jpg"}),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fields_of(&problem), vec!["name", "unit", "photo_url"]);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM products").await,
        0
    );

    let chicken = app
        .post(
            &path,
            &with(json!({"variable_price": true, "multi_weight": true,
                         "photo_url": "https://img.example/poulet.jpg"})),
            token,
        )
        .await
        .expect(201);
    assert_eq!(chicken["multi_weight"], true);
    assert_eq!(chicken["fractional"], false, "multi-weight units are whole");
    let bulk = app
        .post(
            &path,
            &with(json!({"name": "Farine", "variable_price": true})),
            token,
        )
        .await
        .expect(201);
    assert_eq!(bulk["fractional"], true, "defaults to variable_price");
    let eggs = app
        .post(&path, &with(json!({"name": "Oeufs"})), token)
        .await
        .expect(201);
    assert_eq!(
        (
            eggs["variable_price"].as_bool(),
            eggs["fractional"].as_bool()
        ),
        (Some(false), Some(false))
    );
    assert_eq!(eggs["active"], true);

    // PUT applies the same rule and changes nothing when refused.
    let chicken_path = format!("/api/v1/products/{}", chicken["id"].as_str().unwrap_or(""));
    let problem = app
        .put(
            &chicken_path,
            &with(json!({"variable_price": false, "multi_weight": true})),
            token,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(fields_of(&problem), vec!["variable_price"]);
    let after = app.get(&chicken_path, token).await.expect(200);
    assert_eq!(after, chicken);
    let renamed = app
        .put(
            &chicken_path,
            &with(json!({"name": "Poulet fermier", "variable_price": true, "multi_weight": false})),
            token,
        )
        .await
        .expect(200);
    assert_eq!(renamed["name"], "Poulet fermier");
    assert_eq!(renamed["multi_weight"], false);
    assert_eq!(renamed["removed_from_catalogs"], 0);
}

#[actix_web::test]
async fn deactivating_a_product_removes_its_offers_from_every_catalog() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let potatoes = product(&app, &farm, json!({})).await;
    let vrac = parse_id(&offer(&app, &farm, potatoes, json!({})).await["id"]);
    let sac = parse_id(
        &offer(
            &app,
            &farm,
            potatoes,
            json!({"label": "Sac", "quantity": 10, "price": 20}),
        )
        .await["id"],
    );
    let carrots = product(&app, &farm, json!({"name": "Carottes"})).await;
    let botte = parse_id(
        &offer(
            &app,
            &farm,
            carrots,
            json!({"label": "Botte", "unit": "botte"}),
        )
        .await["id"],
    );
    let tuesday = catalog_of(&app, &farm, &[vrac, sac, botte]).await;
    catalog_of(&app, &farm, &[vrac]).await;

    let body = json!({"name": "Pommes de terre", "unit": "kg", "category": "Légumes",
                      "organic": true, "variable_price": false, "multi_weight": false,
                      "active": false});
    let answer = app
        .put(&format!("/api/v1/products/{potatoes}"), &body, token)
        .await
        .expect(200);
    assert_eq!(answer["active"], false);
    assert_eq!(answer["removed_from_catalogs"], 3);
    let left: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT catalog_id, offer_id FROM catalog_entries")
            .fetch_all(&app.db)
            .await
            .expect("entries");
    assert_eq!(left, vec![(tuesday, botte)]);
    // The offers themselves stay (orders may refer to them).
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM offers WHERE active").await,
        3
    );

    // Reactivating does not put them back.
    let mut body = body;
    body["active"] = json!(true);
    let answer = app
        .put(&format!("/api/v1/products/{potatoes}"), &body, token)
        .await
        .expect(200);
    assert_eq!(
        (
            answer["active"].as_bool(),
            answer["removed_from_catalogs"].as_u64()
        ),
        (Some(true), Some(0))
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM catalog_entries").await,
        1
    );
}

#[actix_web::test]
async fn invalid_offers_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let potatoes = product(&app, &farm, json!({})).await;
    let path = format!("/api/v1/products/{potatoes}/offers");
    let offer_with = |extra: Value| {
        let mut b = json!({"label": "Vrac", "quantity": "1", "unit": "kg", "price": "2.50",
                           "vat_rate_id": farm.vat});
        if let (Some(b), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        b
    };

    for (extra, fields) in [
        (json!({"price": "-1"}), vec!["price"]),
        (json!({"price": -0.01}), vec!["price"]),
        (json!({"price": "2.505"}), vec!["price"]),
        (json!({"price": "deux"}), vec!["price"]),
        (json!({"quantity": 0}), vec!["quantity"]),
        (json!({"quantity": "-3"}), vec!["quantity"]),
        (
            json!({"quantity": "0", "price": "-5", "label": ""}),
            vec!["label", "quantity", "price"],
        ),
        (json!({"stock": {"real": "-1"}}), vec!["stock.real"]),
    ] {
        let problem = app
            .post(&path, &offer_with(extra.clone()), token)
            .await
            .expect_problem(422, "invalid_field");
        assert_eq!(fields_of(&problem), fields, "{extra}");
    }
    assert_eq!(count_rows(&app.db, "SELECT count(*) FROM offers").await, 0);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM stock_movements").await,
        0
    );

    let vrac = offer(&app, &farm, potatoes, json!({})).await;
    let offer_path = format!("/api/v1/offers/{}", vrac["id"].as_str().unwrap_or(""));
    for extra in [
        json!({"price": "-2"}),
        json!({"quantity": 0}),
        json!({"stock": {"real": 3}}),
    ] {
        app.put(&offer_path, &offer_with(extra), token)
            .await
            .expect_problem(422, "invalid_field");
    }
    let (price, quantity, tracked): (rust_decimal::Decimal, rust_decimal::Decimal, bool) =
        sqlx::query_as("SELECT price, quantity, stock_tracked FROM offers")
            .fetch_one(&app.db)
            .await
            .expect("offer");
    assert_eq!(
        (price.to_string(), quantity.normalize().to_string(), tracked),
        ("2.50".into(), "1".into(), false)
    );

    // A valid replacement works and keeps the stock settings.
    let changed = app
        .put(
            &offer_path,
            &offer_with(json!({"label": "Vrac lavé", "price": 2.8, "reference": "V2"})),
            token,
        )
        .await
        .expect(200);
    assert_eq!(
        (changed["label"].as_str(), changed["price"].as_str()),
        (Some("Vrac lavé"), Some("2.80"))
    );
    assert_eq!(changed["removed_from_catalogs"], 0);
}

#[actix_web::test]
async fn deleting_an_offer_deactivates_it_and_empties_catalogs() {
    let app = spawn_app().await;
    let farm = farm(&app, "Ferme des Lilas").await;
    let token = Some(farm.owner.token.as_str());
    let potatoes = product(&app, &farm, json!({})).await;
    let vrac = parse_id(&offer(&app, &farm, potatoes, json!({})).await["id"]);
    catalog_of(&app, &farm, &[vrac]).await;
    catalog_of(&app, &farm, &[vrac]).await;

    let gone = app
        .delete(&format!("/api/v1/offers/{vrac}"), token)
        .await
        .expect(200);
    assert_eq!(gone["active"], false);
    assert_eq!(gone["removed_from_catalogs"], 2);
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM catalog_entries").await,
        0
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM offers WHERE NOT active").await,
        1
    );
    app.delete(&format!("/api/v1/offers/{}", Uuid::new_v4()), token)
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn only_the_producers_members_may_write() {
    let app = spawn_app().await;
    let lilas = farm(&app, "Ferme des Lilas").await;
    let potatoes = product(&app, &lilas, json!({})).await;
    let vrac = offer(&app, &lilas, potatoes, json!({})).await;
    let offer_id = vrac["id"].as_str().unwrap_or("").to_owned();
    let other = farm(&app, "Ferme voisine").await;
    let helper = app.user("Helper").await;
    app.post(
        &format!("/api/v1/producers/{}/members", other.producer),
        &json!({"email": helper.email, "role": "collaborator"}),
        Some(&other.owner.token),
    )
    .await
    .expect(201);
    let stranger = app.user("Stranger").await;

    let p = lilas.producer;
    let v = lilas.vat;
    let vat_body = json!({"name": "X", "rate": 10});
    let product_body = json!({"name": "X", "unit": "kg", "category": "X"});
    let offer_body =
        json!({"label": "X", "quantity": 1, "unit": "kg", "price": 1, "vat_rate_id": v});
    let writes: Vec<(&str, String, Option<Value>)> = vec![
        (
            "POST",
            format!("/api/v1/producers/{p}/vat-rates"),
            Some(vat_body.clone()),
        ),
        ("PUT", format!("/api/v1/vat-rates/{v}"), Some(vat_body)),
        ("DELETE", format!("/api/v1/vat-rates/{v}"), None),
        (
            "POST",
            format!("/api/v1/producers/{p}/products"),
            Some(product_body.clone()),
        ),
        (
            "PUT",
            format!("/api/v1/products/{potatoes}"),
            Some(product_body),
        ),
        (
            "POST",
            format!("/api/v1/products/{potatoes}/offers"),
            Some(offer_body.clone()),
        ),
        (
            "PUT",
            format!("/api/v1/offers/{offer_id}"),
            Some(offer_body),
        ),
        ("DELETE", format!("/api/v1/offers/{offer_id}"), None),
        (
            "PUT",
            format!("/api/v1/offers/{offer_id}/stock"),
            Some(json!({"tracked": true, "real": 5})),
        ),
    ];
    let reads = [
        format!("/api/v1/producers/{p}/vat-rates"),
        format!("/api/v1/vat-rates/{v}"),
        format!("/api/v1/producers/{p}/products"),
        format!("/api/v1/products/{potatoes}"),
        format!("/api/v1/products/{potatoes}/offers"),
        format!("/api/v1/offers/{offer_id}"),
        format!("/api/v1/producers/{p}/stocks"),
    ];
    for who in [&stranger, &helper, &other.owner] {
        for (method, path, body) in &writes {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            app.call(method.clone(), path, body.as_ref(), Some(&who.token))
                .await
                .expect_problem(403, "forbidden");
            app.call(method, path, body.as_ref(), None)
                .await
                .expect_problem(401, "unauthorized");
        }
        for path in &reads {
            app.get(path, Some(&who.token))
                .await
                .expect_problem(403, "forbidden");
        }
    }
    // Nothing changed.
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM vat_rates").await,
        2
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM products").await,
        1
    );
    assert_eq!(
        count_rows(
            &app.db,
            "SELECT count(*) FROM offers WHERE active AND NOT stock_tracked"
        )
        .await,
        1
    );
    assert_eq!(
        count_rows(&app.db, "SELECT count(*) FROM stock_movements").await,
        0
    );

    // A collaborator of this producer may do all of it.
    let farmhand = app.user("Farmhand").await;
    app.post(
        &format!("/api/v1/producers/{p}/members"),
        &json!({"email": farmhand.email, "role": "collaborator"}),
        Some(&lilas.owner.token),
    )
    .await
    .expect(201);
    let token = Some(farmhand.token.as_str());
    app.post(
        &format!("/api/v1/producers/{p}/vat-rates"),
        &json!({"name": "Normal", "rate": 20}),
        token,
    )
    .await
    .expect(201);
    app.put(
        &format!("/api/v1/offers/{offer_id}/stock"),
        &json!({"tracked": true, "real": 5}),
        token,
    )
    .await
    .expect(200);
    app.delete(&format!("/api/v1/offers/{offer_id}"), token)
        .await
        .expect(200);
    app.get(&format!("/api/v1/producers/{p}/stocks"), token)
        .await
        .expect(200);
}
