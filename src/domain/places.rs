//! French towns and postal codes with their position, for the directory
//! of markets ("Voir tous les marchés": a town or a postal code as the
//! starting point). The table is `data/communes/communes-fr.tsv` (built
//! from two registry packages, see its README), compiled into the binary
//! and read once, on first use.
//!
//! Search is forgiving the way people type: accents, case, hyphens and
//! "Saint"/"St" do not matter; a postal code or its first digits, a town
//! name or its beginning, or both ("69004 Lyon") find the places.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

use super::geo::Coordinates;

/// The vendored table.
const TABLE: &str = include_str!("../../data/communes/communes-fr.tsv");

/// Where a place's position comes from (the table's last column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// The commune's own position.
    Commune,
    /// The centre of the communes of its postal code.
    PostalCode,
    /// The centre of its postal sector (first three digits).
    Sector,
    /// The centre of its département.
    Department,
}

/// One (postal code, commune) pair.
#[derive(Debug, Clone)]
pub struct Place {
    pub postal_code: &'static str,
    /// The commune's INSEE code.
    pub insee: &'static str,
    pub name: &'static str,
    /// La Poste's routing label when it is not the name (`LYON` for
    /// "Lyon 4e Arrondissement"), else "".
    pub routing: &'static str,
    pub at: Coordinates,
    pub precision: Precision,
}

impl Place {
    /// `69004 Lyon 4e Arrondissement`.
    pub fn label(&self) -> String {
        format!("{} {}", self.postal_code, self.name)
    }
}

struct Index {
    places: Vec<Place>,
    /// Normalised name and routing label, by place.
    keys: Vec<(String, String)>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let places: Vec<Place> = TABLE.lines().filter_map(parse_line).collect();
        let keys = places
            .iter()
            .map(|p| (normalize(p.name), normalize(p.routing)))
            .collect();
        Index { places, keys }
    })
}

fn parse_line(line: &'static str) -> Option<Place> {
    let mut cols = line.split('\t');
    let postal_code = cols.next()?;
    let insee = cols.next()?;
    let name = cols.next()?;
    let routing = cols.next()?;
    let lat = cols.next()?.parse().ok()?;
    let lng = cols.next()?.parse().ok()?;
    let precision = match cols.next()? {
        "commune" => Precision::Commune,
        "code" => Precision::PostalCode,
        "secteur" => Precision::Sector,
        _ => Precision::Department,
    };
    Some(Place {
        postal_code,
        insee,
        name,
        routing,
        at: Coordinates::parse(lat, lng).ok()?,
        precision,
    })
}

/// Every place of the table.
pub fn all() -> &'static [Place] {
    &index().places
}

/// Lower case, without accents, "saint(e)" as "st(e)", and every run of
/// other characters as one space: `Sainte-Foy-lès-Lyon` → `ste foy les lyon`.
pub fn normalize(text: &str) -> String {
    let plain: String = text
        .nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'œ' => "oe".to_owned(),
            'æ' => "ae".to_owned(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            _ => " ".to_owned(),
        })
        .collect();
    plain
        .split_whitespace()
        .map(|word| match word {
            "saint" => "st",
            "sainte" => "ste",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// How well a name key matches the text of a query (lower is better).
fn text_rank(key: &str, text: &str) -> Option<u8> {
    if key.is_empty() {
        None
    } else if key == text {
        Some(0)
    } else if key.starts_with(&format!("{text} ")) {
        Some(1)
    } else if key.starts_with(text) {
        Some(2)
    } else if key.contains(&format!(" {text}")) {
        Some(3)
    } else {
        None
    }
}

/// The places a query names, best first, at most `limit`: a postal code
/// (or its first digits), a town (or its beginning), or both. An empty
/// query finds nothing.
pub fn search(query: &str, limit: usize) -> Vec<&'static Place> {
    let normalized = normalize(query);
    let (digits, words): (Vec<&str>, Vec<&str>) = normalized
        .split(' ')
        .filter(|w| !w.is_empty())
        .partition(|w| w.chars().all(|c| c.is_ascii_digit()));
    let code = digits.first().copied().filter(|d| d.len() <= 5);
    let text = words.join(" ");
    if code.is_none() && text.is_empty() {
        return Vec::new();
    }
    let index = index();
    let mut found: Vec<(u8, usize)> = index
        .places
        .iter()
        .zip(&index.keys)
        .enumerate()
        .filter_map(|(i, (place, (name, routing)))| {
            if code.is_some_and(|c| !place.postal_code.starts_with(c)) {
                return None;
            }
            let rank = if text.is_empty() {
                0
            } else {
                let by_name = text_rank(name, &text);
                let by_routing = text_rank(routing, &text).map(|r| r + 1);
                by_name.into_iter().chain(by_routing).min()?
            };
            Some((rank, i))
        })
        .collect();
    found.sort_by(|a, b| {
        let (pa, pb) = (&index.places[a.1], &index.places[b.1]);
        (a.0, pa.name.len(), pa.name, pa.postal_code).cmp(&(
            b.0,
            pb.name.len(),
            pb.name,
            pb.postal_code,
        ))
    });
    found.truncate(limit);
    found.into_iter().map(|(_, i)| &index.places[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geo::haversine_km;

    #[test]
    fn the_table_is_read_whole() {
        let places = all();
        assert!(places.len() > 35_000, "{}", places.len());
        assert_eq!(places.len(), TABLE.lines().count(), "a line did not parse");
    }

    #[test]
    fn names_are_normalized_the_way_people_type() {
        assert_eq!(normalize("Sainte-Foy-lès-Lyon"), "ste foy les lyon");
        assert_eq!(normalize("  L'Haÿ-les-Roses "), "l hay les roses");
        assert_eq!(normalize("SAINT-ÉTIENNE"), "st etienne");
        assert_eq!(normalize("Œuilly"), "oeuilly");
    }

    #[test]
    fn a_town_is_found_by_name_without_accents() {
        let found = search("villeurbanne", 5);
        let first = found.first().expect("Villeurbanne");
        assert_eq!(first.name, "Villeurbanne");
        assert_eq!(first.postal_code, "69100");
        assert_eq!(first.precision, Precision::Commune);
        let lyon = Coordinates::parse(45.764, 4.8357).expect("point");
        assert!(haversine_km(first.at, lyon) < 6.0);
        let etienne = search("saint etienne", 3);
        assert_eq!(etienne.first().map(|p| p.name), Some("Saint-Étienne"));
    }

    #[test]
    fn a_city_is_found_by_its_routing_label() {
        let found = search("Lyon", 20);
        assert!(found.iter().any(|p| p.name == "Lyon 4e Arrondissement"));
        assert!(found.iter().take(9).all(|p| p.name.starts_with("Lyon ")));
    }

    #[test]
    fn a_postal_code_or_its_beginning_finds_its_communes() {
        let found = search("69004", 10);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].name, "Lyon 4e Arrondissement");
        let sector = search("690", 100);
        assert!(sector.len() > 5);
        assert!(sector.iter().all(|p| p.postal_code.starts_with("690")));
        let both = search("69100 villeurb", 10);
        assert_eq!(both.first().map(|p| p.name), Some("Villeurbanne"));
    }

    #[test]
    fn nothing_is_found_for_nothing_or_nonsense() {
        assert!(search("", 10).is_empty());
        assert!(search("  -- ", 10).is_empty());
        assert!(search("zzzqqq", 10).is_empty());
        assert!(search("99999", 10).is_empty());
        assert_eq!(search("a", 3).len(), 3, "a prefix finds at most the limit");
    }
}
