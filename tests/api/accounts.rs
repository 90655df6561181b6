//! Accounts, sessions and the roles of the caller.

use serde_json::json;

use crate::helpers::{captured_logs, spawn_app};

#[actix_web::test]
async fn sign_up_login_logout() {
    let app = spawn_app().await;
    let account = app
        .post(
            "/api/v1/accounts",
            &json!({"email": "  Marie@Example.org ", "password": "s3cret-pass", "name": "Marie"}),
            None,
        )
        .await
        .expect(201);
    assert_eq!(account["email"], "marie@example.org", "email normalised");
    assert_eq!(account["name"], "Marie");
    assert!(account.get("password").is_none() && account.get("password_hash").is_none());

    let session = app
        .post(
            "/api/v1/sessions",
            &json!({"email": "marie@example.org", "password": "s3cret-pass"}),
            None,
        )
        .await
        .expect(201);
    let token = session["token"].as_str().expect("token").to_owned();
    assert_eq!(session["account_id"], account["id"]);

    let me = app
        .get("/api/v1/accounts/me", Some(&token))
        .await
        .expect(200);
    assert_eq!(me["email"], "marie@example.org");

    app.delete("/api/v1/sessions/current", Some(&token))
        .await
        .expect(204);
    app.get("/api/v1/accounts/me", Some(&token))
        .await
        .expect_problem(401, "unauthorized");

    // The token is stored only as a hash.
    let stored: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT token_hash FROM auth_tokens")
        .fetch_all(&app.db)
        .await
        .expect("tokens");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, token.as_bytes());
    assert_eq!(stored[0].0.len(), 32);
}

#[actix_web::test]
async fn duplicate_email_is_a_conflict_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let body = json!({"email": "a@b.org", "password": "long enough", "name": "A"});
    app.post("/api/v1/accounts", &body, None).await.expect(201);
    app.post("/api/v1/accounts", &body, None)
        .await
        .expect_problem(409, "email_taken");

    let problem = app
        .post(
            "/api/v1/accounts",
            &json!({"email": "not-an-email", "password": "short", "name": ""}),
            None,
        )
        .await
        .expect_problem(422, "invalid_field");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["email", "password", "name"]);
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM accounts")
        .fetch_one(&app.db)
        .await
        .expect("count");
    assert_eq!(count, 1, "a refused sign-up changes nothing");
}

#[actix_web::test]
async fn wrong_password_unknown_and_expired_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.user("Paul").await;
    app.post(
        "/api/v1/sessions",
        &json!({"email": user.email, "password": "wrong password"}),
        None,
    )
    .await
    .expect_problem(401, "unauthorized");
    app.post(
        "/api/v1/sessions",
        &json!({"email": "nobody@example.org", "password": "whatever1"}),
        None,
    )
    .await
    .expect_problem(401, "unauthorized");

    app.get("/api/v1/accounts/me", None)
        .await
        .expect_problem(401, "unauthorized");
    app.get("/api/v1/accounts/me", Some("not-a-real-token"))
        .await
        .expect_problem(401, "unauthorized");
    app.get("/api/v1/accounts/me", Some(&user.token))
        .await
        .expect(200);

    // Past the token's lifetime (720 h by default) it is refused.
    app.clock.advance(chrono::Duration::hours(721));
    app.get("/api/v1/accounts/me", Some(&user.token))
        .await
        .expect_problem(401, "unauthorized");
}

#[actix_web::test]
async fn collaborators_may_act_on_the_producer_strangers_may_not() {
    let app = spawn_app().await;
    let owner = app.user("Owner").await;
    let collaborator = app.user("Collab").await;
    let stranger = app.user("Stranger").await;
    let producer = app.producer(&owner, "Ferme du Bois").await;
    let members = format!("/api/v1/producers/{producer}/members");

    // Only the owner adds members; the account must exist.
    app.post(
        &members,
        &json!({"email": collaborator.email, "role": "collaborator"}),
        Some(&stranger.token),
    )
    .await
    .expect_problem(403, "forbidden");
    app.post(
        &members,
        &json!({"email": "ghost@example.org", "role": "collaborator"}),
        Some(&owner.token),
    )
    .await
    .expect_problem(409, "unknown_reference");
    app.post(
        &members,
        &json!({"email": collaborator.email, "role": "owner"}),
        Some(&owner.token),
    )
    .await
    .expect_problem(422, "invalid_field");
    app.post(
        &members,
        &json!({"email": collaborator.email, "role": "collaborator"}),
        Some(&owner.token),
    )
    .await
    .expect(201);
    app.post(
        &members,
        &json!({"email": collaborator.email, "role": "collaborator"}),
        Some(&owner.token),
    )
    .await
    .expect_problem(409, "conflict");
    // A collaborator cannot add members in turn.
    app.post(
        &members,
        &json!({"email": stranger.email, "role": "collaborator"}),
        Some(&collaborator.token),
    )
    .await
    .expect_problem(403, "forbidden");

    let path = format!("/api/v1/producers/{producer}");
    let renamed = app
        .patch(
            &path,
            &json!({"name": "Ferme du Grand Bois"}),
            Some(&collaborator.token),
        )
        .await
        .expect(200);
    assert_eq!(renamed["name"], "Ferme du Grand Bois");
    app.patch(&path, &json!({"name": "Hijacked"}), Some(&stranger.token))
        .await
        .expect_problem(403, "forbidden");
    app.get(&members, Some(&stranger.token))
        .await
        .expect_problem(403, "forbidden");
    let list = app
        .get(&members, Some(&collaborator.token))
        .await
        .expect(200);
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    let me = app
        .get("/api/v1/accounts/me", Some(&collaborator.token))
        .await
        .expect(200);
    assert_eq!(me["producers"][0]["role"], "collaborator");
    let (name,): (String,) = sqlx::query_as("SELECT name FROM producers WHERE id = $1")
        .bind(producer)
        .fetch_one(&app.db)
        .await
        .expect("producer");
    assert_eq!(name, "Ferme du Grand Bois", "the stranger changed nothing");

    let unknown = format!("/api/v1/producers/{}", uuid::Uuid::new_v4());
    app.patch(&unknown, &json!({"name": "X"}), Some(&owner.token))
        .await
        .expect_problem(404, "not_found");
}

#[actix_web::test]
async fn passwords_and_tokens_never_appear_in_answers_or_logs() {
    let app = spawn_app().await;
    let user = app.user("Secretive").await;
    let me = app
        .get("/api/v1/accounts/me", Some(&user.token))
        .await
        .expect(200);
    let me = me.to_string();
    assert!(!me.contains(&user.password) && !me.contains(&user.token));
    // A failed login with the real password in a wrong-email request.
    app.post(
        "/api/v1/sessions",
        &serde_json::json!({"email": "other@example.org", "password": user.password}),
        None,
    )
    .await
    .expect(401);
    let logs = captured_logs();
    assert!(logs.contains("login"), "requests are logged at all");
    assert!(!logs.contains(&user.password), "password leaked into logs");
    assert!(!logs.contains(&user.token), "token leaked into logs");
}
