//! Changing a customer's line from the recap by member (guide ch. 7, "vous
//! pourrez facilement modifier les quantités des commandes concernées"):
//! while the sale is open only "Mettre à 0" (the engine removes the line
//! from the order, stock comes back); once every sale of the day has
//! closed, a new quantity and, for products priced by weight, the real
//! weight. The customer is told of a quantity change by e-mail; every
//! change is kept (who, when, before, after). Another producer's line is
//! a 404.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use uuid::Uuid;

use super::back_to;
use super::recap::{load, render};
use crate::api::state::AppState;
use crate::api::webapp::kit::form::{decimal_input, french};
use crate::api::webapp::kit::{FormState, InProducer, PageError, Posted};
use crate::domain::decimal::parse_decimal;
use crate::domain::sale::SaleRefusal;
use crate::engine::after_sale::{AfterSaleError, LineChange};
use crate::engine::error::OrderError;

#[derive(Deserialize, Default)]
#[serde(default)]
struct LineForm {
    quantite: String,
    poids: String,
    motif: String,
    retour: String,
}

/// A business refusal of the engine, said in French.
pub fn refusal_text(code: &str) -> &'static str {
    match code {
        "sale_not_closed" => {
            "Pendant la vente, vous pouvez seulement mettre une ligne à 0 ; les autres changements attendent la clôture de toutes les ventes de la distribution."
        }
        "delivered" => {
            "Les commandes sont livrées et le stock soldé : la quantité ne change plus (le poids, si)."
        }
        "distribution_validated" => "La distribution est validée : ses commandes ne changent plus.",
        "distribution_cancelled" => "Cette distribution a été annulée.",
        "order_cancelled" => "Cette commande a été annulée.",
        _ => "La ligne a changé entre-temps : rechargez la page et recommencez.",
    }
}

/// An engine refusal that is not about a field, in French.
pub fn order_error_text(e: &OrderError) -> String {
    match e {
        OrderError::InsufficientStock(shortages) => format!(
            "Stock insuffisant : il reste {} pour cette offre.",
            shortages
                .first()
                .map_or_else(|| "0".to_owned(), |s| s.available.normalize().to_string())
        ),
        OrderError::Refused(SaleRefusal::Busy) => {
            "Le client modifie sa commande en ce moment : réessayez dans un instant.".into()
        }
        OrderError::Overloaded | OrderError::Unavailable | OrderError::Refused(_) => {
            "La modification n'a pas pu être enregistrée : rien n'a changé, réessayez.".into()
        }
        OrderError::KeyReused => "Requête refusée.".into(),
    }
}

async fn change(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Posted(input): Posted<LineForm>,
) -> Result<HttpResponse, PageError> {
    let (_, line_id) = path.into_inner();
    let ctx = state
        .store
        .line_context(line_id)
        .await?
        .filter(|c| c.producer_id == space.producer.id)
        .ok_or(PageError::NotFound)?;
    let back = back_to(&space, &input.retour);
    let mut form = FormState::new()
        .with(&format!("quantite-{line_id}"), input.quantite.trim())
        .with(&format!("poids-{line_id}"), input.poids.trim())
        .with(&format!("motif-{line_id}"), input.motif.trim());
    let mut read = |value: &str, field: &str| -> Option<rust_decimal::Decimal> {
        if value.trim().is_empty() {
            return None;
        }
        match parse_decimal(&decimal_input(value), field) {
            Ok(v) => Some(v),
            Err(_) => {
                form.refuse(
                    &format!("{field}-{line_id}"),
                    "Indiquez un nombre, comme 2,5.",
                );
                None
            }
        }
    };
    let quantity = read(&input.quantite, "quantite");
    let weight = read(&input.poids, "poids");
    let motif = input.motif.trim();
    let change = LineChange {
        // An unchanged quantity is no change (the form always sends it).
        quantity: quantity.filter(|q| *q != ctx.quantity || weight.is_none()),
        weight,
        reason: (!motif.is_empty()).then(|| motif.to_owned()),
    };
    let message = if !form.is_valid() {
        None
    } else {
        match state
            .engine
            .producer_change(&ctx, space.caller.account_id, change)
            .await
        {
            Ok(()) => Some(if quantity.is_some_and(|q| q.is_zero()) {
                format!(
                    "Ligne retirée de la commande n° {} ; le client est prévenu par e-mail.",
                    ctx.order_number
                )
            } else {
                format!("Commande n° {} modifiée.", ctx.order_number)
            }),
            Err(AfterSaleError::Invalid(errors)) => {
                for e in errors {
                    let field = if e.field == "weight" {
                        "poids"
                    } else if e.field == "reason" {
                        "ligne"
                    } else {
                        "quantite"
                    };
                    form.refuse(&format!("{field}-{line_id}"), french(&e.reason));
                }
                None
            }
            Err(AfterSaleError::Refused(code, _)) => {
                form.refuse(&format!("ligne-{line_id}"), refusal_text(code));
                None
            }
            Err(AfterSaleError::Stock(e)) => {
                form.refuse(&format!("ligne-{line_id}"), order_error_text(&e));
                None
            }
            Err(AfterSaleError::Db(e)) => return Err(e.into()),
        }
    };
    if let Some(message) = message {
        return Ok(space.visitor.redirect_with(&back, &message));
    }
    let query = back.split_once('?').map_or("", |(_, q)| q);
    match load(&state, &space, query).await {
        Ok(Some(loaded)) => {
            render(
                &state,
                &space,
                &loaded,
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        _ => Ok(space.visitor.redirect_with(
            &back,
            form.error(&format!("ligne-{line_id}"))
                .or(form.error(&format!("quantite-{line_id}")))
                .or(form.error(&format!("poids-{line_id}")))
                .unwrap_or("La modification n'a pas été enregistrée."),
        )),
    }
}

/// Registers the line form.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/espace-producteur/{producer_id}/commandes/lignes/{line_id}",
        web::post().to(change),
    );
}
