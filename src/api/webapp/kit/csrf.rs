//! Cross-site request forgery protection for the web pages' forms.
//!
//! The double-submit pattern (as Django does it): every browser gets a
//! random `etal_csrf` cookie (`HttpOnly`, `SameSite=Lax`) the first time a
//! page is shown; every form carries the same value in a hidden `csrf`
//! field; a post whose field does not match its cookie is refused with 403
//! before anything is read or changed. Another site can make a browser post
//! to us but can neither read our cookie nor our pages, so it cannot fill
//! the field. On top of that, a post whose `Origin` header names another
//! site is refused, whatever the token. The cookie is renewed at sign-in
//! and sign-out, so a token seen before signing in is worthless after.

use actix_web::http::header;
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The cookie holding the browser's token.
pub const CSRF_COOKIE: &str = "etal_csrf";
/// The hidden form field that must repeat it.
pub const CSRF_FIELD: &str = "csrf";

/// A fresh random token (256 bits, base64url).
pub fn mint() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The browser's token, when its cookie holds a well-formed one.
pub fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.cookie(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| well_formed(v))
}

fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether a posted form may go on: the field repeats the cookie, and the
/// request does not come from another origin.
pub fn verify(req: &HttpRequest, posted: Option<&str>) -> bool {
    let (Some(cookie), Some(posted)) = (cookie_token(req), posted) else {
        return false;
    };
    same_origin(req) && same_secret(&cookie, posted)
}

/// Compares two secrets in time independent of where they differ (their
/// digests are compared instead of the secrets).
fn same_secret(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

/// `Origin`, when the browser sent one, must be this host (a page of
/// ours); browsers send it on every cross-site post.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let host = req.connection_info().host().to_owned();
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(&host))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use actix_web::cookie::Cookie;
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let (a, b) = (mint(), mint());
        assert_ne!(a, b);
        assert!(well_formed(&a));
        assert!(!well_formed("short"));
        assert!(!well_formed(&format!("{}!", &a[..42])));
    }

    #[test]
    fn a_post_needs_the_cookie_and_the_same_field() {
        let token = mint();
        let req = TestRequest::post()
            .cookie(Cookie::new(CSRF_COOKIE, token.clone()))
            .to_http_request();
        assert!(verify(&req, Some(&token)));
        assert!(!verify(&req, None));
        assert!(!verify(&req, Some(&mint())));
        let without_cookie = TestRequest::post().to_http_request();
        assert!(!verify(&without_cookie, Some(&token)));
    }

    #[test]
    fn another_origin_is_refused_even_with_the_token() {
        let token = mint();
        let from = |origin: &str| {
            TestRequest::post()
                .insert_header((header::HOST, "etal.example:8080"))
                .insert_header((header::ORIGIN, origin))
                .cookie(Cookie::new(CSRF_COOKIE, token.clone()))
                .to_http_request()
        };
        assert!(verify(&from("http://etal.example:8080"), Some(&token)));
        assert!(!verify(&from("https://evil.example"), Some(&token)));
        assert!(!verify(&from("null"), Some(&token)));
    }
}
