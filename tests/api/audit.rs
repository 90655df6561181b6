//! The stock audit (`stock_movements`) still traces every unit now that the
//! order writer writes one row per offer and batch: after a rush of orders,
//! changes and cancellations, producers' stock settings, the producer's
//! changes after the sale and the delivery, for every offer the movements
//! add up to what the order lines and the producers' adjustments say
//! (checked against the database), and every batch row names orders that
//! exist. A batch written directly shows the shape of the rows.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use futures_util::future::join_all;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use uuid::Uuid;

use crate::after_sale::setup::{ends_at, line_ids, sale, start};
use crate::fixtures::{customers, link, market, offer, order, producer_with_catalog};
use crate::helpers::{count, parse_id, TestApp};
use etal::domain::money::Money;
use etal::domain::order::{OrderChangeKind, OrderLine};
use etal::domain::quantity::Quantity;
use etal::domain::vat::VatRate;
use etal::store::order_writes::OrderWrite;
use etal::store::Store;

/// A stock movement: offer, kind, quantity, the orders named, and whether
/// it names no single order nor account.
type BatchRow = (Uuid, String, Decimal, Vec<Uuid>, bool);
/// The same, its orders as a set.
type BatchShape = (Uuid, String, Decimal, BTreeSet<Uuid>, bool);

/// One offer's figures from the database: what its movements add up to
/// and what the orders, lines and the offer itself say.
#[derive(Debug, PartialEq)]
struct Audit {
    /// Σ movements that change "ordered": orders, reserve, release, delivery.
    moved_ordered: Decimal,
    /// Σ undelivered lines of confirmed orders.
    ordered: Decimal,
    /// Σ movements that change real stock: set_real, adjust, delivery.
    moved_real: Decimal,
    real: Decimal,
    tracked: bool,
}

async fn audit(app: &TestApp, offer: Uuid) -> Audit {
    let (moved_ordered, ordered, moved_real, real, tracked): (Decimal, Decimal, Decimal, Decimal, bool) =
        sqlx::query_as(
            "SELECT (SELECT COALESCE(sum(quantity), 0) FROM stock_movements
                      WHERE offer_id = o.id AND kind IN ('orders', 'reserve', 'release', 'delivery')),
                    (SELECT COALESCE(sum(l.quantity), 0) FROM order_lines l JOIN orders r ON r.id = l.order_id
                      WHERE l.offer_id = o.id AND r.status = 'confirmed' AND l.delivered_at IS NULL),
                    (SELECT COALESCE(sum(quantity), 0) FROM stock_movements
                      WHERE offer_id = o.id AND kind IN ('set_real', 'adjust', 'delivery')),
                    o.real_stock, o.stock_tracked
               FROM offers o WHERE o.id = $1",
        )
        .bind(offer)
        .fetch_one(&app.db)
        .await
        .expect("audit");
    Audit {
        moved_ordered,
        ordered,
        moved_real,
        real,
        tracked,
    }
}

/// Every unit of every offer is accounted for, and traced.
async fn assert_audited(app: &TestApp, offers: &[Uuid], when: &str) {
    for &offer in offers {
        let a = audit(app, offer).await;
        assert_eq!(
            a.moved_ordered, a.ordered,
            "{when}: the movements of {offer} add up to its undelivered lines: {a:?}"
        );
        if a.tracked {
            assert_eq!(
                a.moved_real, a.real,
                "{when}: the movements of {offer} add up to its real stock: {a:?}"
            );
        }
        assert_eq!(
            count(
                app,
                "SELECT count(*) FROM stock_movements m, unnest(m.order_ids) AS named(id)
                  WHERE m.offer_id = $1 AND NOT EXISTS (SELECT 1 FROM orders WHERE orders.id = named.id)",
                offer
            )
            .await,
            0,
            "{when}: every order a batch row names exists"
        );
        assert_eq!(
            count(
                app,
                "SELECT count(*) FROM (SELECT DISTINCT order_id FROM order_lines WHERE offer_id = $1) l
                  WHERE NOT EXISTS (SELECT 1 FROM stock_movements m
                                     WHERE m.offer_id = $1 AND l.order_id = ANY(m.order_ids))",
                offer
            )
            .await,
            0,
            "{when}: every order with a line of {offer} is named by one of its batch rows"
        );
        // Per-order rows are the producer's after-sale changes only now.
        assert_eq!(
            count(
                app,
                "SELECT count(*) FROM stock_movements WHERE offer_id = $1 AND kind IN ('reserve', 'release')",
                offer
            )
            .await,
            count(
                app,
                "SELECT count(*) FROM order_line_changes WHERE offer_id = $1 AND field = 'quantity'",
                offer
            )
            .await,
            "{when}: a reserve or release row for each change of a line by the producer"
        );
    }
}

