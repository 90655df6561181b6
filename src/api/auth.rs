//! The `Caller` extractor: who is calling (from `Authorization: Bearer …`,
//! or `?token=` for browsers opening a WebSocket) and with which roles —
//! owner or collaborator of producers, admin of markets; every account is a
//! customer. Handlers ask it for the role they need, so the permission rule
//! of each endpoint reads in one line.

use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use uuid::Uuid;

use super::credentials::hash_token;
use super::problem::ApiError;
use super::state::AppState;
use crate::domain::roles::ProducerRole;
use crate::store::accounts::TokenOwner;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: Uuid,
    pub email: String,
    pub name: String,
    /// The token used, so logout can revoke exactly it.
    pub token_id: Uuid,
    pub producers: Vec<(Uuid, ProducerRole)>,
    pub markets: Vec<Uuid>,
}

impl From<TokenOwner> for Caller {
    fn from(owner: TokenOwner) -> Self {
        Self {
            account_id: owner.account.id,
            email: owner.account.email,
            name: owner.account.name,
            token_id: owner.token_id,
            producers: owner.producers,
            markets: owner.markets,
        }
    }
}

impl Caller {
    /// The caller's role in a producer's space, if any.
    pub fn producer_role(&self, producer_id: Uuid) -> Option<ProducerRole> {
        self.producers
            .iter()
            .find(|(id, _)| *id == producer_id)
            .map(|(_, role)| *role)
    }

    /// Owner or collaborator of that producer, else 403.
    pub fn require_producer_member(&self, producer_id: Uuid) -> Result<ProducerRole, ApiError> {
        self.producer_role(producer_id).ok_or_else(|| {
            ApiError::forbidden("only the producer's owner and collaborators may do this")
        })
    }

    /// Owner of that producer, else 403.
    pub fn require_producer_owner(&self, producer_id: Uuid) -> Result<(), ApiError> {
        match self.require_producer_member(producer_id)? {
            ProducerRole::Owner => Ok(()),
            ProducerRole::Collaborator => {
                Err(ApiError::forbidden("only the producer's owner may do this"))
            }
        }
    }

    /// Whether the caller administers that market.
    pub fn is_market_admin(&self, market_id: Uuid) -> bool {
        self.markets.contains(&market_id)
    }

    /// Admin of that market, else 403.
    pub fn require_market_admin(&self, market_id: Uuid) -> Result<(), ApiError> {
        if self.is_market_admin(market_id) {
            Ok(())
        } else {
            Err(ApiError::forbidden("only the market's admins may do this"))
        }
    }
}

/// The clear token of a request: the bearer header first, then `?token=`.
pub fn token_of(req: &HttpRequest) -> Option<SecretString> {
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        let token = token.trim();
        return (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .then(|| SecretString::from(token));
    }
    web::Query::<TokenQuery>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.into_inner().token)
        .filter(|t| !t.expose_secret().is_empty())
}

#[derive(serde::Deserialize)]
struct TokenQuery {
    token: Option<SecretString>,
}

/// Resolves a clear token to its caller, or 401.
pub async fn authenticate(
    state: &AppState,
    token: Option<SecretString>,
) -> Result<Caller, ApiError> {
    let token = token.ok_or_else(|| {
        ApiError::unauthorized("sign in first: send `Authorization: Bearer <token>`")
    })?;
    let owner = state
        .store
        .token_owner(&hash_token(&token), state.clock.now())
        .await?;
    owner
        .map(Caller::from)
        .ok_or_else(|| ApiError::unauthorized("the token is unknown, expired or revoked"))
}

/// The caller if the request names one: `None` without a token, 401 for a
/// token that is unknown, expired or revoked (public pages that show more
/// to a signed-in customer).
pub async fn optional_caller(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<Caller>, ApiError> {
    match token_of(req) {
        None => Ok(None),
        token => authenticate(state, token).await.map(Some),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = token_of(req);
        Box::pin(async move {
            let state = state.ok_or_else(ApiError::internal)?;
            authenticate(&state, token).await
        })
    }
}
