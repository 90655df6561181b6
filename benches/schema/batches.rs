//! The rows an order writes, as the order writer gets them: batches of
//! [`OrderWrite`]s of two shapes.
//!
//! - **add**: each order adds a unit to its customer's one-line order — what
//!   every order after a customer's first is in `loadtest --preset hot`
//!   (posting again merges into the line): the order's `updated_at`, the
//!   line's new quantity (upsert), the stock audit, the idempotency answer;
//! - **new**: a new one-line order: the order, its line, the stock audit,
//!   the idempotency answer.

use chrono::Utc;
use etal::domain::money::Money;
use etal::domain::order::{OrderChangeKind, OrderLine, OrderStatus, OrderView};
use etal::domain::quantity::Quantity;
use etal::domain::vat::VatRate;
use etal::store::order_writes::{IdempotencyRecord, OrderWrite};
use etal::store::Store;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::fixture::Fixture;

/// A customer's one-line order that `add` orders grow.
struct Standing {
    customer: Uuid,
    order_id: Uuid,
    line_id: Uuid,
    number: i32,
    quantity: u32,
}

/// Makes batches for one sale.
pub struct Batches {
    offer: Uuid,
    distribution: Uuid,
    participation: Uuid,
    standing: Vec<Standing>,
    next_standing: usize,
    fresh: Vec<Uuid>,
    next_fresh: usize,
    next_number: i32,
}

impl Batches {
    /// `add_pool` customers of the fixture get a standing order (written
    /// now); the others order anew.
    pub async fn prepare(store: &Store, f: &Fixture, add_pool: usize) -> Self {
        let (pool, fresh) = f.customers.split_at(add_pool.min(f.customers.len()));
        let mut batches = Self {
            offer: f.offer,
            distribution: f.distribution,
            participation: f.participation,
            standing: Vec::new(),
            next_standing: 0,
            fresh: pool.to_vec(),
            next_fresh: 0,
            next_number: 1,
        };
        let first = batches.new_batch(pool.len());
        for chunk in first.chunks(256) {
            store
                .write_orders(chunk, None)
                .await
                .expect("standing orders");
        }
        batches.standing = first
            .iter()
            .map(|w| Standing {
                customer: w.customer_id,
                order_id: w.order_id,
                line_id: w.written_lines[0].id,
                number: w.number,
                quantity: 1,
            })
            .collect();
        batches.fresh = fresh.to_vec();
        batches.next_fresh = 0;
        batches
    }

    fn line(&self, id: Uuid, quantity: u32) -> OrderLine {
        OrderLine {
            id,
            offer_id: self.offer,
            participation_id: self.participation,
            quantity: Quantity::parse(Decimal::from(quantity), "quantity").expect("a quantity"),
            unit_price: Money::from_rounded(Decimal::new(1200, 2)).expect("a price"),
            vat_rate: VatRate::parse(Decimal::new(55, 1), "vat").expect("a rate"),
        }
    }

    fn write(
        &self,
        kind: OrderChangeKind,
        customer: Uuid,
        order_id: Uuid,
        number: i32,
        line: OrderLine,
    ) -> OrderWrite {
        let answer = OrderView::new(
            order_id,
            number,
            self.distribution,
            OrderStatus::Confirmed,
            std::slice::from_ref(&line),
        );
        let key = Uuid::new_v4();
        OrderWrite {
            kind,
            order_id,
            distribution_id: self.distribution,
            customer_id: customer,
            number,
            written_lines: vec![line],
            removed_lines: Vec::new(),
            movements: vec![(self.offer, Decimal::ONE)],
            idempotency: Some(IdempotencyRecord {
                account_id: customer,
                key: key.to_string(),
                request_hash: [key.as_bytes().as_slice(), key.as_bytes()].concat(),
                answer,
            }),
            at: Utc::now(),
        }
    }

    /// `size` new one-line orders of customers who have none.
    pub fn new_batch(&mut self, size: usize) -> Vec<OrderWrite> {
        let end = (self.next_fresh + size).min(self.fresh.len());
        let customers: Vec<Uuid> = self.fresh[self.next_fresh..end].to_vec();
        self.next_fresh = end;
        customers
            .into_iter()
            .map(|customer| {
                let number = self.next_number;
                self.next_number += 1;
                let line = self.line(Uuid::new_v4(), 1);
                self.write(
                    OrderChangeKind::Create,
                    customer,
                    Uuid::new_v4(),
                    number,
                    line,
                )
            })
            .collect()
    }

    /// `size` orders each adding a unit to a standing order (the standing
    /// orders taken in turn, none twice in a batch).
    pub fn add_batch(&mut self, size: usize) -> Vec<OrderWrite> {
        let size = size.min(self.standing.len());
        (0..size)
            .map(|_| {
                let i = self.next_standing;
                self.next_standing = (i + 1) % self.standing.len();
                self.standing[i].quantity += 1;
                let s = &self.standing[i];
                let (customer, order_id, number, line) = (
                    s.customer,
                    s.order_id,
                    s.number,
                    self.line(s.line_id, s.quantity),
                );
                self.write(OrderChangeKind::Replace, customer, order_id, number, line)
            })
            .collect()
    }
}
