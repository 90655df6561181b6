//! The HTTP skeleton: health, readiness, metrics, OpenAPI, problem
//! documents for malformed and oversized bodies, one engine per database.

use serde_json::json;

use crate::helpers::{
    cluster, fresh_database, spawn_app, spawn_app_with, test_settings, SocketProxy,
};

#[actix_web::test]
async fn health_ready_metrics_and_openapi_answer() {
    let app = spawn_app().await;
    app.get("/health", None).await.expect(200);
    let ready = app.get("/ready", None).await.expect(200);
    assert_eq!(ready["status"], "ready");

    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    assert!(
        doc["paths"]["/api/v1/accounts"]["post"].is_object(),
        "paths collected"
    );
    assert!(doc["paths"]["/api/v1/producers/{id}/members"]["post"].is_object());
    for feed in ["distributions", "producers", "markets"] {
        let live = &doc["paths"][format!("/ws/{feed}/{{id}}")]["get"];
        assert!(live["responses"]["101"].is_object(), "/ws/{feed}: {live}");
    }

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(metrics.status().as_u16(), 200);
    let text = metrics.text().await.expect("text");
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(
        text.contains("route=\"/ready\""),
        "labelled by route: {text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "a histogram"
    );
}

#[actix_web::test]
async fn malformed_json_is_a_400_problem_and_wrong_shape_a_422() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.headers()["content-type"].to_str().ok(),
        Some("application/problem+json")
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["code"], "bad_request");

    let problem = app
        .post(
            "/api/v1/accounts",
            &json!({"email": "a@b.org", "name": "A"}),
            None,
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "password");

    app.get("/api/v1/nothing-here", None)
        .await
        .expect_problem(404, "not_found");
    let problem = app
        .get("/api/v1/producers/not-a-uuid", None)
        .await
        .expect_problem(404, "not_found");
    assert_eq!(problem["errors"][0]["field"], "id", "{problem}");
    assert_eq!(problem["errors"][0]["reason"], "not a valid id");
}

#[actix_web::test]
async fn bad_ids_in_a_body_are_named_and_said_not_valid() {
    let app = spawn_app().await;
    let user = app.user("Léa").await;
    let distribution = uuid::Uuid::new_v4();
    let problem = app
        .post(
            &format!("/api/v1/distributions/{distribution}/orders"),
            &json!({"lines": [
                {"offer_id": uuid::Uuid::new_v4(), "quantity": 1},
                {"offer_id": "abc", "quantity": "x"},
            ]}),
            Some(&user.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    let errors = problem["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 2, "{problem}");
    assert_eq!(errors[0]["field"], "lines[1].offer_id");
    assert_eq!(errors[0]["reason"], "not a valid id");
    assert_eq!(errors[1]["field"], "lines[1].quantity");
    // A field of the wrong type is named by its path, serde's positions dropped.
    let problem = app
        .post(
            &format!("/api/v1/distributions/{distribution}/orders"),
            &json!({"lines": [{"offer_id": 12, "quantity": 1}]}),
            Some(&user.token),
        )
        .await
        .expect_problem(422, "invalid_field");
    assert_eq!(problem["errors"][0]["field"], "lines[0].offer_id");
    assert!(!problem["detail"].as_str().unwrap_or("").contains("column"));
}

#[actix_web::test]
async fn a_method_a_path_does_not_serve_is_405_with_allow() {
    let app = spawn_app().await;
    for (method, path, allow) in [
        ("TRACE", "/health", "GET"),
        ("PATCH", "/api/v1/accounts/me", "GET"),
        (
            "POST",
            "/api/v1/vat-rates/5b0f3c1e-8a6b-4c52-9d1e-3a2b1c0d9e8f",
            "DELETE, GET, PUT",
        ),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let answer = app.call(method.clone(), path, None, None).await;
        assert_eq!(
            answer.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
        answer.expect_problem(405, "method_not_allowed");
    }
    app.call(reqwest::Method::TRACE, "/nowhere", None, None)
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = spawn_app().await;
    let huge = "x".repeat(200_000);
    app.post(
        "/api/v1/accounts",
        &json!({"email": "big@example.org", "password": "long enough", "name": huge}),
        None,
    )
    .await
    .expect_problem(413, "payload_too_large");
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM accounts")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn a_second_engine_on_the_same_database_is_refused() {
    let app = spawn_app().await;
    let second = etal::startup::Application::build(test_settings(&app.database_url)).await;
    let message = match second {
        Ok(_) => panic!("a second engine started on the same database"),
        Err(e) => e.to_string(),
    };
    assert!(message.contains("another etal engine"), "{message}");
    app.get("/ready", None).await.expect(200);
}

#[actix_web::test]
async fn ready_turns_503_when_the_database_is_unreachable() {
    // The engine reaches the database through a socket proxy we can cut.
    let target = fresh_database().await;
    let proxy = SocketProxy::start(cluster().socket_dir()).await;
    let through_proxy = proxy.url_for(&target);
    assert_ne!(through_proxy, target, "URL points at the proxy");
    let mut settings = test_settings(&through_proxy);
    settings.database.connect_timeout_secs = 2;
    settings.database.acquire_timeout_ms = 2_000;
    let app = spawn_app_with(settings, chrono::Utc::now()).await;
    app.get("/ready", None).await.expect(200);

    proxy.cut();
    let answer = app.get("/ready", None).await;
    assert!(
        answer.headers.get("retry-after").is_some(),
        "Retry-After set"
    );
    answer.expect_problem(503, "unavailable");

    proxy.restore();
    app.get("/ready", None).await.expect(200);
}
