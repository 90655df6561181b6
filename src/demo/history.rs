//! Last week's market day at the Croix-Rousse (its last Thursday), so every after-sale page
//! has something to show: orders collected, lines weighed (the farm
//! chickens piece by piece, a lamb leg), a quantity changed by the
//! producer with its notice to the customer, the distribution validated by
//! its referent and each producer's payout with its dates; and a few
//! messages between producers, customers and the markets' admin.
//!
//! The engine only takes orders in a sale open *now*, so last week's
//! orders are written with the order writer's own store function
//! (`write_orders`) at the prices of the frozen snapshot — as the engine
//! would have written them then. Everything after the sale (weighing, the
//! producer's change, validation) goes through the engine and store
//! functions the pages use. Done once: a validated past distribution of
//! the demo's first market means it is there.

use chrono::{DateTime, Datelike, Duration, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::build::Setup;
use super::data;
use super::DemoError;
use crate::domain::order::OrderChangeKind;
use crate::domain::order::OrderLine;
use crate::domain::quantity::{Quantity, StockLevel};
use crate::domain::schedule::resolve_local;
use crate::domain::window::DistributionTimes;
use crate::engine::after_sale::LineChange;
use crate::engine::Engine;
use crate::store::messages::NewMessage;
use crate::store::order_writes::OrderWrite;
use crate::store::participations::NewParticipation;

/// Last week's orders: customer index, lines (product, offer, quantity).
const PAST_ORDERS: [(usize, &[data::OrderLine]); 3] = [
    (
        0,
        &[
            ("Pommes de terre", "Vrac", "3"),
            ("Poulet fermier", "Poulet entier (env. 1,8 kg)", "2"),
            ("Pain de campagne au levain", "Miche", "1"),
        ],
    ),
    (
        1,
        &[
            ("Pommes de terre", "Sac", "2"),
            ("Gigot d'agneau", "Gigot (env. 1,2 kg)", "1"),
            ("Saint-Marcellin", "Pièce", "3"),
        ],
    ),
    (
        2,
        &[
            ("Œufs plein air", "Boîte de 12", "1"),
            ("Poulet fermier", "Poulet entier (env. 1,8 kg)", "1"),
            ("Baguette tradition", "Pièce", "2"),
        ],
    ),
];

/// Weights of the weighed lines, in the order they come (kg).
const WEIGHTS: [&str; 4] = ["1.85", "2.1", "1.34", "1.72"];

/// The demo's messages: (customer index or `None` for a producer's owner
/// by producer index, market index, text, the admin's answer).
const MESSAGES: [(Option<usize>, usize, usize, &str, &str); 2] = [
    (
        Some(2),
        0,
        0,
        "Bonjour, je ne pourrai arriver qu'à 19 h 20 jeudi : est-ce encore possible de retirer ma commande ?",
        "Bonjour Camille, oui, nous rangeons à 19 h 30 : votre panier vous attendra.",
    ),
    (
        None,
        3,
        1,
        "Bonjour Claire, cet été j'aurai aussi des poulets le samedi : puis-je les proposer à Villeurbanne ?",
        "Avec plaisir ! Ajoutez-les à votre catalogue du marché, je préviens les clients.",
    ),
];

/// Makes sure last week's distribution and the messages are there.
pub async fn ensure(engine: &Engine, setup: &Setup) -> Result<(), DemoError> {
    let store = engine.store();
    let now = engine.clock().now();
    let market = setup
        .markets
        .first()
        .ok_or_else(|| DemoError::Data("a demo market is missing".into()))?;
    let already = store
        .market_distributions(market.id, now - Duration::days(60), Some(now), true, 500)
        .await?
        .into_iter()
        .any(|d| d.validated_at.is_some());
    if !already {
        past_distribution(engine, setup, market.id, now).await?;
    }
    messages(engine, setup, now).await
}

async fn past_distribution(
    engine: &Engine,
    setup: &Setup,
    market_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DemoError> {
    let store = engine.store();
    // The market's last Thursday at least three days ago, 17:00–19:30
    // Paris time; orders from the Thursday before, 8:00, to the eve, 20:00.
    let paris = chrono_tz::Europe::Paris;
    let mut day = (now - Duration::days(3)).with_timezone(&paris).date_naive();
    while day.weekday() != chrono::Weekday::Thu {
        day = day.pred_opt().unwrap_or(day);
    }
    let at = |date: chrono::NaiveDate, h: u32, m: u32| {
        date.and_hms_opt(h, m, 0)
            .map(|local| resolve_local(paris, local))
            .ok_or_else(|| DemoError::Data("no past market day".into()))
    };
    let times = DistributionTimes::parse(
        at(day, 17, 0)?,
        at(day, 19, 30)?,
        at(day - Duration::days(7), 8, 0)?,
        at(day - Duration::days(1), 20, 0)?,
    )?;
    let record = store
        .create_distributions(market_id, None, &[times], None)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| DemoError::Data("no distribution was created".into()))?;
    let items: Vec<NewParticipation> = setup
        .producers
        .iter()
        .map(|p| NewParticipation {
            distribution_id: record.id,
            catalog_id: p.catalogs[0],
            opens_override: None,
            closes_override: None,
        })
        .collect();
    let participations = store.create_participations(&items).await?;
    let ids: Vec<Uuid> = participations.iter().map(|p| p.id).collect();
    for id in &ids {
        store.freeze_snapshot(*id, record.orders_open_at).await?;
    }
    let offers = store.frozen_offers(&ids).await?;
    // Each producer's stock before last week's sale, recounted after it.
    let mut before = Vec::new();
    for offer in &offers {
        if let Some(stock) = store.offer_stock(offer.offer_id).await? {
            if stock.tracked && !before.iter().any(|(id, _)| *id == offer.offer_id) {
                before.push((offer.offer_id, stock.real));
            }
        }
    }
    let mut writes = Vec::new();
    for (number, (customer, lines)) in PAST_ORDERS.iter().enumerate() {
        let account = setup
            .customers
            .get(*customer)
            .ok_or_else(|| DemoError::Data("a demo customer is missing".into()))?;
        let mut order_lines = Vec::new();
        let mut movements = Vec::new();
        for (product, label, quantity) in lines.iter() {
            let offer_id = setup.offer(product, label).ok_or_else(|| {
                DemoError::Data(format!("no demo offer `{label}` of `{product}`"))
            })?;
            let sold = offers
                .iter()
                .find(|o| o.offer_id == offer_id)
                .ok_or_else(|| DemoError::Data(format!("`{product}` is not in the sale")))?;
            let quantity = Quantity::parse_str(quantity, "quantity")?.value();
            let pieces = if sold.product.multi_weight {
                vec![Quantity::parse(Decimal::ONE, "quantity")?; quantity.try_into().unwrap_or(1)]
            } else {
                vec![Quantity::parse(quantity, "quantity")?]
            };
            for piece in pieces {
                order_lines.push(OrderLine {
                    id: Uuid::new_v4(),
                    offer_id,
                    participation_id: sold.participation_id,
                    quantity: piece,
                    unit_price: sold.price,
                    vat_rate: sold.vat_rate,
                });
            }
            movements.push((offer_id, quantity));
        }
        writes.push(OrderWrite {
            kind: OrderChangeKind::Create,
            order_id: Uuid::new_v4(),
            distribution_id: record.id,
            customer_id: account.id,
            number: i32::try_from(number + 1).unwrap_or(1),
            written_lines: order_lines,
            removed_lines: Vec::new(),
            movements,
            idempotency: None,
            at: record.orders_open_at + Duration::hours(2 + number as i64),
        });
    }
    // Seeding, not ordering: no lease epoch to check (as a single engine).
    store.write_orders(&writes, None).await?;
    after_sale(engine, setup, record.id, &writes).await?;
    engine.settle_delivery(record.id, now).await?;
    store
        .validate_distribution(record.id, setup.admin.id, now - Duration::days(1))
        .await?
        .map_err(|refusal| DemoError::Data(format!("validation refused: {refusal:?}")))?;
    for (offer_id, real) in before {
        let level = StockLevel::parse(real, "real")?;
        let stock = store
            .set_offer_stock(offer_id, true, Some(level), None)
            .await?;
        engine.stock_changed(stock.offer_id, stock.tracked, level);
    }
    Ok(())
}

/// The producers weigh their lines, one changes a quantity.
async fn after_sale(
    engine: &Engine,
    setup: &Setup,
    distribution_id: Uuid,
    writes: &[OrderWrite],
) -> Result<(), DemoError> {
    let store = engine.store();
    let line_ids: Vec<Uuid> = writes
        .iter()
        .flat_map(|w| w.written_lines.iter().map(|l| l.id))
        .collect();
    let contexts = store.line_contexts(distribution_id, &line_ids).await?;
    let mut weights = WEIGHTS.iter();
    for producer in &setup.producers {
        let entries: Vec<(Uuid, Decimal)> = contexts
            .iter()
            .filter(|c| c.producer_id == producer.id && c.variable_price)
            .filter_map(|c| {
                let w = weights.next()?;
                Some((c.line_id, Quantity::parse_str(w, "weight").ok()?.value()))
            })
            .collect();
        if entries.is_empty() {
            continue;
        }
        engine
            .weigh_lines(distribution_id, producer.owner.id, &[producer.id], &entries)
            .await
            .map_err(|e| DemoError::Data(format!("demo weighing refused: {e:?}")))?;
    }
    // Hugo's second bag of potatoes was not there: the farm told him.
    let bags = setup.offer("Pommes de terre", "Sac");
    if let Some(ctx) = contexts
        .iter()
        .find(|c| Some(c.offer_id) == bags && c.quantity > Decimal::ONE)
    {
        let by = setup
            .producers
            .iter()
            .find(|p| p.id == ctx.producer_id)
            .map_or(setup.admin.id, |p| p.owner.id);
        engine
            .change_line(
                ctx,
                by,
                LineChange {
                    quantity: Some(Decimal::ONE),
                    weight: None,
                    reason: Some("La grêle a abîmé une partie de la récolte : un seul sac.".into()),
                },
            )
            .await
            .map_err(|e| DemoError::Data(format!("demo change refused: {e:?}")))?;
    }
    Ok(())
}

/// A customer's and a producer's conversations with the markets' admin.
async fn messages(engine: &Engine, setup: &Setup, now: DateTime<Utc>) -> Result<(), DemoError> {
    let store = engine.store();
    for (i, (customer, producer, market, text, answer)) in MESSAGES.iter().enumerate() {
        let (correspondent, producer_id) = match customer {
            Some(c) => (setup.customers.get(*c).map(|a| a.id), None),
            None => (
                setup.producers.get(*producer).map(|p| p.owner.id),
                setup.producers.get(*producer).map(|p| p.id),
            ),
        };
        let (Some(correspondent), Some(market)) = (correspondent, setup.markets.get(*market))
        else {
            continue;
        };
        if !store
            .conversation(market.id, correspondent)
            .await?
            .is_empty()
        {
            continue;
        }
        let at = now - Duration::days(3) + Duration::hours(i as i64);
        for (from_admin, body, when) in
            [(false, *text, at), (true, *answer, at + Duration::hours(2))]
        {
            store
                .send_message(
                    &NewMessage {
                        market_id: market.id,
                        correspondent_id: correspondent,
                        author_id: if from_admin {
                            setup.admin.id
                        } else {
                            correspondent
                        },
                        from_admin,
                        producer_id,
                        catalog_id: None,
                        body: body.to_owned(),
                        at: when,
                    },
                    &[],
                )
                .await?;
        }
    }
    Ok(())
}
