//! A product's page, shared by the product form (`products.rs`) and the
//! offer forms (`offers.rs`): finding the space's own product, the page's
//! template with the product form and its offers (prices incl. and excl.
//! VAT), and rendering it again with a form's errors.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;
use uuid::Uuid;

use crate::api::state::AppState;
use crate::api::webapp::kit::fr;
use crate::api::webapp::kit::{Chrome, FormState, InProducer, PageError, ProducerTab};
use crate::domain::money::Money;
use crate::domain::offer::OfferPrice;
use crate::domain::vat::VatRate;
use crate::store::products::ProductRecord;

/// An offer as its product's page shows it.
pub struct OfferLine {
    pub id: Uuid,
    pub label: String,
    /// `10 kg`.
    pub amount: String,
    pub price: String,
    pub price_excl_vat: String,
    pub vat: String,
    pub active: bool,
    /// `40` or `illimité`.
    pub stock: String,
}

/// The offers of a product, said in French.
pub async fn offer_lines(state: &AppState, product_id: Uuid) -> Result<Vec<OfferLine>, PageError> {
    let mut lines = Vec::new();
    for offer in state.store.offers_of_product(product_id).await? {
        let split = match (
            Money::parse(offer.price, "price"),
            VatRate::parse(offer.vat_rate, "vat"),
        ) {
            (Ok(price), Ok(rate)) => OfferPrice::new(price, rate),
            _ => return Err(PageError::Internal),
        };
        lines.push(OfferLine {
            id: offer.id,
            amount: format!("{} {}", fr::quantity(offer.quantity), offer.unit),
            price: fr::money(split.price.amount()),
            price_excl_vat: fr::money(split.price_excl_vat.amount()),
            vat: fr::percent(offer.vat_rate),
            active: offer.active,
            stock: if offer.stock_tracked {
                fr::quantity(offer.real_stock)
            } else {
                "illimité".to_owned()
            },
            label: offer.label,
        });
    }
    Ok(lines)
}

#[derive(Template)]
#[template(path = "producteur/produit.html")]
struct ProductPage<'a> {
    chrome: Chrome,
    base: String,
    /// `None` while creating.
    product_id: Option<Uuid>,
    photo: Option<String>,
    form: &'a FormState,
    offers: Vec<OfferLine>,
    offer_form: &'a FormState,
    vat_rates: Vec<(Uuid, String)>,
}

pub(super) fn products_base(producer_id: Uuid) -> String {
    ProducerTab::Products.href(producer_id)
}

/// The product of this space, or 404 (another producer's too).
pub(super) async fn own_product(
    state: &AppState,
    space: &InProducer,
    id: Uuid,
) -> Result<ProductRecord, PageError> {
    state
        .store
        .product(id)
        .await?
        .filter(|p| p.producer_id == space.producer.id)
        .ok_or(PageError::NotFound)
}

pub(super) fn thumbnail(photo: &Option<String>) -> Option<String> {
    photo
        .as_deref()
        .map(|url| url.replace("/affichage", "/vignette"))
}

pub(super) fn form_of(product: &ProductRecord) -> FormState {
    let mut form = FormState::new()
        .with("name", &product.name)
        .with("category", &product.category)
        .with("unit", &product.unit)
        .with(
            "description",
            product.description.clone().unwrap_or_default(),
        );
    for (flag, on) in [
        ("organic", product.organic),
        ("variable_price", product.variable_price),
        ("multi_weight", product.multi_weight),
        ("active", product.active),
    ] {
        if on {
            form.set(flag, "on");
        }
    }
    form
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn render(
    state: &AppState,
    space: &InProducer,
    product: Option<&ProductRecord>,
    form: &FormState,
    offer_form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let offers = match product {
        Some(p) => offer_lines(state, p.id).await?,
        None => Vec::new(),
    };
    let vat_rates = state
        .store
        .vat_rates(space.producer.id)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.id,
                format!(
                    "{} ({})",
                    r.name,
                    crate::api::webapp::kit::fr::percent(r.rate)
                ),
            )
        })
        .collect();
    let title = product.map_or_else(|| "Nouveau produit".to_owned(), |p| p.name.clone());
    space.visitor.page_with(
        status,
        &ProductPage {
            chrome: space.chrome(title, ProducerTab::Products),
            base: products_base(space.producer.id),
            product_id: product.map(|p| p.id),
            photo: product.and_then(|p| thumbnail(&p.photo_url)),
            form,
            offers,
            offer_form,
            vat_rates,
        },
    )
}

/// The product's page again, its offer form refused.
pub(super) async fn render_with_offer_form(
    state: &AppState,
    space: &InProducer,
    product: &ProductRecord,
    offer_form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    render(
        state,
        space,
        Some(product),
        &form_of(product),
        offer_form,
        status,
    )
    .await
}