#[actix_web::test]
async fn after_a_rush_with_cancellations_every_offers_movements_add_up_to_its_lines() {
    let _heavy = crate::helpers::heavy().await;
    let engine = start(Utc::now()).await;
    let app = &engine.app;
    let farm = producer_with_catalog(
        app,
        "Ferme de l'audit",
        &[
            offer("Pain", "4.20", Some(150)),
            offer("Brioche", "7.00", Some(60)),
            offer("Farine", "2.00", None),
        ],
    )
    .await;
    let (bread, brioche, flour) = (farm.offers[0], farm.offers[1], farm.offers[2]);
    let offers = [bread, brioche, flour];
    let m = market(app, "Marché de l'audit").await;
    link(app, &m, &farm).await;
    let (d, window) = sale(app, &m, &[&farm]).await;
    let crowd = customers(app, 240).await;
    let baskets: [&[(Uuid, &str)]; 3] = [
        &[(bread, "1"), (brioche, "1")],
        &[(bread, "2"), (flour, "3")],
        &[(brioche, "2"), (flour, "1"), (bread, "1")],
    ];

    // 160 customers at once.
    let placed = join_all(
        crowd[..160]
            .iter()
            .enumerate()
            .map(|(i, c)| order(app, d, c, baskets[i % 3])),
    )
    .await;
    let ids: Vec<Option<Uuid>> = placed
        .iter()
        .map(|a| (a.status.as_u16() == 201).then(|| parse_id(&a.body["id"])))
        .collect();
    assert!(ids.iter().flatten().count() > 50, "most orders go through");

    // Then all at once: a third cancel, a third change, a third add; 80
    // newcomers order; the producer sets its stocks meanwhile.
    let token = farm.owner.token.clone();
    let changes = crowd[..160]
        .iter()
        .zip(&ids)
        .enumerate()
        .filter_map(|(i, (c, id))| {
            let path = format!("/api/v1/orders/{}", (*id)?);
            Some(async move {
                match i % 3 {
                    0 => app.delete(&path, Some(&c.token)).await.status.as_u16(),
                    1 => {
                        let body = json!({"lines": [{"offer_id": bread, "quantity": "1"},
                                                    {"offer_id": flour, "quantity": "2"}]});
                        app.patch(&path, &body, Some(&c.token))
                            .await
                            .status
                            .as_u16()
                    }
                    _ => order(app, d, c, &[(brioche, "1")]).await.status.as_u16(),
                }
            })
        });
    let newcomers = crowd[160..]
        .iter()
        .enumerate()
        .map(|(i, c)| async move { order(app, d, c, baskets[i % 3]).await.status.as_u16() });
    let stock_settings = [(bread, "170"), (brioche, "70"), (bread, "165")]
        .into_iter()
        .map(|(offer, real)| {
            let token = token.clone();
            async move {
                app.put(
                    &format!("/api/v1/offers/{offer}/stock"),
                    &json!({"tracked": true, "real": real}),
                    Some(&token),
                )
                .await
                .status
                .as_u16()
            }
        });
    let (changed, ordered, set) = futures_util::join!(
        join_all(changes),
        join_all(newcomers),
        join_all(stock_settings)
    );
    assert!(
        changed
            .iter()
            .chain(&ordered)
            .all(|s| matches!(s, 200 | 201 | 204 | 409)),
        "{changed:?} {ordered:?}"
    );
    assert!(changed.contains(&204), "some orders were cancelled");
    assert_eq!(set, [200, 200, 200]);
    assert_audited(app, &offers, "after the rush").await;

    // The sale closes; the producer changes lines (a stock problem).
    app.clock.set(window.closes_at + Duration::seconds(1));
    let lines: Vec<(Uuid, Decimal)> = sqlx::query_as(
        "SELECT l.id, l.quantity FROM order_lines l JOIN orders o ON o.id = l.order_id
          WHERE o.status = 'confirmed' AND l.offer_id = $1 AND l.quantity >= 2
          ORDER BY l.id LIMIT 3",
    )
    .bind(bread)
    .fetch_all(&app.db)
    .await
    .expect("lines to change");
    assert!(!lines.is_empty(), "lines of two loaves or more exist");
    for (i, (line, quantity)) in lines.iter().enumerate() {
        let to = if i == 0 {
            Decimal::ZERO
        } else {
            quantity - dec!(1)
        };
        app.patch(
            &format!("/api/v1/order-lines/{line}"),
            &json!({"quantity": to.to_string(), "reason": "fournée ratée"}),
            Some(&token),
        )
        .await
        .expect(200);
    }
    assert_audited(app, &offers, "after the producer's changes").await;

    // The distribution ends: its orders are delivered.
    app.clock
        .set(ends_at(&app.db, d).await + Duration::minutes(16));
    assert_eq!(engine.run_jobs().await.deliveries, 1);
    assert_audited(app, &offers, "after delivery").await;
    assert_eq!(audit(app, bread).await.ordered, Decimal::ZERO);
    engine.stop().await;
}

