//! The engine's memory of `Idempotency-Key`s against the database truth:
//! keys stored before the engine started, hundreds of concurrent claims of
//! one key, outcomes left uncertain by a failed commit, forgotten accounts.
//! The order flow through HTTP is covered in `concurrency` (retry storm).

use std::time::Duration;

use etal::domain::order::{OrderStatus, OrderView};
use etal::engine::error::OrderError;
use etal::engine::idempotency::{Idempotency, IdempotencyKey, Slot};
use etal::store::Store;
use futures_util::future::join_all;
use uuid::Uuid;

use crate::helpers::{spawn_app, TestApp};

fn key(account_id: Uuid, key: &str, hash: u8) -> IdempotencyKey {
    IdempotencyKey {
        account_id,
        key: key.to_owned(),
        request_hash: vec![hash; 32],
    }
}

fn view() -> OrderView {
    OrderView::new(
        Uuid::new_v4(),
        7,
        Uuid::new_v4(),
        OrderStatus::Confirmed,
        &[],
    )
}

/// Stores an answer the way the order writer does.
async fn store_answer(app: &TestApp, key: &IdempotencyKey, view: &OrderView) {
    sqlx::query(
        "INSERT INTO idempotency_keys (account_id, key, request_hash, status_code, response_body)
         VALUES ($1, $2, $3, 201, $4)",
    )
    .bind(key.account_id)
    .bind(&key.key)
    .bind(&key.request_hash)
    .bind(serde_json::to_value(view).expect("json"))
    .execute(&app.db)
    .await
    .expect("answer stored");
}

async fn setup() -> (TestApp, Store, Uuid) {
    let app = spawn_app().await;
    let store = Store::connect_lazy(&app.database_url, 4, Duration::from_secs(5)).expect("store");
    let account = app.user("Ada").await.id;
    (app, store, account)
}

fn answered(slot: Result<Slot, OrderError>) -> Result<OrderView, String> {
    match slot {
        Ok(Slot::Answered(view)) => Ok(view),
        Ok(Slot::Claimed(_)) => Err("claimed".into()),
        Err(error) => Err(format!("{error:?}")),
    }
}

#[actix_web::test]
async fn a_key_stored_before_the_engine_started_is_answered_from_the_database() {
    let (app, store, account) = setup().await;
    let first = view();
    store_answer(&app, &key(account, "k1", 1), &first).await;

    let keys = Idempotency::default();
    let slot = keys.claim(&key(account, "k1", 1), &store).await;
    assert_eq!(answered(slot), Ok(first));
    let reused = keys.claim(&key(account, "k1", 2), &store).await;
    assert!(matches!(reused, Err(OrderError::KeyReused)));
    assert!(matches!(
        keys.claim(&key(account, "k2", 1), &store).await,
        Ok(Slot::Claimed(_))
    ));
}

#[actix_web::test]
async fn hundreds_of_concurrent_claims_of_one_key_make_one_owner() {
    let (app, store, account) = setup().await;
    let keys = Idempotency::default();
    let first = view();
    let claim = |_| async {
        match keys.claim(&key(account, "storm", 3), &store).await {
            Ok(Slot::Claimed(guard)) => {
                // Let the others pile up behind the claim, then commit.
                tokio::time::sleep(Duration::from_millis(20)).await;
                store_answer(&app, &key(account, "storm", 3), &first).await;
                guard.finish(Ok(first.clone()));
                Ok(None)
            }
            other => answered(other).map(Some),
        }
    };
    let outcomes = join_all((0..300).map(claim)).await;
    let owners = outcomes.iter().filter(|o| matches!(o, Ok(None))).count();
    assert_eq!(owners, 1, "exactly one request owns the key");
    for outcome in &outcomes {
        if let Ok(Some(view)) = outcome {
            assert_eq!(view, &first);
        } else {
            assert_eq!(outcome, &Ok(None));
        }
    }
    // Known in memory now: a later retry is answered, another body refused.
    assert_eq!(
        answered(keys.claim(&key(account, "storm", 3), &store).await),
        Ok(first)
    );
    assert!(matches!(
        keys.claim(&key(account, "storm", 4), &store).await,
        Err(OrderError::KeyReused)
    ));
}

#[actix_web::test]
async fn an_uncertain_outcome_is_settled_by_the_database() {
    let (app, store, account) = setup().await;
    let keys = Idempotency::default();
    let sent = key(account, "maybe", 5);

    // The commit failed and nothing was stored: the key may be used again.
    let Ok(Slot::Claimed(guard)) = keys.claim(&sent, &store).await else {
        panic!("a fresh key is claimed");
    };
    guard.finish(Err(OrderError::Unavailable));
    let Ok(Slot::Claimed(guard)) = keys.claim(&sent, &store).await else {
        panic!("an uncertain key absent from the database is claimed again");
    };

    // The commit "failed" but did store: the retry gets the stored answer.
    let first = view();
    store_answer(&app, &sent, &first).await;
    drop(guard); // dropped without an outcome counts as uncertain
    assert_eq!(answered(keys.claim(&sent, &store).await), Ok(first));
}

#[actix_web::test]
async fn a_forgotten_account_is_loaded_again_on_its_next_key() {
    let (app, store, account) = setup().await;
    let keys = Idempotency::default();
    let sent = key(account, "later", 6);
    let Ok(Slot::Claimed(guard)) = keys.claim(&sent, &store).await else {
        panic!("a fresh key is claimed");
    };
    let first = view();
    store_answer(&app, &sent, &first).await;

    keys.forget_idle(Duration::ZERO);
    assert_eq!(
        keys.accounts_known(),
        1,
        "an account with a key in flight stays"
    );
    guard.finish(Ok(first.clone()));
    keys.forget_idle(Duration::ZERO);
    assert_eq!(keys.accounts_known(), 0);

    assert_eq!(answered(keys.claim(&sent, &store).await), Ok(first));
    assert!(matches!(
        keys.claim(&key(account, "later", 7), &store).await,
        Err(OrderError::KeyReused)
    ));
}
