//! The hub task on tokio's test clock (paused: time moves only when every
//! task waits): storefront sessions that take pushes slower than the push
//! window make it widen, sessions that keep up make it narrow again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytestring::ByteString;
use chrono::Utc;
use rust_decimal::Decimal;
use tokio::sync::broadcast::error::TryRecvError;
use uuid::Uuid;

use crate::domain::money::Money;
use crate::domain::quantity::Quantity;
use crate::domain::shop::{Named, ShopCatalog, ShopDistribution, ShopOffer, ShopProduct, ShopView};
use crate::domain::stock::StockFigures;
use crate::domain::window::SaleStatus;
use crate::engine::events::live::{EventEncoder, LiveEvent};
use crate::engine::events::{EventHub, LiveConfig, Subscription};
use crate::store::Store;

const MS: Duration = Duration::from_millis(1);

/// Encodes every event as its debug text (the wire format is the API's).
struct DebugText;

impl EventEncoder for DebugText {
    fn encode(&self, event: &LiveEvent) -> Option<ByteString> {
        Some(ByteString::from(format!("{event:?}")))
    }
}

fn shop(distribution: Uuid, offer: Uuid) -> ShopView {
    let catalog = Uuid::new_v4();
    let at = Utc::now();
    ShopView {
        distribution: ShopDistribution {
            id: distribution,
            market_id: Uuid::new_v4(),
            starts_at: at,
            ends_at: at,
            cancelled: false,
        },
        catalogs: vec![ShopCatalog {
            catalog_id: catalog,
            name: "Catalogue".into(),
            producer: Named {
                id: Uuid::new_v4(),
                name: "Ferme".into(),
            },
            orders_open_at: at,
            orders_close_at: at,
            status: SaleStatus::Open,
        }],
        offers: vec![ShopOffer {
            offer_id: offer,
            catalog_id: catalog,
            product: ShopProduct {
                id: Uuid::new_v4(),
                name: "Poulet".into(),
                unit: "pièce".into(),
                variable_price: false,
                multi_weight: false,
                fractional: false,
            },
            label: "Entier".into(),
            quantity: Quantity::ONE,
            unit: "pièce".into(),
            price: Money::ZERO,
            available: None,
            held: None,
        }],
    }
}

/// A storefront session: while `slow`, it comes for pushes only every
/// 400 ms (a fan-out slower than the window); else as soon as one is sent.
/// It reports each take as a real session does.
async fn session(mut subscription: Subscription, slow: Arc<AtomicBool>) {
    loop {
        let mut taken = 0;
        let mut lagged = false;
        if slow.load(Ordering::Relaxed) {
            tokio::time::sleep(400 * MS).await;
        } else {
            match subscription.receiver.recv().await {
                Ok(_) => taken += 1,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => lagged = true,
                Err(_) => return,
            }
        }
        loop {
            match subscription.receiver.try_recv() {
                Ok(_) => taken += 1,
                Err(TryRecvError::Lagged(_)) => lagged = true,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return,
            }
        }
        if taken > 0 || lagged {
            subscription.pace.took(taken > 1 || lagged);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_push_window_widens_while_storefronts_fall_behind_and_narrows_after() {
    let hub = EventHub::new(Arc::new(DebugText));
    // Never connected: nothing here reads the database.
    let store = Store::connect_lazy(
        "postgres://nobody@127.0.0.1:1/none",
        1,
        Duration::from_secs(1),
    )
    .expect("a lazy pool");
    let config = LiveConfig {
        coalesce: 100 * MS,
        coalesce_max: 800 * MS,
        buffer: 64,
        max_sessions: 100,
    };
    let task = hub
        .task(store.clone(), config)
        .expect("the hub's first task");
    tokio::spawn(task);
    assert!(hub.task(store, config).is_none(), "one task per hub");

    let (distribution, offer) = (Uuid::new_v4(), Uuid::new_v4());
    let slow = Arc::new(AtomicBool::new(true));
    for _ in 0..20 {
        let subscription = hub
            .subscribe_storefront(distribution, hub.epoch(), shop(distribution, offer))
            .await
            .expect("the hub runs")
            .expect("no resync meanwhile");
        tokio::spawn(session(subscription, slow.clone()));
    }
    // A change every 10 ms, for the whole test.
    let changes = hub.clone();
    tokio::spawn(async move {
        for ordered in 0u32.. {
            let figures =
                StockFigures::stored(true, Decimal::from(1_000_000), Decimal::from(ordered));
            changes.offer_stock(offer, figures);
            tokio::time::sleep(10 * MS).await;
        }
    });

    assert_eq!(hub.push_window(), 100 * MS, "it starts at the narrowest");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let widened = hub.push_window();
    assert!(
        (300 * MS..=800 * MS).contains(&widened),
        "sessions taking pushes every 400 ms widen a 100 ms window towards their pace: {widened:?}"
    );

    slow.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(
        hub.push_window(),
        100 * MS,
        "sessions that keep up bring it back to the narrowest"
    );
}
