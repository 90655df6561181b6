//! The web application: server-rendered pages in French for producers,
//! market admins and customers — everything the guide does, without curl.
//! Transport only: pages call the same store and engine functions as the
//! JSON handlers, and hold no SQL and no rule of the sale.
//!
//! Templates are `askama` files under `templates/`, checked and compiled
//! into the binary (a missing field or a typo fails the build, values are
//! HTML-escaped by default). The [`kit`] is what every page uses: who is
//! looking, CSRF, forms and their French errors, the layout, error pages.
//! One module per page group; each has `configure`.

pub mod account;
pub mod catalog_share;
pub mod customer;
pub mod home;
pub mod kit;
pub mod markets;
pub mod messages;
pub mod photos;
pub mod platform;
pub mod producer;
pub mod sales;
pub mod spaces;
pub mod vitrine;

use actix_web::web;

/// Registers every page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    home::configure(cfg);
    account::configure(cfg);
    catalog_share::configure(cfg);
    spaces::configure(cfg);
    markets::configure(cfg);
    messages::configure(cfg);
    customer::configure(cfg);
    producer::configure(cfg);
    photos::configure(cfg);
    vitrine::configure(cfg);
    platform::configure(cfg);
}
