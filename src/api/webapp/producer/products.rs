//! Produits: the list, creating and editing a product (description, unit,
//! category, organic, variable price, multi-weighing, active) with its
//! photo, and "Prévisualiser une fiche produit". A product's offers are on
//! its page too (`product_page.rs`, `offers.rs`). Fields are parsed with the same domain
//! rules as the JSON API (`ProductSpec`, `SaleFlags`); the photo with
//! `crate::images` — refused uploads store nothing.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use uuid::Uuid;

use super::product_page::{
    form_of, offer_lines, own_product, products_base, render, thumbnail, OfferLine,
};
use crate::api::state::AppState;
use crate::api::webapp::kit::upload::{image_of, MultipartForm, Uploaded};
use crate::api::webapp::kit::{Chrome, FormState, InProducer, PageError, ProducerTab};
use crate::domain::offer::{uploaded_photo_url, ProductSpec, SaleFlags};
use crate::domain::text::{LongText, Name, ShortText};
use crate::store::images::ImageKind;

const TEXT_FIELDS: [&str; 4] = ["name", "category", "unit", "description"];
const FLAGS: [&str; 4] = ["organic", "variable_price", "multi_weight", "active"];

struct ProductLine {
    href: String,
    name: String,
    category: String,
    unit: String,
    active: bool,
    organic: bool,
    photo: Option<String>,
}

#[derive(Template)]
#[template(path = "producteur/produits.html")]
struct ListPage {
    chrome: Chrome,
    base: String,
    products: Vec<ProductLine>,
}

#[derive(Template)]
#[template(path = "producteur/apercu.html")]
struct PreviewPage {
    chrome: Chrome,
    back: String,
    producer_name: String,
    name: String,
    description: String,
    category: String,
    organic: bool,
    variable_price: bool,
    photo: Option<String>,
    offers: Vec<OfferLine>,
}

async fn list(state: web::Data<AppState>, space: InProducer) -> Result<HttpResponse, PageError> {
    let base = products_base(space.producer.id);
    let products = state
        .store
        .products(space.producer.id)
        .await?
        .into_iter()
        .map(|p| ProductLine {
            href: format!("{base}/{}", p.id),
            photo: thumbnail(&p.photo_url),
            name: p.name,
            category: p.category,
            unit: p.unit,
            active: p.active,
            organic: p.organic,
        })
        .collect();
    space.visitor.page(&ListPage {
        chrome: space.chrome("Produits", ProducerTab::Products),
        base,
        products,
    })
}

async fn new_page(
    state: web::Data<AppState>,
    space: InProducer,
) -> Result<HttpResponse, PageError> {
    let form = FormState::new().with("active", "on").with("unit", "kg");
    render(
        &state,
        &space,
        None,
        &form,
        &FormState::new(),
        StatusCode::OK,
    )
    .await
}

async fn edit_page(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let product = own_product(&state, &space, path.1).await?;
    let offer_form = FormState::new()
        .with("quantity", "1")
        .with("unit", &product.unit);
    render(
        &state,
        &space,
        Some(&product),
        &form_of(&product),
        &offer_form,
        StatusCode::OK,
    )
    .await
}

