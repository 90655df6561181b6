//! Writing to a market's admins and offering a catalog, through the pages.

use crate::fixtures::{market, offer, producer_with_catalog};
use crate::helpers::count;
use crate::helpers::spawn_app;
use crate::web_client::WebClient;

#[actix_web::test]
async fn a_catalog_sent_by_message_is_linked_in_one_click_and_the_answer_comes_back() {
    let app = spawn_app().await;
    let producer =
        producer_with_catalog(&app, "Ferme des Tilleuls", &[offer("Œufs", "3.00", None)]).await;
    let place = market(&app, "Marché de la Croix-Rousse").await;
    let farmer = WebClient::new(&app);
    farmer.sign_in(&producer.owner).await;
    let page = farmer
        .get(&format!("/marche/{}", place.market_id))
        .await
        .expect(200);
    assert!(page.shows("Envoyer un catalogue"));
    assert!(page.shows(&format!("(code {})", producer.code)));

    // A message first, then the catalog.
    farmer
        .post(
            &format!("/marche/{}/message", place.market_id),
            &[
                ("body", "Bonjour, je produis des œufs à 10 km."),
                ("producer_id", &producer.producer_id.to_string()),
            ],
        )
        .await
        .expect(303);
    let sent = farmer
        .post(
            &format!("/marche/{}/catalogue", place.market_id),
            &[
                ("catalog_id", &producer.catalog_id.to_string()),
                ("body", ""),
            ],
        )
        .await
        .expect(303);
    assert_eq!(sent.location(), format!("/messages/{}", place.market_id));
    // Both went to the admin by e-mail, through the outbox.
    let mails = count(
        &app,
        "SELECT count(*) FROM outbox WHERE kind = 'message' AND recipient = (SELECT email FROM accounts WHERE id = $1)",
        place.admin.id,
    )
    .await;
    assert_eq!(mails, 2);

    // The admin finds them in the market's inbox and links the catalog.
    let admin = WebClient::new(&app);
    admin.sign_in(&place.admin).await;
    let inbox = admin
        .get(&format!("/mes-marches/{}/messages", place.market_id))
        .await
        .expect(200);
    assert!(inbox.shows("Ferme des Tilleuls owner"));
    assert!(inbox.shows("2 non lus"));
    let conversation = format!(
        "/mes-marches/{}/messages/{}",
        place.market_id, producer.owner.id
    );
    let page = admin.get(&conversation).await.expect(200);
    assert!(page.shows("Bonjour, je produis des œufs à 10 km."));
    assert!(page.shows("Relier ce catalogue au marché"));
    let linked = admin
        .post(
            &format!("/mes-marches/{}/catalogues", place.market_id),
            &[
                ("code", producer.code.as_str()),
                ("retour", conversation.as_str()),
            ],
        )
        .await
        .expect(303);
    assert_eq!(linked.location(), conversation);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM market_catalogs WHERE catalog_id = $1",
            producer.catalog_id
        )
        .await,
        1
    );
    let page = admin.get(&conversation).await.expect(200);
    assert!(page.shows("relié au marché"));
    assert!(!page.shows("Relier ce catalogue au marché"));

    // The answer reaches the producer's messages (and mailbox).
    admin
        .post(
            &conversation,
            &[("body", "Bienvenue ! Première vente jeudi.")],
        )
        .await
        .expect(303);
    let mine = farmer.get("/messages").await.expect(200);
    assert!(mine.shows("Marché de la Croix-Rousse"));
    assert!(mine.shows("1 non lu"));
    let thread = farmer
        .get(&format!("/messages/{}", place.market_id))
        .await
        .expect(200);
    assert!(thread.shows("Bienvenue ! Première vente jeudi."));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outbox WHERE kind = 'message' AND recipient = (SELECT email FROM accounts WHERE id = $1)",
            producer.owner.id
        )
        .await,
        1
    );
    // Read now.
    assert!(!farmer.get("/messages").await.expect(200).shows("non lu"));
}

#[actix_web::test]
async fn messages_refuse_forgeries_empty_bodies_and_other_peoples_catalogs() {
    let app = spawn_app().await;
    let producer =
        producer_with_catalog(&app, "Ferme des Tilleuls", &[offer("Œufs", "3.00", None)]).await;
    let place = market(&app, "Marché de la Croix-Rousse").await;
    let stranger = app.user("Quelqu'un").await;
    let browser = WebClient::new(&app);
    browser.sign_in(&stranger).await;
    let none = "SELECT count(*) FROM messages WHERE market_id = $1";

    // Without its token: 403, nothing written.
    let token = browser.cookie("etal_csrf").unwrap_or_default();
    assert!(!token.is_empty());
    browser
        .post_raw(
            &format!("/marche/{}/message", place.market_id),
            &[("body", "Bonjour")],
            &[],
        )
        .await
        .expect(403);
    // An empty message: 422 next to the field.
    let empty = browser
        .post(
            &format!("/marche/{}/message", place.market_id),
            &[("body", "  ")],
        )
        .await
        .expect(422);
    assert!(empty.field_error("body").is_some());
    // Another producer's catalog is not offered.
    let other = browser
        .post(
            &format!("/marche/{}/catalogue", place.market_id),
            &[("catalog_id", &producer.catalog_id.to_string())],
        )
        .await
        .expect(422);
    assert!(other.field_error("catalog_id").is_some());
    assert_eq!(count(&app, none, place.market_id).await, 0);
    // Someone else's conversation is no page of theirs.
    browser
        .get(&format!("/messages/{}", place.market_id))
        .await
        .expect(404);
    browser
        .get(&format!(
            "/mes-marches/{}/messages/{}",
            place.market_id, stranger.id
        ))
        .await
        .expect(404);
}
