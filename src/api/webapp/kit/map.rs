//! A map of France drawn on the server as SVG, with no tile server: a
//! bundled outline of metropolitan France and Corsica (about eighty points
//! of longitude/latitude along the coasts and borders, simplified by hand
//! to a few kilometres — enough to place a market in its region) and one
//! marker per market. Positions use an equirectangular projection around
//! 46.5° N, which keeps France's shape within a few per cent.
//!
//! When `web.map_tile_url` is configured (`…/{z}/{x}/{y}.png`), the map is
//! instead laid out from that server's tiles (as SVG `<image>`s, so no
//! script or inline style is needed) around the markets, with the same
//! markers.

use std::fmt::Write as _;

/// Metropolitan France's outline, clockwise from Dunkirk (lon, lat).
const MAINLAND: &[(f64, f64)] = &[
    (2.37, 51.05),
    (2.9, 51.0),
    (3.35, 50.75),
    (4.2, 50.35),
    (4.85, 50.15),
    (4.95, 49.8),
    (5.45, 49.55),
    (5.9, 49.5),
    (6.4, 49.45),
    (6.75, 49.15),
    (7.3, 49.1),
    (8.2, 48.97),
    (7.8, 48.6),
    (7.6, 48.1),
    (7.6, 47.6),
    (7.0, 47.45),
    (6.9, 47.3),
    (6.45, 46.95),
    (6.1, 46.55),
    (6.1, 46.2),
    (6.8, 46.4),
    (6.85, 45.85),
    (7.1, 45.6),
    (6.95, 45.2),
    (6.7, 45.1),
    (7.05, 44.7),
    (6.9, 44.35),
    (7.65, 44.15),
    (7.5, 43.78),
    (7.25, 43.7),
    (6.95, 43.45),
    (6.65, 43.2),
    (6.2, 43.1),
    (5.93, 43.08),
    (5.37, 43.22),
    (5.0, 43.4),
    (4.6, 43.4),
    (4.2, 43.45),
    (3.85, 43.45),
    (3.4, 43.28),
    (3.05, 43.05),
    (3.03, 42.6),
    (3.17, 42.43),
    (2.6, 42.35),
    (2.0, 42.4),
    (1.7, 42.5),
    (1.4, 42.6),
    (0.7, 42.85),
    (0.0, 42.7),
    (-0.5, 42.8),
    (-1.0, 43.0),
    (-1.45, 43.25),
    (-1.78, 43.37),
    (-1.5, 43.55),
    (-1.35, 44.0),
    (-1.25, 44.65),
    (-1.15, 45.1),
    (-1.1, 45.6),
    (-1.2, 46.15),
    (-1.8, 46.5),
    (-2.15, 46.85),
    (-2.2, 47.25),
    (-2.5, 47.3),
    (-3.1, 47.5),
    (-3.4, 47.7),
    (-4.15, 47.85),
    (-4.4, 47.8),
    (-4.75, 48.03),
    (-4.6, 48.3),
    (-4.75, 48.4),
    (-4.5, 48.6),
    (-4.0, 48.72),
    (-3.5, 48.85),
    (-3.0, 48.8),
    (-2.5, 48.6),
    (-2.0, 48.65),
    (-1.5, 48.63),
    (-1.6, 48.84),
    (-1.6, 49.2),
    (-1.85, 49.65),
    (-1.95, 49.72),
    (-1.6, 49.65),
    (-1.25, 49.7),
    (-1.1, 49.35),
    (-0.3, 49.3),
    (0.1, 49.45),
    (0.2, 49.7),
    (1.1, 49.93),
    (1.55, 50.2),
    (1.6, 50.73),
    (1.85, 50.95),
];

/// Corsica (lon, lat).
const CORSICA: &[(f64, f64)] = &[
    (9.4, 43.0),
    (9.45, 42.65),
    (9.55, 42.15),
    (9.4, 41.75),
    (9.2, 41.37),
    (8.8, 41.55),
    (8.6, 41.9),
    (8.6, 42.2),
    (8.7, 42.6),
    (9.1, 42.7),
    (9.3, 42.8),
];

/// The map's bounds (lon, lat) and the projection's latitude.
const WEST: f64 = -5.4;
const EAST: f64 = 9.9;
const NORTH: f64 = 51.3;
const SOUTH: f64 = 41.2;
const MID_LAT: f64 = 46.5;
/// SVG units per degree of latitude.
const SCALE: f64 = 60.0;

/// A market on the map.
#[derive(Debug, Clone)]
pub struct Marker {
    pub name: String,
    pub x: f64,
    pub y: f64,
}

/// A tile of a configured tile server, placed in the SVG.
#[derive(Debug, Clone)]
pub struct Tile {
    pub url: String,
    pub x: f64,
    pub y: f64,
    pub size: f64,
}

/// A ready-to-draw map.
#[derive(Debug, Clone)]
pub struct FranceMap {
    pub width: f64,
    pub height: f64,
    /// The outline as SVG path data (empty when tiles are used).
    pub outline: String,
    pub tiles: Vec<Tile>,
    pub markers: Vec<Marker>,
}

fn project(lon: f64, lat: f64) -> (f64, f64) {
    let x = (lon - WEST) * MID_LAT.to_radians().cos() * SCALE;
    let y = (NORTH - lat) * SCALE;
    (x, y)
}

fn path(points: &[(f64, f64)]) -> String {
    let mut d = String::new();
    for (i, (lon, lat)) in points.iter().enumerate() {
        let (x, y) = project(*lon, *lat);
        let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" });
    }
    d.push_str(" Z");
    d
}

