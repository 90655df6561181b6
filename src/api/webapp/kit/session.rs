//! Who is looking at a page: the session cookie and the extractors pages
//! take — [`Visitor`] (anyone), [`SignedIn`] (sign-in required, else to
//! `/connexion` and back), [`InProducer`] (a member of the producer named
//! in the path, else 404) and [`InMarket`] (an admin of the market named in
//! the path, else 404).
//!
//! A web session is a bearer token of the same kind as the JSON API's
//! (256 random bits, stored only as its SHA-256, with an expiry), kept in
//! the `etal_session` cookie: `HttpOnly` (no script reads it), `SameSite=Lax`
//! (not sent with another site's posts), `Secure` unless configured off.
//! The JSON API does not read this cookie: it keeps bearer tokens, so no
//! other site can make a browser call it with the visitor's rights.

use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{time::Duration as CookieAge, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use askama::Template;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use uuid::Uuid;

use super::csrf::{self, CSRF_COOKIE};
use super::page::{html, see_other, PageError};
use crate::api::auth::{authenticate, Caller};
use crate::api::credentials::issue_token;
use crate::api::state::AppState;
use crate::domain::roles::ProducerRole;
use crate::store::markets::MarketRecord;
use crate::store::producers::ProducerRecord;

/// The session cookie.
pub const SESSION_COOKIE: &str = "etal_session";
/// A one-time message shown by the next page ("Produit enregistré.").
const FLASH_COOKIE: &str = "etal_flash";
/// Longest flash message kept, in bytes.
const FLASH_MAX: usize = 300;

/// Anyone looking at a page, signed in or not.
pub struct Visitor {
    /// The signed-in account, with its roles.
    pub account: Option<Caller>,
    /// The CSRF token forms of this page carry.
    pub csrf: String,
    /// Whether `csrf` was minted for this answer (its cookie is then set).
    csrf_new: bool,
    /// The message the previous answer left for this page.
    pub flash: Option<String>,
    /// Whether cookies are marked `Secure`.
    secure: bool,
    /// This page's path and query (where to come back after signing in).
    pub here: String,
}

impl Visitor {
    async fn from_parts(req: HttpRequest) -> Result<Visitor, PageError> {
        let state = req
            .app_data::<web::Data<AppState>>()
            .cloned()
            .ok_or(PageError::Internal)?;
        let account = match req.cookie(SESSION_COOKIE) {
            Some(cookie) => {
                match authenticate(&state, Some(SecretString::from(cookie.value()))).await {
                    Ok(caller) => Some(caller),
                    Err(e) if e.status == StatusCode::UNAUTHORIZED => None,
                    Err(e) => return Err(e.into()),
                }
            }
            None => None,
        };
        let (csrf, csrf_new) = match csrf::cookie_token(&req) {
            Some(token) => (token, false),
            None => (csrf::mint(), true),
        };
        let flash = req
            .cookie(FLASH_COOKIE)
            .and_then(|c| URL_SAFE_NO_PAD.decode(c.value()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|text| !text.is_empty() && text.len() <= FLASH_MAX);
        let here = match req.query_string() {
            "" => req.path().to_owned(),
            query => format!("{}?{query}", req.path()),
        };
        Ok(Visitor {
            account,
            csrf,
            csrf_new,
            flash,
            secure: state.settings.web.secure_cookies,
            here,
        })
    }

    /// Renders a page with status 200.
    pub fn page(&self, template: &impl Template) -> Result<HttpResponse, PageError> {
        self.page_with(StatusCode::OK, template)
    }

    /// Renders a page: the CSRF cookie is set when it was minted for it,
    /// and the flash message, now shown, is cleared.
    pub fn page_with(
        &self,
        status: StatusCode,
        template: &impl Template,
    ) -> Result<HttpResponse, PageError> {
        let mut answer = html(status, template.render()?);
        if self.csrf_new {
            let _ = answer.add_cookie(&self.cookie(CSRF_COOKIE, self.csrf.clone(), None));
        }
        if self.flash.is_some() {
            let _ = answer.add_cookie(&self.removal(FLASH_COOKIE));
        }
        Ok(answer)
    }

    /// 303 to `location`, leaving a message for the next page.
    pub fn redirect_with(&self, location: &str, message: &str) -> HttpResponse {
        let mut answer = see_other(location);
        let mut text = message.to_owned();
        text.truncate(FLASH_MAX);
        let _ = answer.add_cookie(&self.cookie(
            FLASH_COOKIE,
            URL_SAFE_NO_PAD.encode(text.as_bytes()),
            None,
        ));
        answer
    }

    /// A cookie with this site's attributes.
    fn cookie(&self, name: &'static str, value: String, age: Option<CookieAge>) -> Cookie<'static> {
        let mut cookie = Cookie::build(name, value)
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .finish();
        if let Some(age) = age {
            cookie.set_max_age(age);
        }
        cookie
    }

    fn removal(&self, name: &'static str) -> Cookie<'static> {
        let mut cookie = self.cookie(name, String::new(), None);
        cookie.make_removal();
        cookie
    }

    /// Signs `account_id` in: a new session token in its cookie and a new
    /// CSRF token (one seen before signing in is worth nothing after).
    pub async fn sign_in(
        &self,
        state: &AppState,
        account_id: Uuid,
        answer: &mut HttpResponse,
    ) -> Result<(), PageError> {
        let token = issue_token();
        let hours = i64::from(state.settings.auth.token_ttl_hours);
        let expires_at = state.clock.now() + chrono::Duration::hours(hours);
        state
            .store
            .insert_token(account_id, &token.hash, expires_at)
            .await?;
        let age = Some(CookieAge::hours(hours));
        let _ = answer.add_cookie(&self.cookie(
            SESSION_COOKIE,
            token.clear.expose_secret().to_owned(),
            age,
        ));
        let _ = answer.add_cookie(&self.cookie(CSRF_COOKIE, csrf::mint(), None));
        Ok(())
    }

    /// Signs out: revokes this session's token, clears its cookie and
    /// renews the CSRF token.
    pub async fn sign_out(
        &self,
        state: &AppState,
        answer: &mut HttpResponse,
    ) -> Result<(), PageError> {
        if let Some(caller) = &self.account {
            state
                .store
                .revoke_token(caller.token_id, state.clock.now())
                .await?;
        }
        let _ = answer.add_cookie(&self.removal(SESSION_COOKIE));
        let _ = answer.add_cookie(&self.cookie(CSRF_COOKIE, csrf::mint(), None));
        Ok(())
    }

    /// Where a signed-in account lands: its producer space, else its
    /// markets, else its orders.
    pub fn home_of(caller: &Caller) -> &'static str {
        landing(!caller.producers.is_empty(), !caller.markets.is_empty())
    }
}

/// Where an account lands after signing in: its producer space (a
/// chooser when it has several), else its markets, else its orders.
pub fn landing(has_producers: bool, has_markets: bool) -> &'static str {
    if has_producers {
        "/espace-producteur"
    } else if has_markets {
        "/mes-marches"
    } else {
        "/mes-commandes"
    }
}

type Boxed<T> = Pin<Box<dyn Future<Output = Result<T, PageError>>>>;

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(Visitor::from_parts(req.clone()))
    }
}

