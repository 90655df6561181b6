//! A producer's legal information ("Infos légales"): legal name, SIRET,
//! address and VAT number. Shown read-only to the producer; only a
//! platform admin changes it (the guide: "modifiables par un
//! administrateur").
//!
//! A [`Siret`] is 14 digits (spaces allowed when typed) passing the Luhn
//! check that INSEE numbers carry (La Poste's establishments, SIREN
//! 356000000, use a digit-sum rule instead). A [`VatNumber`] is a country
//! code and 2–13 letters or digits; a French one (`FR` + 2-digit key +
//! SIREN) must have the key computed from its SIREN.

use super::error::FieldError;
use super::text::ShortText;

/// A valid SIRET (establishment number), 14 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Siret(String);

impl Siret {
    pub fn parse(value: &str, field: &str) -> Result<Siret, FieldError> {
        let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 14 || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(FieldError::new(field, "must be 14 digits"));
        }
        let la_poste = digits.starts_with("356000000");
        let valid = if la_poste {
            digits.bytes().map(|b| u32::from(b - b'0')).sum::<u32>() % 5 == 0
        } else {
            luhn(&digits)
        };
        if !valid {
            return Err(FieldError::new(field, "is not a valid SIRET number"));
        }
        Ok(Siret(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SIREN (company number): its first 9 digits.
    pub fn siren(&self) -> &str {
        &self.0[..9]
    }
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// An intra-community VAT number, uppercase without spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VatNumber(String);

impl VatNumber {
    pub fn parse(value: &str, field: &str) -> Result<VatNumber, FieldError> {
        let text: String = value
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase();
        let (country, rest) = text.split_at(text.len().min(2));
        let shaped = country.len() == 2
            && country.chars().all(|c| c.is_ascii_uppercase())
            && (2..=13).contains(&rest.len())
            && rest.chars().all(|c| c.is_ascii_alphanumeric());
        if !shaped {
            return Err(FieldError::new(
                field,
                "is not a VAT number such as FR40303265045",
            ));
        }
        if country == "FR" && !french_key_matches(rest) {
            return Err(FieldError::new(field, "is not a valid French VAT number"));
        }
        Ok(VatNumber(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `FR` + key + SIREN: key = (12 + 3 × (SIREN mod 97)) mod 97.
fn french_key_matches(rest: &str) -> bool {
    if rest.len() != 11 || !rest.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let (key, siren) = rest.split_at(2);
    match (key.parse::<u64>(), siren.parse::<u64>()) {
        (Ok(key), Ok(siren)) => key == (12 + 3 * (siren % 97)) % 97,
        _ => false,
    }
}

/// Validated legal information; every part optional (not yet known).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LegalInfo {
    pub legal_name: Option<ShortText>,
    pub siret: Option<Siret>,
    pub address: Option<ShortText>,
    pub vat_number: Option<VatNumber>,
}

impl LegalInfo {
    /// Parses the four fields (empty = unknown), naming every bad one.
    pub fn parse(
        legal_name: &str,
        siret: &str,
        address: &str,
        vat_number: &str,
    ) -> Result<LegalInfo, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut optional = |value: &str, parse: &dyn Fn(&str) -> Result<(), FieldError>| {
            if value.trim().is_empty() {
                return false;
            }
            match parse(value) {
                Ok(()) => true,
                Err(e) => {
                    errors.push(e);
                    false
                }
            }
        };
        let name_ok = optional(legal_name, &|v| {
            ShortText::parse(v, "legal_name", 200).map(|_| ())
        });
        let siret_ok = optional(siret, &|v| Siret::parse(v, "siret").map(|_| ()));
        let address_ok = optional(address, &|v| {
            ShortText::parse(v, "legal_address", 500).map(|_| ())
        });
        let vat_ok = optional(vat_number, &|v| {
            VatNumber::parse(v, "vat_number").map(|_| ())
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(LegalInfo {
            legal_name: name_ok
                .then(|| ShortText::parse(legal_name, "legal_name", 200).ok())
                .flatten(),
            siret: siret_ok
                .then(|| Siret::parse(siret, "siret").ok())
                .flatten(),
            address: address_ok
                .then(|| ShortText::parse(address, "legal_address", 500).ok())
                .flatten(),
            vat_number: vat_ok
                .then(|| VatNumber::parse(vat_number, "vat_number").ok())
                .flatten(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sirets_are_fourteen_digits_with_their_check() {
        // INSEE's own SIRET.
        assert_eq!(
            Siret::parse("120 027 016 00019", "siret").unwrap().as_str(),
            "12002701600019"
        );
        assert_eq!(
            Siret::parse("12002701600019", "siret").unwrap().siren(),
            "120027016"
        );
        assert!(
            Siret::parse("12002701600018", "siret").is_err(),
            "check digit"
        );
        assert!(Siret::parse("1200270160001", "siret").is_err(), "13 digits");
        assert!(Siret::parse("1200270160001A", "siret").is_err());
        // A La Poste establishment (digit sum multiple of 5).
        assert!(Siret::parse("35600000000056", "siret").is_ok());
        assert!(Siret::parse("35600000000048", "siret").is_err());
    }

    #[test]
    fn vat_numbers_have_a_country_and_a_french_key() {
        assert_eq!(
            VatNumber::parse("fr 40 303 265 045", "vat")
                .unwrap()
                .as_str(),
            "FR40303265045"
        );
        assert!(
            VatNumber::parse("FR41303265045", "vat").is_err(),
            "wrong key"
        );
        assert!(VatNumber::parse("DE123456789", "vat").is_ok());
        assert!(VatNumber::parse("123", "vat").is_err());
    }

    #[test]
    fn legal_info_names_every_bad_field_and_leaves_blanks_unknown() {
        let info = LegalInfo::parse("EARL du Grand Champ", "", " ", "").unwrap();
        assert_eq!(info.legal_name.unwrap().as_str(), "EARL du Grand Champ");
        assert!(info.siret.is_none() && info.address.is_none());
        let errors = LegalInfo::parse("", "123", "", "XX").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["siret", "vat_number"]);
    }
}
