//! A product's offers, on its page: each with its price incl. and excl.
//! VAT (the guide's potatoes: "Vrac" 2.50 € for 1 kg and "Sac" 20 € for
//! 10 kg), adding one (label, quantity, unit, price incl. VAT, VAT rate,
//! optional limited stock) and withdrawing one (offers are deactivated,
//! never deleted: orders refer to them).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::product_page::{own_product, products_base, render_with_offer_form};
use crate::api::state::AppState;
use crate::api::webapp::kit::form::decimal_input;
use crate::api::webapp::kit::{FormState, InProducer, NoFields, PageError, Posted};
use crate::domain::error::FieldError;
use crate::domain::offer::{real_stock, OfferSpec, RawDecimal};
use crate::store::offers::OfferSave;

#[derive(Deserialize, Default)]
#[serde(default)]
struct OfferForm {
    label: String,
    quantity: String,
    unit: String,
    price: String,
    vat_rate_id: String,
    stock: String,
}

async fn add(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Posted(input): Posted<OfferForm>,
) -> Result<HttpResponse, PageError> {
    let product = own_product(&state, &space, path.1).await?;
    let mut form = FormState::new()
        .with("label", input.label.trim())
        .with("quantity", input.quantity.trim())
        .with("unit", input.unit.trim())
        .with("price", input.price.trim())
        .with("vat_rate_id", input.vat_rate_id.trim())
        .with("stock", input.stock.trim());
    let spec = match OfferSpec::parse(
        &input.label,
        &RawDecimal::Text(decimal_input(&input.quantity)),
        &input.unit,
        &RawDecimal::Text(decimal_input(&input.price)),
        None,
    ) {
        Ok(spec) => Some(spec),
        Err(errors) => {
            for e in errors {
                form.check::<()>(Err(e));
            }
            None
        }
    };
    let vat_rate_id = form.check(
        input
            .vat_rate_id
            .trim()
            .parse::<Uuid>()
            .map_err(|_| FieldError::new("vat_rate_id", "is required")),
    );
    let stock = match input.stock.trim() {
        "" => Some(None),
        text => form
            .check(
                crate::domain::decimal::parse_decimal(&decimal_input(text), "stock")
                    .and_then(|v| real_stock(v, product.fractional, "stock")),
            )
            .map(Some),
    };
    if let (Some(spec), Some(vat_rate_id), Some(stock), true) =
        (spec, vat_rate_id, stock, form.is_valid())
    {
        let saved = state
            .store
            .create_offer(
                product.id,
                &spec,
                vat_rate_id,
                stock,
                Some(space.caller.account_id),
            )
            .await?;
        match saved {
            OfferSave::Saved { .. } => {
                return Ok(space.visitor.redirect_with(
                    &format!("{}/{}", products_base(space.producer.id), product.id),
                    &format!("Offre « {} » ajoutée.", spec.label),
                ))
            }
            OfferSave::ForeignVatRate => {
                form.refuse("vat_rate_id", "Choisissez un de vos taux de TVA.")
            }
            OfferSave::NotFound => return Err(PageError::NotFound),
        }
    }
    if form
        .error("stock")
        .is_some_and(|e| e.starts_with("Valeur refusée"))
    {
        form.refuse(
            "stock",
            "Ce produit se vend à l'unité : indiquez un stock entier.",
        );
    }
    render_with_offer_form(
        &state,
        &space,
        &product,
        &form,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

async fn withdraw(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    Posted(_): Posted<NoFields>,
) -> Result<HttpResponse, PageError> {
    let (_, product_id, offer_id) = path.into_inner();
    let product = own_product(&state, &space, product_id).await?;
    let offer = state
        .store
        .offer(offer_id)
        .await?
        .filter(|o| o.product_id == product.id)
        .ok_or(PageError::NotFound)?;
    state.store.deactivate_offer(offer.id).await?;
    Ok(space.visitor.redirect_with(
        &format!("{}/{}", products_base(space.producer.id), product.id),
        &format!(
            "Offre « {} » retirée de la vente et de vos catalogues.",
            offer.label
        ),
    ))
}

/// Registers the offer forms.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/espace-producteur/{producer_id}/produits/{product_id}/offres",
        web::post().to(add),
    )
    .route(
        "/espace-producteur/{producer_id}/produits/{product_id}/offres/{offer_id}/retirer",
        web::post().to(withdraw),
    );
}