/// Parses the product form and its photo: the spec to store (with the
/// photo already stored when one was sent), or the form with its errors.
async fn parse_product(
    state: &AppState,
    space: &InProducer,
    input: &MultipartForm,
    current_photo: Option<String>,
) -> Result<Result<ProductSpec, FormState>, PageError> {
    let mut form = FormState::new();
    for field in TEXT_FIELDS {
        form.set(field, input.text(field).trim());
    }
    for flag in FLAGS {
        if input.ticked(flag) {
            form.set(flag, "on");
        }
    }
    let name = form.check(Name::parse(input.text("name"), "name"));
    let unit = form.check(ShortText::parse(input.text("unit"), "unit", 32));
    let category = form.check(ShortText::parse(input.text("category"), "category", 100));
    let description = form.check(LongText::parse(
        input.text("description"),
        "description",
        2000,
    ));
    let flags = match SaleFlags::parse(
        input.ticked("variable_price"),
        input.ticked("multi_weight"),
        None,
    ) {
        Ok(flags) => Some(flags),
        Err(errors) => {
            for e in errors {
                let reason = if e.field == "multi_weight" {
                    "La multi-pesée demande le prix variable selon pesée.".to_owned()
                } else {
                    crate::api::webapp::kit::form::french(&e.reason)
                };
                form.refuse(&e.field, reason);
            }
            None
        }
    };
    let limit = state.settings.web.upload_limit_bytes;
    let photo = image_of(input, "photo", limit, &mut form).await?;
    let (Some(name), Some(unit), Some(category), Some(description), Some(flags), true) =
        (name, unit, category, description, flags, form.is_valid())
    else {
        return Ok(Err(form));
    };
    let photo_url = match photo {
        Some(processed) => {
            let id = state
                .store
                .insert_image(space.producer.id, ImageKind::Product, &processed)
                .await?;
            Some(uploaded_photo_url(id))
        }
        None if input.ticked("remove_photo") => None,
        None => current_photo,
    };
    let photo_url = photo_url.and_then(|url| crate::domain::offer::photo_url(&url, "photo").ok());
    Ok(Ok(ProductSpec {
        name,
        unit,
        category,
        description: (!description.is_empty()).then_some(description),
        photo_url,
        organic: input.ticked("organic"),
        active: input.ticked("active"),
        flags,
    }))
}

async fn create(
    state: web::Data<AppState>,
    space: InProducer,
    Uploaded(input): Uploaded,
) -> Result<HttpResponse, PageError> {
    let spec = match parse_product(&state, &space, &input, None).await? {
        Ok(spec) => spec,
        Err(form) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render(&state, &space, None, &form, &FormState::new(), status).await;
        }
    };
    let product = state.store.create_product(space.producer.id, &spec).await?;
    Ok(space.visitor.redirect_with(
        &format!("{}/{}", products_base(space.producer.id), product.id),
        "Produit enregistré. Ajoutez-lui maintenant ses offres.",
    ))
}

async fn update(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
    Uploaded(input): Uploaded,
) -> Result<HttpResponse, PageError> {
    let product = own_product(&state, &space, path.1).await?;
    let spec = match parse_product(&state, &space, &input, product.photo_url.clone()).await? {
        Ok(spec) => spec,
        Err(form) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return render(
                &state,
                &space,
                Some(&product),
                &form,
                &FormState::new(),
                status,
            )
            .await;
        }
    };
    let (_, removed) = state
        .store
        .update_product(product.id, &spec)
        .await?
        .ok_or(PageError::NotFound)?;
    let message = if removed > 0 {
        format!("Produit enregistré ; désactivé, il a quitté vos catalogues ({removed} offre(s)).")
    } else {
        "Produit enregistré.".to_owned()
    };
    Ok(space.visitor.redirect_with(
        &format!("{}/{}", products_base(space.producer.id), product.id),
        &message,
    ))
}

async fn preview(
    state: web::Data<AppState>,
    space: InProducer,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, PageError> {
    let product = own_product(&state, &space, path.1).await?;
    let offers = offer_lines(&state, product.id)
        .await?
        .into_iter()
        .filter(|o| o.active)
        .collect();
    space.visitor.page(&PreviewPage {
        chrome: space.chrome(format!("Aperçu — {}", product.name), ProducerTab::Products),
        back: format!("{}/{}", products_base(space.producer.id), product.id),
        producer_name: space.producer.name.clone(),
        name: product.name,
        description: product.description.unwrap_or_default(),
        category: product.category,
        organic: product.organic,
        variable_price: product.variable_price,
        photo: product.photo_url,
        offers,
    })
}

/// Registers the product pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let base = "/espace-producteur/{producer_id}/produits";
    cfg.route(base, web::get().to(list))
        .route(&format!("{base}/nouveau"), web::get().to(new_page))
        .route(&format!("{base}/nouveau"), web::post().to(create))
        .route(&format!("{base}/{{product_id}}"), web::get().to(edit_page))
        .route(&format!("{base}/{{product_id}}"), web::post().to(update))
        .route(
            &format!("{base}/{{product_id}}/apercu"),
            web::get().to(preview),
        );
}
