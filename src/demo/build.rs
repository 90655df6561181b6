//! The lasting part of the demo — accounts, producers with their members,
//! VAT rates, products, offers, catalogs, markets and links — found or
//! created piece by piece. Each piece is looked up by its natural key (an
//! account's email, a producer's name among those its owner owns, a
//! product's name in its producer, an offer's label in its product…) and
//! created only when missing, so a second run changes nothing, a run cut
//! short is completed by the next one, and what the user changed in the
//! demo (a stock, a price, a catalog's entries) is left as it is.
//!
//! Every value goes through the domain's parsers and the store functions
//! the API uses, so the demo obeys the same rules as data typed by a user.

use std::collections::HashMap;

use rust_decimal::Decimal;
use uuid::Uuid;

use super::data::{self, Catalogs, Person, Vat, Weighing};
use super::DemoError;
use crate::api::accounts::PASSWORD_HASH_MEMORY_KIB;
use crate::api::credentials::hash_password_in_turn;
use crate::domain::account::{Email, Password};
use crate::domain::geo::Coordinates;
use crate::domain::market::{parse_timezone, Weekday, DEFAULT_TIMEZONE};
use crate::domain::money::Money;
use crate::domain::offer::{real_stock, OfferSpec, ProductSpec, RawDecimal, SaleFlags};
use crate::domain::roles::ProducerRole;
use crate::domain::text::{LongText, Name, ShortText};
use crate::domain::vat::VatRate;
use crate::store::catalogs::{CatalogRecord, NewEntry};
use crate::store::markets::{MarketFields, MarketRecord};
use crate::store::offers::OfferSave;
use crate::store::{DbError, Store};

/// An account of the demo.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub id: Uuid,
    pub email: &'static str,
    pub name: &'static str,
}

/// A demo producer as found or created.
#[derive(Debug, Clone)]
pub struct DemoProducer {
    pub id: Uuid,
    pub name: &'static str,
    pub owner: DemoAccount,
    pub collaborator: Option<DemoAccount>,
    /// Its catalog in each market, in [`data::MARKETS`] order.
    pub catalogs: [Uuid; 2],
    /// Offer ids by (product name, offer label).
    pub offers: HashMap<(&'static str, &'static str), Uuid>,
}

/// The lasting part of the demo.
#[derive(Debug, Clone)]
pub struct Setup {
    pub admin: DemoAccount,
    /// Changes producers' legal information (`/plateforme`).
    pub platform_admin: DemoAccount,
    pub customers: Vec<DemoAccount>,
    pub producers: Vec<DemoProducer>,
    /// In [`data::MARKETS`] order.
    pub markets: Vec<MarketRecord>,
}

impl Setup {
    /// The offer `label` of product `product`, whoever sells it.
    pub fn offer(&self, product: &str, label: &str) -> Option<Uuid> {
        self.producers
            .iter()
            .find_map(|p| p.offers.get(&(product, label)).copied())
    }
}

/// Finds or creates everything but the distributions.
pub async fn setup(store: &Store) -> Result<Setup, DemoError> {
    let admin = account(store, &data::ADMIN).await?;
    let mut customers = Vec::new();
    for person in &data::CUSTOMERS {
        customers.push(account(store, person).await?);
    }
    let markets = markets(store, admin.id).await?;
    let mut producers = Vec::new();
    for producer in &data::PRODUCERS {
        producers.push(self::producer(store, producer, &markets).await?);
    }
    let platform_admin = account(store, &data::PLATFORM_ADMIN).await?;
    store.grant_platform_admin(platform_admin.email).await?;
    Ok(Setup {
        admin,
        platform_admin,
        customers,
        producers,
        markets,
    })
}

/// The account of `person`, signed up (argon2 hash) if missing.
async fn account(store: &Store, person: &Person) -> Result<DemoAccount, DemoError> {
    let email = Email::parse(person.email, "email")?;
    let found = |id| DemoAccount {
        id,
        email: person.email,
        name: person.name,
    };
    if let Some(existing) = store.account_by_email(&email).await? {
        return Ok(found(existing.id));
    }
    let name = ShortText::parse(person.name, "name", 100)?;
    let password = Password::parse(data::PASSWORD, "password")?;
    let hash = hash_password_in_turn(password, PASSWORD_HASH_MEMORY_KIB)
        .await
        .map_err(DemoError::Hash)?;
    match store.create_account(&email, name.as_str(), &hash).await {
        Ok(created) => Ok(found(created.id)),
        // Created meanwhile by someone else: use it.
        Err(DbError::Conflict(_)) => match store.account_by_email(&email).await? {
            Some(existing) => Ok(found(existing.id)),
            None => Err(DbError::NotFound.into()),
        },
        Err(e) => Err(e.into()),
    }
}

