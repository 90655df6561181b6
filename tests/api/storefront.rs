//! What the web pages read over HTTP: the customer's own order in a
//! distribution (`orders/mine`), the products' categories of a shop, the
//! producer's board (its lines only, members only), and the pages and
//! assets themselves (types, strict Content-Security-Policy, revalidation,
//! no way out of the embedded folder, no inline code in `web/`).

use reqwest::header;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::{
    customers, link, offer, open_sale, order, participate, producer_with_catalog,
};
use crate::helpers::spawn_app;

#[actix_web::test]
async fn my_order_is_the_callers_confirmed_order_in_that_distribution() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.50", Some(10))]).await;
    let chicken = sale.producer.offers[0];
    let people = customers(&app, 2).await;
    let (ana, ben) = (&people[0], &people[1]);
    let mine = format!("/api/v1/distributions/{}/orders/mine", sale.distribution_id);

    app.get(&mine, None)
        .await
        .expect_problem(401, "unauthorized");
    app.get(&mine, Some(&ana.token))
        .await
        .expect_problem(404, "not_found");

    let placed = order(&app, sale.distribution_id, ana, &[(chicken, "2")])
        .await
        .expect(201);
    let found = app.get(&mine, Some(&ana.token)).await.expect(200);
    let by_id = app
        .get(
            &format!("/api/v1/orders/{}", placed["id"].as_str().unwrap()),
            Some(&ana.token),
        )
        .await
        .expect(200);
    assert_eq!(found, by_id, "same shape as GET /orders/{{id}}");
    assert_eq!(found["number"], placed["number"]);
    assert_eq!(found["lines"][0]["quantity"], "2");

    // Someone else's order is not "mine"; nor is another distribution's.
    app.get(&mine, Some(&ben.token))
        .await
        .expect_problem(404, "not_found");
    app.get(
        &format!("/api/v1/distributions/{}/orders/mine", Uuid::new_v4()),
        Some(&ana.token),
    )
    .await
    .expect_problem(404, "not_found");

    // Cancelled: none any more; ordering again gives the new one.
    app.delete(
        &format!("/api/v1/orders/{}", placed["id"].as_str().unwrap()),
        Some(&ana.token),
    )
    .await
    .expect(204);
    app.get(&mine, Some(&ana.token))
        .await
        .expect_problem(404, "not_found");
    let again = order(&app, sale.distribution_id, ana, &[(chicken, "1")])
        .await
        .expect(201);
    let found = app.get(&mine, Some(&ana.token)).await.expect(200);
    assert_eq!(found["id"], again["id"]);
    assert_ne!(found["id"], placed["id"]);
}

