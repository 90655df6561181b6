//! Forms with a file (`multipart/form-data`): a product with its photo, a
//! logo. The body is read with bounds — text fields of a few kilobytes, a
//! file of at most the configured limit (`web.upload_limit_bytes`) — and
//! the CSRF token is checked before anything is processed or stored. A file
//! over the limit is not kept: the form says so next to its field. A body
//! far beyond it (four times the limit) is cut short with a 413 page.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;

use super::csrf;
use super::page::PageError;

/// Longest text field accepted in a multipart form.
const TEXT_FIELD_MAX: usize = 16 * 1024;

/// A file field as received.
#[derive(Debug, Clone, Default)]
pub struct UploadedFile {
    pub bytes: Vec<u8>,
    /// More than the limit was sent: `bytes` is empty.
    pub too_large: bool,
}

impl UploadedFile {
    /// Whether the visitor chose no file.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty() && !self.too_large
    }
}

/// A multipart form, its CSRF token already checked.
#[derive(Debug, Default)]
pub struct MultipartForm {
    fields: HashMap<String, String>,
    files: HashMap<String, UploadedFile>,
}

impl MultipartForm {
    /// A text field ("" when absent).
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// Whether a checkbox was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        matches!(self.text(name), "on" | "true" | "1")
    }

    /// The file of a field (an empty one when none was chosen).
    pub fn file(&self, name: &str) -> UploadedFile {
        self.files.get(name).cloned().unwrap_or_default()
    }

    /// Reads the body of `req`: at most `limit` bytes per file.
    pub async fn read(
        req: &HttpRequest,
        payload: &mut Payload,
        limit: usize,
    ) -> Result<MultipartForm, PageError> {
        let multipart = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            return Err(PageError::UnsupportedMedia);
        }
        let mut parts = Multipart::new(req.headers(), payload.take());
        let mut form = MultipartForm::default();
        let mut total = 0usize;
        let hard_limit = limit.saturating_mul(4);
        while let Some(field) = parts.next().await {
            let mut field = field.map_err(|e| PageError::BadForm(e.to_string()))?;
            let name = field.name().unwrap_or_default().to_owned();
            let is_file = field
                .content_disposition()
                .and_then(|d| d.get_filename())
                .is_some();
            let mut bytes = Vec::new();
            let mut too_large = false;
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| PageError::BadForm(e.to_string()))?;
                total += chunk.len();
                if total > hard_limit {
                    return Err(PageError::TooLarge);
                }
                let cap = if is_file { limit } else { TEXT_FIELD_MAX };
                if too_large || bytes.len() + chunk.len() > cap {
                    too_large = true;
                    bytes = Vec::new();
                } else {
                    bytes.extend_from_slice(&chunk);
                }
            }
            if is_file {
                form.files.insert(name, UploadedFile { bytes, too_large });
            } else if too_large {
                return Err(PageError::BadForm(format!("field {name} is too long")));
            } else {
                let text = String::from_utf8(bytes)
                    .map_err(|_| PageError::BadForm(format!("field {name} is not UTF-8")))?;
                form.fields.insert(name, text);
            }
        }
        if !csrf::verify(req, form.fields.get(csrf::CSRF_FIELD).map(String::as_str)) {
            tracing::warn!(path = %req.path(), "upload refused: CSRF token missing or wrong");
            return Err(PageError::Forged);
        }
        Ok(form)
    }
}

/// The image sent in `field`, checked and re-encoded off the async
/// workers (`crate::images`): `None` when no file was chosen or when it
/// was refused — the reason is then recorded in French next to `field`.
pub async fn image_of(
    input: &MultipartForm,
    field: &str,
    limit: usize,
    form: &mut super::FormState,
) -> Result<Option<crate::images::Processed>, PageError> {
    let upload = input.file(field);
    if upload.too_large {
        form.refuse(field, crate::images::Refusal::TooLarge { limit }.french());
        return Ok(None);
    }
    if upload.is_empty() {
        return Ok(None);
    }
    let bytes = upload.bytes;
    match tokio::task::spawn_blocking(move || crate::images::process(&bytes, limit)).await {
        Ok(Ok(processed)) => Ok(Some(processed)),
        Ok(Err(refusal)) => {
            form.refuse(field, refusal.french());
            Ok(None)
        }
        Err(_) => Err(PageError::Internal),
    }
}

/// The extractor: a [`MultipartForm`] read with the configured limit.
pub struct Uploaded(pub MultipartForm);

impl FromRequest for Uploaded {
    type Error = PageError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = req
                .app_data::<actix_web::web::Data<crate::api::state::AppState>>()
                .map(|s| s.settings.web.upload_limit_bytes)
                .ok_or(PageError::Internal)?;
            MultipartForm::read(&req, &mut payload, limit)
                .await
                .map(Uploaded)
        })
    }
}