async fn markets(store: &Store, admin: Uuid) -> Result<Vec<MarketRecord>, DemoError> {
    let existing = store.administered_markets(admin).await?;
    let mut markets = Vec::new();
    for market in &data::MARKETS {
        if let Some(found) = existing.iter().find(|m| m.name == market.name) {
            markets.push(found.clone());
            continue;
        }
        let at = Coordinates::parse(market.lat, market.lng)?;
        let fields = MarketFields {
            name: Name::parse(market.name, "name")?.as_str().to_owned(),
            address: ShortText::parse(market.address, "place.address", 500)?.into_string(),
            lat: at.lat(),
            lng: at.lng(),
            usual_weekday: Some(Weekday::from_iso(market.weekday.into(), "usual_weekday")?.iso()),
            online_payment: market.online_payment,
            timezone: parse_timezone(DEFAULT_TIMEZONE, "timezone")?
                .name()
                .to_owned(),
            fee_rate: Decimal::ZERO,
        };
        markets.push(store.create_market(admin, &fields).await?);
    }
    Ok(markets)
}

async fn producer(
    store: &Store,
    producer: &'static data::Producer,
    markets: &[MarketRecord],
) -> Result<DemoProducer, DemoError> {
    let owner = account(store, &producer.owner).await?;
    let existing = store.owned_producers(owner.id).await?;
    let record = match existing.iter().find(|p| p.name == producer.name) {
        Some(found) => found.clone(),
        None => {
            let name = ShortText::parse(producer.name, "name", 100)?;
            let description = ShortText::parse(producer.description, "description", 2000)?;
            store
                .create_producer(owner.id, name.as_str(), Some(description.as_str()))
                .await?
        }
    };
    let collaborator = match &producer.collaborator {
        Some(person) => {
            let member = account(store, person).await?;
            let members = store.producer_members(record.id).await?;
            if !members.iter().any(|m| m.account_id == member.id) {
                match store
                    .add_producer_member(record.id, member.id, ProducerRole::Collaborator)
                    .await
                {
                    Ok(()) | Err(DbError::Conflict(_)) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Some(member)
        }
        None => None,
    };
    let rates = vat_rates(store, record.id).await?;
    let mut offers = HashMap::new();
    let mut in_order = Vec::new();
    for product in producer.products {
        for (label, id) in product_offers(store, record.id, owner.id, product, &rates).await? {
            offers.insert((product.name, label), id);
            in_order.push((label, id));
        }
    }
    let catalogs = catalogs(store, record.id, &producer.catalogs, &in_order).await?;
    for (market, catalog) in markets.iter().zip(catalogs) {
        link(store, market.id, catalog).await?;
    }
    Ok(DemoProducer {
        id: record.id,
        name: producer.name,
        owner,
        collaborator,
        catalogs,
        offers,
    })
}

async fn vat_rates(store: &Store, producer_id: Uuid) -> Result<HashMap<Vat, Uuid>, DemoError> {
    let existing = store.vat_rates(producer_id).await?;
    let mut rates = HashMap::new();
    for (vat, name, percent) in data::VAT_RATES {
        let id = match existing.iter().find(|r| r.name == name) {
            Some(found) => found.id,
            None => {
                let name = ShortText::parse(name, "name", 100)?;
                let rate = VatRate::parse_str(percent, "rate")?;
                store.create_vat_rate(producer_id, &name, rate).await?.id
            }
        };
        rates.insert(vat, id);
    }
    Ok(rates)
}

fn product_spec(product: &data::Product) -> Result<ProductSpec, DemoError> {
    let (variable_price, multi_weight) = match product.weighing {
        Weighing::Fixed => (false, false),
        Weighing::Variable => (true, false),
        Weighing::MultiWeight => (true, true),
    };
    // Pieces are whole units: a lamb leg or a chicken is not sold by halves.
    let flags = SaleFlags::parse(variable_price, multi_weight, Some(false))
        .map_err(|errors| DemoError::from_fields(&errors))?;
    let description = LongText::parse(product.description, "description", 2000)?;
    Ok(ProductSpec {
        name: Name::parse(product.name, "name")?,
        unit: ShortText::parse(product.unit, "unit", 32)?,
        category: ShortText::parse(product.category, "category", 100)?,
        description: (!description.is_empty()).then_some(description),
        photo_url: None,
        organic: product.organic,
        active: true,
        flags,
    })
}

/// The product's offers (created if missing), in data order.
async fn product_offers(
    store: &Store,
    producer_id: Uuid,
    owner: Uuid,
    product: &'static data::Product,
    rates: &HashMap<Vat, Uuid>,
) -> Result<Vec<(&'static str, Uuid)>, DemoError> {
    let existing = store.products(producer_id).await?;
    let record = match existing.iter().find(|p| p.name == product.name) {
        Some(found) => found.clone(),
        None => {
            store
                .create_product(producer_id, &product_spec(product)?)
                .await?
        }
    };
    let existing = store.offers_of_product(record.id).await?;
    let mut offers = Vec::new();
    for offer in product.offers {
        if let Some(found) = existing.iter().find(|o| o.label == offer.label) {
            offers.push((offer.label, found.id));
            continue;
        }
        let spec = OfferSpec::parse(
            offer.label,
            &RawDecimal::Text(offer.quantity.to_owned()),
            offer.unit,
            &RawDecimal::Text(offer.price.to_owned()),
            None,
        )
        .map_err(|errors| DemoError::from_fields(&errors))?;
        let stock = match offer.stock {
            Some(text) => {
                let value = RawDecimal::Text(text.to_owned()).parse("stock.real")?;
                Some(real_stock(value, record.fractional, "stock.real")?)
            }
            None => None,
        };
        let vat = rates
            .get(&offer.vat)
            .copied()
            .ok_or_else(|| DemoError::Data("a demo VAT rate is missing".into()))?;
        match store
            .create_offer(record.id, &spec, vat, stock, Some(owner))
            .await?
        {
            OfferSave::Saved { offer: created, .. } => offers.push((offer.label, created.id)),
            OfferSave::ForeignVatRate | OfferSave::NotFound => {
                return Err(DemoError::Data(format!(
                    "offer `{}` of `{}` could not be created",
                    offer.label, product.name
                )))
            }
        }
    }
    Ok(offers)
}

/// The producer's catalog for each market (one shared, or one per market).
async fn catalogs(
    store: &Store,
    producer_id: Uuid,
    plan: &Catalogs,
    offers: &[(&'static str, Uuid)],
) -> Result<[Uuid; 2], DemoError> {
    let existing = store.producer_catalogs(producer_id).await?;
    let entries = |override_of: Option<(&str, Decimal)>| -> Vec<NewEntry> {
        offers
            .iter()
            .map(|(label, id)| NewEntry {
                offer_id: *id,
                price_override: override_of
                    .filter(|(overridden, _)| overridden == label)
                    .map(|(_, price)| price),
            })
            .collect()
    };
    match plan {
        Catalogs::Shared(name) => {
            let id = catalog(store, producer_id, &existing, name, &entries(None)).await?;
            Ok([id, id])
        }
        Catalogs::PerMarket([first, second], (label, price)) => {
            let price = Money::parse_str(price, "price")?.amount();
            let first = catalog(store, producer_id, &existing, first, &entries(None)).await?;
            let overridden = entries(Some((label, price)));
            let second = catalog(store, producer_id, &existing, second, &overridden).await?;
            Ok([first, second])
        }
    }
}

/// The producer's catalog named `name`, created with `entries` if missing.
async fn catalog(
    store: &Store,
    producer_id: Uuid,
    existing: &[CatalogRecord],
    name: &str,
    entries: &[NewEntry],
) -> Result<Uuid, DemoError> {
    let name = ShortText::parse(name, "name", 100)?;
    match existing.iter().find(|c| c.name == name.as_str()) {
        Some(found) => Ok(found.id),
        None => Ok(store
            .create_catalog(producer_id, name.as_str(), entries)
            .await?
            .id),
    }
}

/// Links a catalog to a market unless it already is.
async fn link(store: &Store, market_id: Uuid, catalog_id: Uuid) -> Result<(), DemoError> {
    let linked = store
        .market_catalog_links(market_id, Some(catalog_id))
        .await?;
    if linked.is_empty() {
        match store.link_catalog(market_id, catalog_id).await {
            Ok(()) | Err(DbError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
