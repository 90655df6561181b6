//! Serving uploaded images: `/images/{id}/affichage` (display size) and
//! `/images/{id}/vignette` (thumbnail). Images are immutable (a new upload
//! is a new id), so browsers may keep them a year.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpResponse};
use uuid::Uuid;

use super::kit::PageError;
use crate::api::state::AppState;
use crate::store::images::ImageSize;

async fn image(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, size) = path.into_inner();
    let id = Uuid::parse_str(&id).map_err(|_| PageError::NotFound)?;
    let size = match size.as_str() {
        "affichage" => ImageSize::Display,
        "vignette" => ImageSize::Thumbnail,
        _ => return Err(PageError::NotFound),
    };
    let (content_type, bytes) = state
        .store
        .image(id, size)
        .await?
        .ok_or(PageError::NotFound)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        ))
        .body(bytes))
}

/// Registers the image route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/images/{id}/{size}", web::get().to(image));
}