#[actix_web::test]
async fn a_batch_writes_one_audit_row_per_offer_naming_its_orders() {
    let engine = start(Utc::now()).await;
    let app = &engine.app;
    let farm = producer_with_catalog(
        app,
        "Ferme du lot",
        &[
            offer("Oeufs", "3.00", Some(100)),
            offer("Miel", "9.00", None),
        ],
    )
    .await;
    let (eggs, honey) = (farm.offers[0], farm.offers[1]);
    let m = market(app, "Marché du lot").await;
    link(app, &m, &farm).await;
    let (d, _) = sale(app, &m, &[&farm]).await;
    let c = customers(app, 3).await;
    // A first order through the engine freezes the sale's prices.
    let first = order(app, d, &c[0], &[(eggs, "2")]).await.expect(201);
    let first_id = parse_id(&first["id"]);
    let first_line = line_ids(&first, eggs)[0];
    let (participation,): (Uuid,) =
        sqlx::query_as("SELECT participation_id FROM order_lines WHERE id = $1")
            .bind(first_line)
            .fetch_one(&app.db)
            .await
            .expect("participation");
    let (last_before,): (i64,) = sqlx::query_as("SELECT COALESCE(max(id), 0) FROM stock_movements")
        .fetch_one(&app.db)
        .await
        .expect("last movement");

    // One batch: the first order gives an egg back, two new orders take
    // eggs and honey.
    let line = |id: Uuid, offer: Uuid, quantity: u32| OrderLine {
        id,
        offer_id: offer,
        participation_id: participation,
        quantity: Quantity::parse(Decimal::from(quantity), "quantity").expect("a quantity"),
        unit_price: Money::from_rounded(dec!(3.00)).expect("a price"),
        vat_rate: VatRate::parse(dec!(5.5), "vat").expect("a rate"),
    };
    let write =
        |kind, order_id, customer: Uuid, number, lines: Vec<OrderLine>, movements| OrderWrite {
            kind,
            order_id,
            distribution_id: d,
            customer_id: customer,
            number,
            written_lines: lines,
            removed_lines: vec![],
            movements,
            idempotency: None,
            at: Utc::now(),
        };
    let (second, third) = (Uuid::new_v4(), Uuid::new_v4());
    let batch = vec![
        write(
            OrderChangeKind::Replace,
            first_id,
            c[0].id,
            1,
            vec![line(first_line, eggs, 1)],
            vec![(eggs, dec!(-1))],
        ),
        write(
            OrderChangeKind::Create,
            second,
            c[1].id,
            2,
            vec![
                line(Uuid::new_v4(), eggs, 3),
                line(Uuid::new_v4(), honey, 1),
            ],
            vec![(eggs, dec!(3)), (honey, dec!(1))],
        ),
        write(
            OrderChangeKind::Create,
            third,
            c[2].id,
            3,
            vec![line(Uuid::new_v4(), honey, 2)],
            vec![(honey, dec!(2))],
        ),
    ];
    let store =
        Store::connect_lazy(&app.database_url, 1, StdDuration::from_secs(10)).expect("store");
    store
        .write_orders(&batch, None)
        .await
        .expect("the batch commits");

    let rows: Vec<BatchRow> = sqlx::query_as(
        "SELECT offer_id, kind, quantity, order_ids, order_id IS NULL AND account_id IS NULL
           FROM stock_movements WHERE offer_id = ANY($1) AND id > $2",
    )
    .bind(vec![eggs, honey])
    .bind(last_before)
    .fetch_all(&app.db)
    .await
    .expect("rows");
    let shape: HashSet<BatchShape> = rows
        .into_iter()
        .map(|(offer, kind, q, ids, no_one)| {
            (
                offer,
                kind,
                q.normalize(),
                ids.into_iter().collect(),
                no_one,
            )
        })
        .collect();
    let expected: HashSet<BatchShape> = [
        (
            eggs,
            "orders".into(),
            dec!(2),
            BTreeSet::from([first_id, second]),
            true,
        ),
        (
            honey,
            "orders".into(),
            dec!(3),
            BTreeSet::from([second, third]),
            true,
        ),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        shape, expected,
        "one row per offer: the moves summed, the orders named"
    );
    assert_audited(app, &[eggs, honey], "after the batch").await;
    engine.stop().await;
}
