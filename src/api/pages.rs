//! The web pages the engine serves itself: the shop of a distribution
//! (`/shop/{distribution_id}`) and the producer's live board
//! (`/board/{producer_id}`), with their scripts and styles under `/assets/`.
//!
//! The files live in `web/` (plain HTML, CSS and JavaScript, no build step,
//! nothing fetched from the network) and are embedded in the binary with
//! `rust-embed` (in debug builds they are read from `web/` on each request,
//! so editing a page needs no rebuild). Every answer carries a strict
//! Content-Security-Policy: scripts from this origin only, no inline code,
//! WebSocket and fetch to this origin only; styles from this origin or from
//! `blob:` stylesheets the board makes to show a recap (see `web/board.js`).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use rust_embed::RustEmbed;
use uuid::Uuid;

use super::problem::ApiError;

#[derive(RustEmbed)]
#[folder = "web/"]
struct WebFiles;

/// The policy of every page and asset.
pub(crate) const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' blob:; \
                   img-src 'self' data: https:; connect-src 'self'; font-src 'self'; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The content type of a file, from its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

/// Serves one embedded file, with an ETag so browsers revalidate cheaply.
fn serve(req: &HttpRequest, path: &str) -> Result<HttpResponse, ApiError> {
    let file = WebFiles::get(path).ok_or_else(|| ApiError::not_found("no such page"))?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut answer = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    answer
        .insert_header((header::CONTENT_TYPE, content_type(path)))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, etag))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"));
    Ok(if fresh {
        answer.finish()
    } else {
        answer.body(file.data.into_owned())
    })
}

/// The shop of a distribution.
async fn shop_page(req: HttpRequest, _id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    serve(&req, "shop.html")
}

/// A producer's live board.
async fn board_page(req: HttpRequest, _id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    serve(&req, "board.html")
}

/// Scripts, styles and icons of the pages (no page itself, no sub-folder).
async fn asset(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let name = name.into_inner();
    let allowed = !name.ends_with(".html")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if !allowed {
        return Err(ApiError::not_found("no such asset"));
    }
    serve(&req, &name)
}

/// Registers the pages (outside `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/shop/{id}", web::get().to(shop_page))
        .route("/board/{id}", web::get().to(board_page))
        .route("/assets/{name}", web::get().to(asset));
}
