//! Answering with a page: the headers every page carries (the strict
//! Content-Security-Policy of the shop, no caching of private pages), the
//! redirect after a successful post (303, so a reload does not post
//! again), and the error pages — in French, as HTML, never a JSON problem
//! document: a browser shows them to a person.
//!
//! Another producer's or market's page, a page that does not exist and a
//! page the visitor may not see all answer the same 404, so the answer
//! does not reveal what exists.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use crate::api::pages::CSP;
use crate::api::problem::ApiError;
use crate::store::DbError;

/// Why a page cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No such page, or not one this visitor may see (the same answer).
    #[error("not found")]
    NotFound,
    /// A form posted without its CSRF token, or from another site.
    #[error("forged form")]
    Forged,
    /// The page needs a signed-in visitor: to the sign-in page, then back.
    #[error("sign in first")]
    SignIn { next: String },
    /// The body could not be read as a form of this page.
    #[error("bad form: {0}")]
    BadForm(String),
    /// The body is larger than the configured limit.
    #[error("too large")]
    TooLarge,
    /// The body is not the content type the form sends.
    #[error("unsupported media type")]
    UnsupportedMedia,
    /// The database is away: try again shortly.
    #[error("unavailable")]
    Unavailable,
    /// Something went wrong on our side (already logged).
    #[error("internal")]
    Internal,
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => PageError::NotFound,
            DbError::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                PageError::Unavailable
            }
            fenced @ DbError::Fenced { .. } => {
                tracing::warn!(error = %fenced, "write refused: not the active engine any more");
                PageError::Unavailable
            }
            DbError::Conflict(reason) | DbError::Other(reason) => {
                tracing::error!(%reason, "database error on a page");
                PageError::Internal
            }
        }
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        match e.status.as_u16() {
            404 => PageError::NotFound,
            403 => PageError::NotFound,
            401 => PageError::SignIn { next: "/".into() },
            503 => PageError::Unavailable,
            _ => {
                tracing::error!(error = %e, "engine refusal on a page");
                PageError::Internal
            }
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "template rendering failed");
        PageError::Internal
    }
}

/// The stand-alone page shown for an error.
#[derive(Template)]
#[template(path = "erreur.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
}

impl PageError {
    fn words(&self) -> (&'static str, &'static str) {
        match self {
            PageError::NotFound => (
                "Page introuvable",
                "Cette page n'existe pas, ou vous n'y avez pas accès.",
            ),
            PageError::Forged => (
                "Formulaire refusé",
                "Ce formulaire a expiré ou ne vient pas de ce site : rien n'a été modifié. \
                 Rechargez la page et recommencez.",
            ),
            PageError::SignIn { .. } => ("Connexion requise", "Connectez-vous pour continuer."),
            PageError::BadForm(_) => (
                "Formulaire illisible",
                "Le formulaire envoyé n'a pas pu être lu : rien n'a été modifié.",
            ),
            PageError::TooLarge => (
                "Envoi trop volumineux",
                "Ce que vous avez envoyé dépasse la taille permise : rien n'a été modifié.",
            ),
            PageError::UnsupportedMedia => (
                "Formulaire illisible",
                "Ce type d'envoi n'est pas accepté ici : rien n'a été modifié.",
            ),
            PageError::Unavailable => (
                "Service momentanément indisponible",
                "Réessayez dans quelques instants.",
            ),
            PageError::Internal => (
                "Erreur de notre côté",
                "Un problème est survenu ; il a été noté. Réessayez plus tard.",
            ),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forged => StatusCode::FORBIDDEN,
            PageError::SignIn { .. } => StatusCode::SEE_OTHER,
            PageError::BadForm(_) => StatusCode::BAD_REQUEST,
            PageError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PageError::UnsupportedMedia => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::SignIn { next } = self {
            return see_other(&format!("/connexion?suite={}", encode_query(next)));
        }
        let (title, message) = self.words();
        let body = ErrorPage { title, message }
            .render()
            .unwrap_or_else(|_| title.to_owned());
        let mut answer = html(self.status_code(), body);
        if matches!(self, PageError::Unavailable) {
            answer
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        answer
    }
}

/// An HTML answer with the headers every page carries. Pages may show
/// private data, so no cache keeps them.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .body(body)
}

/// 303 See Other to a path of this site: the answer to a successful post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// Percent-encodes a path for a query string (`/a b?c` → `%2Fa%20b%3Fc`).
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where to go after signing in: a path of this site only (`/…`, not
/// `//host`, no backslash), else the default — never another site.
pub fn local_path(next: Option<&str>) -> Option<String> {
    let next = next?.trim();
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    local.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path(Some("/espace-producteur")).as_deref(),
            Some("/espace-producteur")
        );
        for outside in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "",
        ] {
            assert_eq!(local_path(Some(outside)), None, "{outside}");
        }
        assert_eq!(local_path(None), None);
    }

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(encode_query("/a b?c=d&é"), "%2Fa%20b%3Fc%3Dd%26%C3%A9");
    }

    #[test]
    fn error_pages_are_french_html_with_the_policy() {
        let answer = PageError::Forged.error_response();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN);
        let csp = answer.headers().get(header::CONTENT_SECURITY_POLICY);
        assert!(csp.is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("script-src 'self'"))));
        let sign_in = PageError::SignIn {
            next: "/espace-producteur".into(),
        }
        .error_response();
        assert_eq!(sign_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            sign_in
                .headers()
                .get(header::LOCATION)
                .map(|v| v.as_bytes()),
            Some(&b"/connexion?suite=%2Fespace-producteur"[..])
        );
    }
}
