//! What a storefront watcher reads of a frame (docs/api.md, "WebSocket"):
//! its type and its offers with their availability — every offer of the
//! shop that changed in the push for an `availability` message, all of them
//! for a `snapshot` — read in place (one vector per frame, no string): with
//! 10,000 watchers a hundred thousand frames a second arrive.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use uuid::Uuid;

use crate::checkout::etal::milli;
use crate::watchers::UNLIMITED;

/// The fields of a frame the watchers use.
#[derive(Deserialize)]
pub struct WireFrame<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub offers: Option<Vec<WireOffer>>,
}

/// An offer of a `snapshot` or an `availability` message.
#[derive(Deserialize)]
pub struct WireOffer {
    pub offer_id: Uuid,
    #[serde(default)]
    pub available: Available,
}

/// An `available` value in milli-units: a decimal string (or number), or
/// `null`/absent for unlimited; `None` when unreadable.
pub struct Available(pub Option<i64>);

impl Default for Available {
    fn default() -> Self {
        Self(Some(UNLIMITED))
    }
}

impl<'de> Deserialize<'de> for Available {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Read;
        impl<'de> Visitor<'de> for Read {
            type Value = Available;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal string, a number or null")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Available, E> {
                Ok(Available(Decimal::from_str(s).ok().and_then(milli)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Available, E> {
                Ok(Available(milli(Decimal::from(n))))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Available, E> {
                Ok(Available(milli(Decimal::from(n))))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Available, E> {
                self.visit_str(&n.to_string())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Available, E> {
                Ok(Available::default())
            }
        }
        deserializer.deserialize_any(Read)
    }
}