/// A signed-in visitor; anyone else is sent to `/connexion` and back.
pub struct SignedIn {
    pub visitor: Visitor,
    pub caller: Caller,
}

impl SignedIn {
    async fn from_parts(req: HttpRequest) -> Result<SignedIn, PageError> {
        let visitor = Visitor::from_parts(req).await?;
        match visitor.account.clone() {
            Some(caller) => Ok(SignedIn { visitor, caller }),
            None => Err(PageError::SignIn {
                next: visitor.here.clone(),
            }),
        }
    }
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(SignedIn::from_parts(req.clone()))
    }
}

/// The id in a path segment, or 404 (a malformed id is no page).
fn path_id(req: &HttpRequest, name: &str) -> Result<Uuid, PageError> {
    req.match_info()
        .get(name)
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or(PageError::NotFound)
}

/// A member (owner or collaborator) of the producer whose id is the
/// path's `{producer_id}`; anyone else gets the 404 of a page that does
/// not exist.
pub struct InProducer {
    pub visitor: Visitor,
    pub caller: Caller,
    pub producer: ProducerRecord,
    pub role: ProducerRole,
}

impl InProducer {
    async fn from_parts(req: HttpRequest) -> Result<InProducer, PageError> {
        let SignedIn { visitor, caller } = SignedIn::from_parts(req.clone()).await?;
        let id = path_id(&req, "producer_id")?;
        let role = caller.producer_role(id).ok_or(PageError::NotFound)?;
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or(PageError::Internal)?;
        let producer = state.store.producer(id).await?.ok_or(PageError::NotFound)?;
        Ok(InProducer {
            visitor,
            caller,
            producer,
            role,
        })
    }

    /// Whether the visitor owns the space (manages its members).
    pub fn is_owner(&self) -> bool {
        self.role == ProducerRole::Owner
    }
}

impl FromRequest for InProducer {
    type Error = PageError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(InProducer::from_parts(req.clone()))
    }
}

/// An admin of the market whose id is the path's `{market_id}`; anyone
/// else gets a 404.
pub struct InMarket {
    pub visitor: Visitor,
    pub caller: Caller,
    pub market: MarketRecord,
}

impl InMarket {
    async fn from_parts(req: HttpRequest) -> Result<InMarket, PageError> {
        let SignedIn { visitor, caller } = SignedIn::from_parts(req.clone()).await?;
        let id = path_id(&req, "market_id")?;
        if !caller.is_market_admin(id) {
            return Err(PageError::NotFound);
        }
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or(PageError::Internal)?;
        let market = state.store.market(id).await?.ok_or(PageError::NotFound)?;
        Ok(InMarket {
            visitor,
            caller,
            market,
        })
    }
}

impl FromRequest for InMarket {
    type Error = PageError;
    type Future = Boxed<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(InMarket::from_parts(req.clone()))
    }
}
