//! Adding an existing account to a group of people who manage something
//! (a market's admins, a producer's members) by the e-mail typed in a
//! page's form: the one flow both pages share, with their own words.

use std::future::Future;

use serde::Deserialize;
use uuid::Uuid;

use super::{FormState, PageError};
use crate::api::state::AppState;
use crate::domain::account::Email;
use crate::store::accounts::AccountRecord;
use crate::store::DbError;

/// The form that names the account to add: one `email` field.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EmailForm {
    pub email: String,
}

/// What a page says when the account cannot be added.
pub struct Refusals {
    /// No account has this e-mail.
    pub unknown: &'static str,
    /// The account is already in the group (the store's conflict).
    pub already: &'static str,
}

/// Parses `input.email`, finds its account and adds it with `add`
/// (given the account's id). `Some(account)` when added; `None` when
/// refused, the reason then standing next to the `email` field of the
/// returned form (which keeps what was typed). A store error other than
/// the conflict is an error.
pub async fn add_by_email<Add, Fut>(
    state: &AppState,
    input: &EmailForm,
    refusals: Refusals,
    add: Add,
) -> Result<(FormState, Option<AccountRecord>), PageError>
where
    Add: FnOnce(Uuid) -> Fut,
    Fut: Future<Output = Result<(), DbError>>,
{
    let mut form = FormState::new().with("email", input.email.trim());
    let Some(email) = form.check(Email::parse(&input.email, "email")) else {
        return Ok((form, None));
    };
    let Some(account) = state.store.account_by_email(&email).await? else {
        form.refuse("email", refusals.unknown);
        return Ok((form, None));
    };
    match add(account.id).await {
        Ok(()) => Ok((form, Some(account))),
        Err(DbError::Conflict(_)) => {
            form.refuse("email", refusals.already);
            Ok((form, None))
        }
        Err(e) => Err(e.into()),
    }
}
