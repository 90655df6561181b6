//! The catalog form (`catalogs.rs`): the offer rows to tick, each with
//! an optional catalog price; reading what was posted (every wrong price
//! named by its offer) and keeping only the producer's own active offers.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::form::{decimal_input, french};
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{FormState, InProducer, PageError};
use crate::domain::money::Money;
use crate::domain::text::Name;
use crate::store::catalogs::NewEntry;

/// One offer row of the catalog form.
pub struct OfferChoice {
    pub id: Uuid,
    pub product: String,
    pub label: String,
    pub amount: String,
    pub price: String,
    pub selected: bool,
    /// The catalog price as typed.
    pub override_price: String,
    pub error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CatalogForm {
    name: String,
    /// The ticked offers.
    offer: Vec<String>,
    /// Every offer row, in order, with its catalog price (same order).
    row: Vec<String>,
    price: Vec<String>,
}

/// The offer rows: every active offer of the producer, ticked and priced
/// as `selected` says (offer id → typed catalog price).
pub async fn choices(
    state: &AppState,
    space: &InProducer,
    selected: &HashMap<Uuid, String>,
    errors: &HashMap<Uuid, String>,
) -> Result<Vec<OfferChoice>, PageError> {
    Ok(state
        .store
        .selectable_offers(space.producer.id)
        .await?
        .into_iter()
        .map(|o| OfferChoice {
            selected: selected.contains_key(&o.offer_id),
            override_price: selected.get(&o.offer_id).cloned().unwrap_or_default(),
            error: errors.get(&o.offer_id).cloned(),
            id: o.offer_id,
            product: o.product_name,
            label: o.label,
            amount: format!("{} {}", fr::quantity(o.quantity), o.unit),
            price: fr::money(o.price),
        })
        .collect())
}

/// The catalog form read: its name, the entries, and what to show again.
pub struct Parsed {
    pub name: Option<Name>,
    pub entries: Vec<NewEntry>,
    pub form: FormState,
    pub selected: HashMap<Uuid, String>,
    pub errors: HashMap<Uuid, String>,
}

pub fn parse(input: &CatalogForm) -> Parsed {
    let mut form = FormState::new().with("name", input.name.trim());
    let name = form.check(Name::parse(&input.name, "name"));
    let ticked: HashSet<Uuid> = input
        .offer
        .iter()
        .filter_map(|id| id.parse().ok())
        .collect();
    let mut selected = HashMap::new();
    let mut errors = HashMap::new();
    let mut entries = Vec::new();
    for (row, typed) in input.row.iter().zip(input.price.iter()) {
        let Ok(offer_id) = row.parse::<Uuid>() else {
            continue;
        };
        if !ticked.contains(&offer_id) {
            continue;
        }
        selected.insert(offer_id, typed.trim().to_owned());
        let price_override = match typed.trim() {
            "" => None,
            text => match Money::parse_str(&decimal_input(text), "price") {
                Ok(money) => Some(Decimal::from(money)),
                Err(e) => {
                    errors.insert(offer_id, french(&e.reason));
                    continue;
                }
            },
        };
        entries.push(NewEntry {
            offer_id,
            price_override,
        });
    }
    if !errors.is_empty() {
        form.refuse("form", "Un prix du catalogue est à corriger.");
    }
    Parsed {
        name,
        entries,
        form,
        selected,
        errors,
    }
}

/// Keeps only the producer's own active offers (a forged id is dropped).
pub async fn own_entries(
    state: &AppState,
    space: &InProducer,
    entries: Vec<NewEntry>,
) -> Result<Vec<NewEntry>, PageError> {
    let ids: Vec<Uuid> = entries.iter().map(|e| e.offer_id).collect();
    let own: HashSet<Uuid> = state
        .store
        .offer_owners(&ids)
        .await?
        .into_iter()
        .filter(|o| o.producer_id == space.producer.id && o.active)
        .map(|o| o.id)
        .collect();
    Ok(entries
        .into_iter()
        .filter(|e| own.contains(&e.offer_id))
        .collect())
}
