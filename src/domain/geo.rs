//! Market places on the map: coordinates and great-circle distances.
//!
//! Distances only sort and filter markets near a customer, so `f64` is fine
//! here (unlike money). Errors name `lat` / `lng`; prefix them with
//! [`FieldError::at`] (`place.lat`).

use serde::{Deserialize, Serialize};

use super::error::FieldError;

/// Mean Earth radius in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A point on Earth in decimal degrees (WGS 84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Coordinates {
    lat: f64,
    lng: f64,
}

impl Coordinates {
    /// Validates `lat ∈ [−90, 90]` and `lng ∈ [−180, 180]` (finite numbers).
    pub fn parse(lat: f64, lng: f64) -> Result<Coordinates, FieldError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(FieldError::new("lat", "must be between -90 and 90"));
        }
        if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
            return Err(FieldError::new("lng", "must be between -180 and 180"));
        }
        Ok(Coordinates { lat, lng })
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lng(&self) -> f64 {
        self.lng
    }
}

impl<'de> Deserialize<'de> for Coordinates {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            lat: f64,
            lng: f64,
        }
        let raw = Raw::deserialize(deserializer)?;
        Coordinates::parse(raw.lat, raw.lng).map_err(serde::de::Error::custom)
    }
}

/// Great-circle distance between two points, in kilometres (haversine).
pub fn haversine_km(a: Coordinates, b: Coordinates) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let d_lat = lat2 - lat1;
    let d_lng = (b.lng - a.lng).to_radians();
    let h = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lng / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// `items` nearest first from `from`, each with its distance in km; items
/// without a valid position, or farther than `radius_km`, are left out.
/// Ties keep the items' order (sort them by name first for a stable list).
pub fn nearest<T>(
    from: Coordinates,
    items: Vec<T>,
    at: impl Fn(&T) -> Option<Coordinates>,
    radius_km: Option<f64>,
) -> Vec<(f64, T)> {
    let mut found: Vec<(f64, T)> = items
        .into_iter()
        .filter_map(|item| Some((haversine_km(from, at(&item)?), item)))
        .filter(|(d, _)| radius_km.map_or(true, |r| *d <= r))
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(lat: f64, lng: f64) -> Coordinates {
        Coordinates::parse(lat, lng).unwrap()
    }

    #[test]
    fn bounds() {
        assert!(Coordinates::parse(90.0, 180.0).is_ok());
        assert!(Coordinates::parse(-90.0, -180.0).is_ok());
        assert_eq!(Coordinates::parse(90.1, 0.0).unwrap_err().field, "lat");
        assert_eq!(Coordinates::parse(0.0, -180.5).unwrap_err().field, "lng");
        assert_eq!(Coordinates::parse(f64::NAN, 0.0).unwrap_err().field, "lat");
        assert_eq!(
            Coordinates::parse(0.0, f64::INFINITY).unwrap_err().field,
            "lng"
        );
        let e = Coordinates::parse(91.0, 0.0).unwrap_err().at("place");
        assert_eq!(e.field, "place.lat");
    }

    #[test]
    fn distances() {
        let paris = at(48.8566, 2.3522);
        let lyon = at(45.7640, 4.8357);
        let d = haversine_km(paris, lyon);
        assert!((d - 392.0).abs() < 2.0, "{d}");
        assert!((haversine_km(lyon, paris) - d).abs() < 1e-9);
        assert_eq!(haversine_km(paris, paris), 0.0);
        // Antipodes: half the circumference.
        let half = haversine_km(at(0.0, 0.0), at(0.0, 180.0));
        assert!((half - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }

    #[test]
    fn nearest_first_within_the_radius() {
        let lyon = at(45.7640, 4.8357);
        let places = vec![
            ("Paris", Some(at(48.8566, 2.3522))),
            ("Villeurbanne", Some(at(45.7719, 4.8902))),
            ("Nowhere", None),
            ("Vienne", Some(at(45.5255, 4.8745))),
        ];
        let all = nearest(lyon, places.clone(), |p| p.1, None);
        let names: Vec<&str> = all.iter().map(|(_, p)| p.0).collect();
        assert_eq!(names, ["Villeurbanne", "Vienne", "Paris"]);
        assert!(all[0].0 < 5.0);
        let near = nearest(lyon, places, |p| p.1, Some(50.0));
        assert_eq!(near.len(), 2);
    }

    #[test]
    fn serde_validates() {
        let c: Coordinates = serde_json::from_str(r#"{"lat": 45.764, "lng": 4.8357}"#).unwrap();
        assert_eq!((c.lat(), c.lng()), (45.764, 4.8357));
        assert!(serde_json::from_str::<Coordinates>(r#"{"lat": 100, "lng": 0}"#).is_err());
        assert_eq!(
            serde_json::to_string(&at(1.5, -2.0)).unwrap(),
            r#"{"lat":1.5,"lng":-2.0}"#
        );
    }
}
