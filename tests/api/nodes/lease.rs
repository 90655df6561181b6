//! The ordering lease against the database, on its own: taken when free,
//! refused while held, taken over once expired with the next epoch, lost
//! by the old holder — and the order writer's transaction refuses a batch
//! of the old epoch before writing anything, as does a line change or
//! weighing after the sale.

use std::time::Duration;

use chrono::Utc;
use etal::domain::order::OrderChangeKind;
use etal::store::after_sale::LineEdit;
use etal::store::order_writes::OrderWrite;
use etal::store::{DbError, Store};
use uuid::Uuid;

use crate::helpers::fresh_database;

fn a_new_order() -> OrderWrite {
    OrderWrite {
        kind: OrderChangeKind::Create,
        order_id: Uuid::new_v4(),
        distribution_id: Uuid::new_v4(),
        customer_id: Uuid::new_v4(),
        number: 1,
        written_lines: Vec::new(),
        removed_lines: Vec::new(),
        movements: Vec::new(),
        idempotency: None,
        at: Utc::now(),
    }
}

/// A line change of a line that does not exist.
fn a_line_change() -> LineEdit {
    LineEdit {
        line_id: Uuid::new_v4(),
        distribution_id: Uuid::new_v4(),
        by: Uuid::new_v4(),
        at: Utc::now(),
        reason: None,
        expected_quantity: rust_decimal::Decimal::ONE,
        expected_weight: None,
        quantity: Some(rust_decimal::Decimal::TWO),
        weight: None,
        notice: None,
    }
}

#[actix_web::test]
async fn the_lease_passes_on_with_a_new_epoch_and_the_old_epoch_writes_nothing() {
    let store =
        Store::connect_lazy(&fresh_database().await, 4, Duration::from_secs(10)).expect("store");
    let lease = Duration::from_millis(600);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());

    let first = store
        .take_lease(a, "http://a", lease)
        .await
        .expect("query")
        .expect("a free lease is taken");
    assert_eq!(
        store.take_lease(b, "http://b", lease).await.expect("query"),
        None,
        "a held lease is not taken"
    );
    assert!(store.renew_lease(a, first, lease).await.expect("query"));
    let view = store.lease().await.expect("read");
    assert_eq!((view.holder, view.live), (Some(a), true));

    // `a` stops renewing; once expired, `b` takes it with the next epoch.
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    let second = store
        .take_lease(b, "http://b", lease)
        .await
        .expect("query")
        .expect("an expired lease is taken");
    assert_eq!(second, first + 1);
    assert!(
        !store.renew_lease(a, first, lease).await.expect("query"),
        "the old holder lost it"
    );

    // The old epoch's batch is refused before anything is written; the new
    // epoch's gets past the fence (and fails on its made-up distribution).
    match store.write_orders(&[a_new_order()], Some(first)).await {
        Err(DbError::Fenced { held, current }) => assert_eq!((held, current), (first, second)),
        other => panic!("the old epoch wrote: {other:?}"),
    }
    match store.write_orders(&[a_new_order()], Some(second)).await {
        Err(DbError::Fenced { .. }) => panic!("the holder's epoch was refused"),
        Err(_) => {}
        Ok(()) => panic!("an order of no distribution was written"),
    }

    // Line changes and weighing after the sale: the same fence.
    match store.edit_lines(&[a_line_change()], Some(first)).await {
        Err(DbError::Fenced { held, current }) => assert_eq!((held, current), (first, second)),
        other => panic!("the old epoch changed a line: {other:?}"),
    }
    match store.edit_lines(&[a_line_change()], Some(second)).await {
        Err(DbError::Fenced { .. }) => panic!("the holder's epoch was refused"),
        Err(_) | Ok(Err(_)) => {}
        Ok(Ok(())) => panic!("a line of no distribution was changed"),
    }

    // Released at shutdown: taken at once, no expiry to wait for.
    store.release_lease(b, second).await.expect("release");
    assert_eq!(
        store.take_lease(a, "http://a", lease).await.expect("query"),
        Some(second + 1)
    );
}
