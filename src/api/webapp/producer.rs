//! The producer's space (`/espace-producteur/{producer_id}/…`), one file
//! per tab of the guide's menu. Every handler takes an
//! [`InProducer`](super::kit::InProducer): members only, anyone else sees
//! a 404.

pub mod catalog_form;
pub mod catalogs;
pub mod dashboard;
pub mod offers;
pub mod orders;
pub mod planning;
pub mod product_page;
pub mod products;
pub mod settings;
pub mod stock;
pub mod users;
pub mod vat;

use actix_web::web;

/// Registers the producer space's pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    dashboard::configure(cfg);
    // Before the products: `/produits/tva` and `/produits/stocks` are not products.
    vat::configure(cfg);
    stock::configure(cfg);
    products::configure(cfg);
    offers::configure(cfg);
    orders::configure(cfg);
    planning::configure(cfg);
    users::configure(cfg);
    catalogs::configure(cfg);
    settings::configure(cfg);
}
