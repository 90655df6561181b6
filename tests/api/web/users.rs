//! Utilisateurs through HTTP: the owner adds a collaborator by e-mail and
//! removes them (their access ends at once), a collaborator cannot remove
//! others, the last owner cannot be removed.

use sqlx::Row;

use super::products::new_producer;
use crate::helpers::{spawn_app, TestApp};
use crate::web_client::WebClient;

async fn members(app: &TestApp) -> i64 {
    sqlx::query("SELECT count(*) FROM producer_members")
        .fetch_one(&app.db)
        .await
        .expect("count")
        .get(0)
}

#[actix_web::test]
async fn the_owner_adds_and_removes_a_collaborator_but_never_the_last_owner() {
    let app = spawn_app().await;
    let (owner, products) = new_producer(&app, "Ferme du Grand Champ").await;
    let users = products.replace("/produits", "/utilisateurs");
    let ines = app.user("Inès").await;

    let unknown = owner
        .post(&users, &[("email", "personne@example.org")])
        .await
        .expect(422);
    assert!(unknown
        .field_error("email")
        .is_some_and(|e| e.contains("Aucun compte")));
    owner
        .post(&users, &[("email", &ines.email)])
        .await
        .expect(303);
    assert_eq!(members(&app).await, 2);
    let again = owner
        .post(&users, &[("email", &ines.email)])
        .await
        .expect(422);
    assert!(again
        .field_error("email")
        .is_some_and(|e| e.contains("a déjà accès")));
    assert_eq!(members(&app).await, 2, "added once");

    let helper = WebClient::new(&app);
    helper.sign_in(&ines).await;
    let page = helper.get(&users).await.expect(200);
    assert!(page.shows("Inès (vous)") && page.shows("Propriétaire"));
    // A collaborator cannot remove the owner (nor anyone else).
    let owner_id: uuid::Uuid =
        sqlx::query("SELECT account_id FROM producer_members WHERE role = 'owner'")
            .fetch_one(&app.db)
            .await
            .expect("owner")
            .get(0);
    helper
        .post(&format!("{users}/{owner_id}/retirer"), &[])
        .await
        .expect(404);
    // The owner cannot remove the last owner, itself.
    let refused = owner
        .post(&format!("{users}/{owner_id}/retirer"), &[])
        .await
        .expect(303);
    let shown = owner.get(&refused.location()).await;
    assert!(shown.shows("Le dernier propriétaire"));
    assert_eq!(members(&app).await, 2);

    // The owner removes the collaborator: their access ends at once.
    owner
        .post(&format!("{users}/{}/retirer", ines.id), &[])
        .await
        .expect(303);
    assert_eq!(members(&app).await, 1);
    helper.get(&users).await.expect(404);
    let api = app
        .get(
            &format!(
                "/api/v1/producers/{}/members",
                users.split('/').nth(2).expect("id")
            ),
            Some(&ines.token),
        )
        .await;
    assert_eq!(api.status.as_u16(), 403, "the API agrees");
}