impl FranceMap {
    /// The outline with a marker per `(name, lat, lng)` (those outside
    /// the map's bounds, overseas markets, are left off the drawing).
    pub fn outline(markets: &[(String, f64, f64)]) -> FranceMap {
        let (width, _) = project(EAST, SOUTH);
        let height = (NORTH - SOUTH) * SCALE;
        let markers = markets
            .iter()
            .filter(|(_, lat, lng)| (SOUTH..=NORTH).contains(lat) && (WEST..=EAST).contains(lng))
            .map(|(name, lat, lng)| {
                let (x, y) = project(*lng, *lat);
                Marker {
                    name: name.clone(),
                    x,
                    y,
                }
            })
            .collect();
        FranceMap {
            width,
            height,
            outline: format!("{} {}", path(MAINLAND), path(CORSICA)),
            tiles: Vec::new(),
            markers,
        }
    }

    /// A 3 × 3 tile map around the markets' centre from a tile server
    /// (`{z}`, `{x}`, `{y}` in `template`), at the deepest zoom (≤ 12)
    /// where every market fits.
    pub fn tiled(template: &str, markets: &[(String, f64, f64)]) -> FranceMap {
        if markets.is_empty() {
            return FranceMap::outline(markets);
        }
        const SIZE: f64 = 256.0;
        let n = markets.len() as f64;
        let lat0 = markets.iter().map(|m| m.1).sum::<f64>() / n;
        let lng0 = markets.iter().map(|m| m.2).sum::<f64>() / n;
        let mut zoom = 12u32;
        loop {
            let (cx, cy) = web_mercator(lat0, lng0, zoom);
            let fits = markets.iter().all(|(_, lat, lng)| {
                let (x, y) = web_mercator(*lat, *lng, zoom);
                (x - cx).abs() < 1.4 && (y - cy).abs() < 1.4
            });
            if fits || zoom <= 3 {
                break;
            }
            zoom -= 1;
        }
        let (cx, cy) = web_mercator(lat0, lng0, zoom);
        // The 3 × 3 tiles around the centre; the view is 2.5 tiles wide.
        let (tx, ty) = (cx.floor() as i64, cy.floor() as i64);
        let origin = (cx - 1.25, cy - 1.25);
        let max = 1i64 << zoom;
        let mut tiles = Vec::new();
        for dy in -1..=1 {
            for dx in -1..=1 {
                let (x, y) = (tx + dx, ty + dy);
                if y < 0 || y >= max {
                    continue;
                }
                let wrapped = x.rem_euclid(max);
                tiles.push(Tile {
                    url: template
                        .replace("{z}", &zoom.to_string())
                        .replace("{x}", &wrapped.to_string())
                        .replace("{y}", &y.to_string()),
                    x: (x as f64 - origin.0) * SIZE,
                    y: (y as f64 - origin.1) * SIZE,
                    size: SIZE,
                });
            }
        }
        let markers = markets
            .iter()
            .map(|(name, lat, lng)| {
                let (x, y) = web_mercator(*lat, *lng, zoom);
                Marker {
                    name: name.clone(),
                    x: (x - origin.0) * SIZE,
                    y: (y - origin.1) * SIZE,
                }
            })
            .collect();
        FranceMap {
            width: 2.5 * SIZE,
            height: 2.5 * SIZE,
            outline: String::new(),
            tiles,
            markers,
        }
    }
}

/// Tile coordinates (fractional) of a point at `zoom` (Web Mercator).
fn web_mercator(lat: f64, lng: f64, zoom: u32) -> (f64, f64) {
    let n = f64::from(1u32 << zoom);
    let x = (lng + 180.0) / 360.0 * n;
    let lat = lat.to_radians();
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n;
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn market(name: &str, lat: f64, lng: f64) -> (String, f64, f64) {
        (name.to_owned(), lat, lng)
    }

    #[test]
    fn markets_land_in_their_region() {
        let map = FranceMap::outline(&[
            market("Lyon", 45.76, 4.83),
            market("Brest", 48.39, -4.49),
            market("Lille", 50.63, 3.06),
            market("Saint-Denis (La Réunion)", -20.88, 55.45),
        ]);
        assert_eq!(map.markers.len(), 3, "overseas markets are left off");
        let (lyon, brest, lille) = (&map.markers[0], &map.markers[1], &map.markers[2]);
        assert!(brest.x < lyon.x && lyon.x < map.width, "west to east");
        assert!(lille.y < brest.y && brest.y < lyon.y, "north to south");
        assert!(map.outline.starts_with('M') && map.outline.matches('Z').count() == 2);
        assert!(map.width > 0.0 && map.height > 0.0);
    }

    #[test]
    fn tiles_are_fetched_around_the_markets_at_a_zoom_where_all_fit() {
        let map = FranceMap::tiled(
            "https://tiles.example/{z}/{x}/{y}.png",
            &[
                market("Croix-Rousse", 45.774, 4.832),
                market("Gratte-Ciel", 45.768, 4.880),
            ],
        );
        assert_eq!(map.tiles.len(), 9);
        assert!(map.tiles[0].url.starts_with("https://tiles.example/12/"));
        for m in &map.markers {
            assert!(
                m.x > 0.0 && m.x < map.width && m.y > 0.0 && m.y < map.height,
                "{m:?}"
            );
        }
        let far = FranceMap::tiled(
            "https://tiles.example/{z}/{x}/{y}.png",
            &[market("Lyon", 45.76, 4.83), market("Brest", 48.39, -4.49)],
        );
        let zoom: u32 = far.tiles[0]
            .url
            .split('/')
            .nth(3)
            .and_then(|z| z.parse().ok())
            .unwrap_or(99);
        assert!(zoom < 8, "zoomed out to fit both: {zoom}");
    }
}