#[actix_web::test]
async fn shop_products_tell_the_category_of_what_is_on_sale() {
    let app = spawn_app().await;
    let sale = open_sale(
        &app,
        &[
            offer("Carottes", "2.10", Some(5)),
            offer("Poireaux", "3.00", None),
        ],
    )
    .await;
    let shop = app
        .get(
            &format!("/api/v1/distributions/{}/shop", sale.distribution_id),
            None,
        )
        .await
        .expect(200);
    let products = app
        .get(
            &format!(
                "/api/v1/distributions/{}/shop/products",
                sale.distribution_id
            ),
            None,
        )
        .await
        .expect(200);
    let products = products.as_array().expect("a list");
    assert_eq!(products.len(), 2);
    for offer in shop["offers"].as_array().expect("offers") {
        let details = products
            .iter()
            .find(|p| p["id"] == offer["product"]["id"])
            .unwrap_or_else(|| panic!("details of {}", offer["product"]["name"]));
        assert_eq!(details["category"], "Légumes");
        assert_eq!(details["organic"], true);
    }
    app.get(
        &format!("/api/v1/distributions/{}/shop/products", Uuid::new_v4()),
        None,
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn the_board_shows_a_producer_its_sales_offers_and_only_its_lines() {
    let app = spawn_app().await;
    let sale = open_sale(&app, &[offer("Poulet", "12.50", Some(3))]).await;
    let chicken = sale.producer.offers[0];
    let other = producer_with_catalog(&app, "Chèvrerie", &[offer("Tomme", "7.50", None)]).await;
    link(&app, &sale.market, &other).await;
    participate(&app, &other, sale.distribution_id).await;
    let tomme = other.offers[0];
    let people = customers(&app, 2).await;
    let first = order(
        &app,
        sale.distribution_id,
        &people[0],
        &[(chicken, "2"), (tomme, "1")],
    )
    .await
    .expect(201);
    // Only the other producer's lines: not on this producer's board.
    order(&app, sale.distribution_id, &people[1], &[(tomme, "3")])
        .await
        .expect(201);

    let path = format!("/api/v1/producers/{}/board", sale.producer.producer_id);
    let board = app
        .get(&path, Some(&sale.producer.owner.token))
        .await
        .expect(200);
    assert_eq!(board["producer"]["id"], json!(sale.producer.producer_id));
    let sales = board["sales"].as_array().expect("sales");
    assert_eq!(sales.len(), 1, "{board}");
    assert_eq!(sales[0]["distribution_id"], json!(sale.distribution_id));
    assert_eq!(sales[0]["status"], "open");
    assert_eq!(sales[0]["market"]["timezone"], "Europe/Paris");
    let offers = board["offers"].as_array().expect("offers");
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0]["offer_id"], json!(chicken));
    assert_eq!(offers[0]["product_name"], "Poulet");
    let orders = board["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 1, "only orders with its lines: {board}");
    assert_eq!(orders[0]["id"], first["id"]);
    assert_eq!(orders[0]["customer"]["name"], people[0].name);
    let lines = orders[0]["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 1, "only its own lines");
    assert_eq!(lines[0]["offer_id"], json!(chicken));
    assert_eq!(orders[0]["total"], "25.00", "total of its lines only");

    // Members only.
    app.get(&path, None)
        .await
        .expect_problem(401, "unauthorized");
    app.get(&path, Some(&other.owner.token))
        .await
        .expect_problem(403, "forbidden");
    app.get(
        &format!("/api/v1/producers/{}/board", Uuid::new_v4()),
        Some(&other.owner.token),
    )
    .await
    .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn pages_and_assets_are_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let client = &app.client;
    let get = |path: String| {
        let url = app.url(&path);
        async move { client.get(url).send().await.expect("request") }
    };
    for path in [
        format!("/shop/{}", Uuid::new_v4()),
        format!("/board/{}", Uuid::new_v4()),
    ] {
        let page = get(path.clone()).await;
        assert_eq!(page.status(), 200, "{path}");
        let headers = page.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or("");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        let html = page.text().await.expect("body");
        assert!(html.contains("<html lang=\"fr\">"), "French page");
    }
    let script = get("/assets/shop.js".into()).await;
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    let etag = script.headers()[header::ETAG].clone();
    let again = client
        .get(app.url("/assets/shop.js"))
        .header(header::IF_NONE_MATCH, etag)
        .send()
        .await
        .expect("revalidation");
    assert_eq!(again.status(), 304);
    let css = get("/assets/etal.css".into()).await;
    assert_eq!(
        css.headers()[header::CONTENT_TYPE],
        "text/css; charset=utf-8"
    );

    for path in [
        "/shop/not-an-id",
        "/assets/shop.html",
        "/assets/nothing.js",
        "/assets/..%2FCargo.toml",
        "/assets/%2e%2e%2fCargo.toml",
        "/assets/.hidden",
    ] {
        assert_eq!(get(path.into()).await.status(), 404, "{path}");
    }
}

#[test]
fn web_files_hold_no_inline_code() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web");
    for entry in std::fs::read_dir(&dir).expect("web/") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let name = path.display().to_string();
        if name.ends_with(".html") {
            assert!(!text.contains("<style"), "{name}: inline <style>");
            assert!(!text.contains(" style="), "{name}: style attribute");
            for (i, _) in text.match_indices("<script") {
                let tag = &text[i..text[i..].find('>').map_or(text.len(), |j| i + j)];
                assert!(tag.contains(" src="), "{name}: inline <script>");
            }
            assert!(!has_inline_handler(&text), "{name}: inline event handler");
        }
        if name.ends_with(".js") {
            assert!(
                !text.contains("innerHTML"),
                "{name}: builds DOM from strings"
            );
            assert!(!text.contains("eval("), "{name}: eval");
            assert!(
                !text.contains("http://") && !text.contains("https://"),
                "{name}: network URL"
            );
        }
    }
}

/// Whether HTML text has an `on…=` attribute (onclick, onload, …).
fn has_inline_handler(text: &str) -> bool {
    text.split(|c: char| c.is_whitespace() || c == '<')
        .any(|word| {
            let Some((name, _)) = word.split_once('=') else {
                return false;
            };
            name.len() > 2 && name.starts_with("on") && name.chars().all(|c| c.is_ascii_lowercase())
        })
}
