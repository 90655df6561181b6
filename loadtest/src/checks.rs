//! The correctness checks run after every run, as pure functions over what
//! the tester recorded and what the database holds (fetched by
//! [`crate::dbview`]). A failed check fails the run (exit code 1); the
//! count of orders nobody acknowledged is reported without failing it
//! (requests that got no answer may legitimately have committed).

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use crate::record::AckedOrder;
use crate::watchers::{UNKNOWN, UNLIMITED};

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    /// The figure checked (oversold units, missing orders …).
    pub value: i64,
    /// Whether a failure fails the run.
    pub gating: bool,
    pub detail: String,
}

/// An offer as the database sees it after the run (milli-units).
#[derive(Debug, Clone, PartialEq)]
pub struct OfferSold {
    pub offer_id: Uuid,
    /// `None`: unlimited.
    pub stock: Option<i64>,
    pub sold: i64,
}

/// An order as the database holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct DbOrder {
    pub cancelled: bool,
    /// Offer index → milli-units, sorted.
    pub lines: Vec<(u32, i64)>,
}

fn units(milli: i64) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{:.3}", milli as f64 / 1000.0)
    }
}

/// Units sold beyond stock, summed over offers: must be 0.
pub fn oversold(offers: &[OfferSold]) -> Check {
    let over: Vec<&OfferSold> = offers
        .iter()
        .filter(|o| o.stock.is_some_and(|s| o.sold > s))
        .collect();
    let total: i64 = over
        .iter()
        .map(|o| o.sold - o.stock.unwrap_or(o.sold))
        .sum();
    let detail = if over.is_empty() {
        format!("{} offers, units sold <= stock for each", offers.len())
    } else {
        over.iter()
            .take(5)
            .map(|o| {
                format!(
                    "offer {}: sold {} of {}",
                    o.offer_id,
                    units(o.sold),
                    units(o.stock.unwrap_or(0))
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    Check {
        name: "oversold_units".into(),
        passed: over.is_empty(),
        value: total / 1000,
        gating: true,
        detail,
    }
}

/// Acknowledged orders whose acknowledged state the database does not hold
/// (absent, or other lines/status), among those whose state is certain.
pub fn acknowledged_missing(
    acked: &HashMap<Uuid, AckedOrder>,
    db: &HashMap<Uuid, DbOrder>,
) -> Check {
    let mut absent = 0;
    let mut differs = 0;
    let mut uncertain = 0;
    let mut examples = Vec::new();
    for (id, ack) in acked {
        match db.get(id) {
            None => {
                absent += 1;
                if examples.len() < 3 {
                    examples.push(format!("{id} absent"));
                }
            }
            Some(_) if !ack.certain => uncertain += 1,
            Some(row) => {
                let same =
                    row.cancelled == ack.cancelled && (ack.cancelled || row.lines == ack.lines);
                if !same {
                    differs += 1;
                    if examples.len() < 3 {
                        examples.push(format!("{id} differs"));
                    }
                }
            }
        }
    }
    let lost = absent + differs;
    let mut detail = format!(
        "{} acknowledged orders: {absent} absent, {differs} not in their acknowledged state",
        acked.len()
    );
    if uncertain > 0 {
        detail.push_str(&format!(
            ", {uncertain} not compared (a later request of their customer got no answer)"
        ));
    }
    if !examples.is_empty() {
        detail.push_str(&format!(" — {}", examples.join(", ")));
    }
    Check {
        name: "acknowledged_missing".into(),
        passed: lost == 0,
        value: lost,
        gating: true,
        detail,
    }
}

/// Orders in the database nobody acknowledged (reported, not failing).
pub fn unacknowledged(acked: &HashMap<Uuid, AckedOrder>, db: &HashMap<Uuid, DbOrder>) -> Check {
    let count = db.keys().filter(|id| !acked.contains_key(id)).count() as i64;
    Check {
        name: "unacknowledged_in_db".into(),
        passed: true,
        value: count,
        gating: false,
        detail: format!(
            "{count} orders in the database were never acknowledged (requests without answer)"
        ),
    }
}

/// Every watcher connected at the end has, for every limited offer, the
/// database's availability (`db_available[offer]`, `None` = unlimited).
/// `ever_connected` tells a run whose watchers never connected from one
/// whose watchers were lost on the way.
pub fn watchers_final(
    db_available: &[Option<i64>],
    watchers: &[Vec<i64>],
    asked: usize,
    ever_connected: usize,
) -> Check {
    let name = "watchers_final_availability".to_string();
    if asked == 0 {
        return Check {
            name,
            passed: true,
            value: 0,
            gating: false,
            detail: "no watchers asked for".into(),
        };
    }
    if watchers.is_empty() {
        return Check {
            name,
            passed: false,
            value: asked as i64,
            gating: true,
            detail: if ever_connected == 0 {
                format!("none of the {asked} watchers could connect")
            } else {
                format!(
                    "no watcher was connected at the end: {ever_connected} of {asked} had \
                     connected, then lost the connection and could not get it back"
                )
            },
        };
    }
    let mut wrong = 0i64;
    let mut example = None;
    for (w, values) in watchers.iter().enumerate() {
        for (offer, db) in db_available.iter().enumerate() {
            let seen = values.get(offer).copied().unwrap_or(UNKNOWN);
            let expected = db.unwrap_or(UNLIMITED);
            if seen != expected {
                wrong += 1;
                if example.is_none() {
                    let show = |v: i64| match v {
                        UNKNOWN => "nothing".to_string(),
                        UNLIMITED => "unlimited".to_string(),
                        v => units(v),
                    };
                    example = Some(format!(
                        "watcher {w}, offer #{offer}: saw {}, database {}",
                        show(seen),
                        show(expected)
                    ));
                }
            }
        }
    }
    Check {
        name,
        passed: wrong == 0,
        value: wrong,
        gating: true,
        detail: match example {
            None => format!(
                "{} watchers x {} offers agree with the database",
                watchers.len(),
                db_available.len()
            ),
            Some(e) => format!("{wrong} (watcher, offer) values differ — {e}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(stock: Option<i64>, sold: i64) -> OfferSold {
        OfferSold {
            offer_id: Uuid::new_v4(),
            stock,
            sold,
        }
    }

    #[test]
    fn an_oversold_offer_fails_the_check() {
        let check = oversold(&[offer(Some(10_000), 10_000), offer(Some(5_000), 7_000)]);
        assert!(!check.passed);
        assert_eq!(check.value, 2);
        assert!(check.gating);
        assert!(check.detail.contains("sold 7 of 5"), "{}", check.detail);
        assert!(oversold(&[offer(Some(10_000), 10_000), offer(None, 99_000)]).passed);
    }

    fn acked(lines: Vec<(u32, i64)>, cancelled: bool, certain: bool) -> AckedOrder {
        AckedOrder {
            lines,
            cancelled,
            certain,
        }
    }

    #[test]
    fn acknowledged_orders_must_be_in_the_database_as_acknowledged() {
        let (a, b, c, d) = (
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
            Uuid::new_v4(),
        );
        let mut ack = HashMap::new();
        ack.insert(a, acked(vec![(0, 1000)], false, true));
        ack.insert(b, acked(vec![(0, 2000)], false, true));
        ack.insert(c, acked(vec![(0, 1000)], true, true));
        let mut db = HashMap::new();
        db.insert(
            a,
            DbOrder {
                cancelled: false,
                lines: vec![(0, 1000)],
            },
        );
        db.insert(
            b,
            DbOrder {
                cancelled: false,
                lines: vec![(0, 2000)],
            },
        );
        db.insert(
            c,
            DbOrder {
                cancelled: true,
                lines: vec![(0, 1000)],
            },
        );
        db.insert(
            d,
            DbOrder {
                cancelled: false,
                lines: vec![(0, 1000)],
            },
        );
        assert!(acknowledged_missing(&ack, &db).passed);
        let extra = unacknowledged(&ack, &db);
        assert_eq!((extra.value, extra.passed, extra.gating), (1, true, false));

        db.remove(&a);
        db.insert(
            b,
            DbOrder {
                cancelled: false,
                lines: vec![(0, 1000)],
            },
        );
        let check = acknowledged_missing(&ack, &db);
        assert!(!check.passed);
        assert_eq!(check.value, 2, "{}", check.detail);

        // An uncertain order is not compared, but must still exist.
        ack.insert(b, acked(vec![(0, 2000)], false, false));
        assert_eq!(acknowledged_missing(&ack, &db).value, 1);
    }

    #[test]
    fn watchers_must_end_on_the_database_value() {
        let db = [Some(3_000), None];
        assert!(watchers_final(&db, &[vec![3_000, UNLIMITED]], 1, 1).passed);
        let stale = watchers_final(&db, &[vec![3_000, UNLIMITED], vec![4_000, UNLIMITED]], 2, 2);
        assert!(!stale.passed);
        assert_eq!(stale.value, 1);
        assert!(
            stale.detail.contains("saw 4, database 3"),
            "{}",
            stale.detail
        );
        let never = watchers_final(&db, &[], 5, 0);
        assert!(!never.passed, "asked but none connected");
        assert_eq!(never.detail, "none of the 5 watchers could connect");
        // Connected, then lost (an engine restart they could not survive):
        // the message says so, not that they never connected.
        let lost = watchers_final(&db, &[], 8, 8);
        assert!(!lost.passed);
        assert!(
            lost.detail.contains("8 of 8 had connected"),
            "{}",
            lost.detail
        );
        assert!(watchers_final(&db, &[], 0, 0).passed, "none asked");
    }
}
