//! The web pages' kit, shared by every page group: who is looking
//! ([`session`]: `Visitor`, `SignedIn`, `InProducer`, `InMarket`), forged
//! form protection ([`csrf`]), posted forms and their French field errors
//! ([`form`]), adding an account by e-mail ([`members`]), the layout and menus ([`layout`]), answers and error pages
//! ([`page`]). A page handler reads like: extractor → parse the form with
//! the domain's parsers → call the store or the engine → 303 with a
//! message, or the same page again with the errors next to their fields.

pub mod csrf;
pub mod form;
pub mod fr;
pub mod layout;
pub mod map;
pub mod members;
pub mod page;
pub mod session;
pub mod upload;

pub use form::{FormState, NoFields, Posted};
pub use layout::{Chrome, ProducerTab, Section};
pub use page::{see_other, PageError};
pub use session::{InMarket, InProducer, SignedIn, Visitor};
