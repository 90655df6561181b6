//! Account credentials: e-mail addresses and passwords.
//!
//! An [`Email`] is stored trimmed and lowercased so that `Lea@Ferme.fr` and
//! `lea@ferme.fr` are one account. A [`Password`] never shows up in logs:
//! its `Debug` prints `Password(***)` and it has no `Display`; hashing is the
//! store's job (argon2), not the domain's.

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::FieldError;

/// A syntactically valid, normalized e-mail address (`local@domain.tld`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Trims, lowercases and checks basic syntax.
    pub fn parse(value: &str, field: &str) -> Result<Email, FieldError> {
        let email = value.trim().to_lowercase();
        let invalid = |reason: &str| FieldError::new(field, reason);
        if email.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if email.chars().count() > Self::MAX_LEN {
            return Err(invalid("must be at most 254 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("must not contain spaces"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(invalid("must look like name@example.org"));
        };
        if !valid_local(local) || !valid_domain(domain) {
            return Err(invalid("must look like name@example.org"));
        }
        Ok(Email(email))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !local.contains(['"', '(', ')', ',', ':', ';', '<', '>', '[', '\\', ']'])
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    labels.len() >= 2 && labels.iter().all(label_ok) && tld_ok
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Email::parse(&raw, "").map_err(|e| serde::de::Error::custom(e.reason))
    }
}

/// A clear-text password of 8..=128 characters, kept as typed (no trimming).
///
/// A [`SecretString`]: neither `Display` nor `Serialize`, `Debug` hides it,
/// and its memory is wiped when dropped.
#[derive(Clone)]
pub struct Password(SecretString);

impl Password {
    /// Fewest characters accepted.
    pub const MIN_LEN: usize = 8;
    /// Most characters accepted (bounds the hashing work an attacker can ask for).
    pub const MAX_LEN: usize = 128;

    /// Checks the length.
    pub fn parse(value: &str, field: &str) -> Result<Password, FieldError> {
        let len = value.chars().count();
        if len < Self::MIN_LEN {
            return Err(FieldError::new(field, "must be at least 8 characters"));
        }
        if len > Self::MAX_LEN {
            return Err(FieldError::new(field, "must be at most 128 characters"));
        }
        Ok(Password(SecretString::from(value)))
    }

    /// The clear text, for hashing or verifying only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized() {
        let e = Email::parse("  Lea.Martin@Ferme-Des-Lilas.FR ", "email").unwrap();
        assert_eq!(e.as_str(), "lea.martin@ferme-des-lilas.fr");
        assert!(Email::parse("a+tag@b.co", "email").is_ok());
        assert!(Email::parse("x@sub.domain.example", "email").is_ok());
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "plain",
            "@ferme.fr",
            "lea@",
            "lea@ferme",
            "lea@ferme.",
            "lea@.fr",
            "lea@@ferme.fr",
            "lea@fer me.fr",
            "le a@ferme.fr",
            "lea@ferme.f",
            "lea@-ferme.fr",
            ".lea@ferme.fr",
            "le..a@ferme.fr",
            "lea@ferme..fr",
            "lea@1.2",
        ] {
            let e = Email::parse(bad, "email").unwrap_err();
            assert_eq!(e.field, "email", "{bad}");
        }
        let long = format!("{}@{}.fr", "a".repeat(64), "b".repeat(200));
        assert_eq!(
            Email::parse(&long, "email").unwrap_err().reason,
            "must be at most 254 characters"
        );
    }

    #[test]
    fn email_serde() {
        let e: Email = serde_json::from_str(r#""Lea@Ferme.fr""#).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), r#""lea@ferme.fr""#);
        assert!(serde_json::from_str::<Email>(r#""nope""#).is_err());
    }

    #[test]
    fn password_length() {
        assert!(Password::parse("1234567", "password").is_err());
        assert_eq!(
            Password::parse(" 1234567", "password").unwrap().expose(),
            " 1234567"
        );
        assert!(Password::parse(&"x".repeat(128), "password").is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129), "password")
                .unwrap_err()
                .field,
            "password"
        );
    }

    #[test]
    fn password_is_never_printed() {
        let p = Password::parse("correct horse battery", "password").unwrap();
        let shown = format!("{p:?} {:?}", Some(&p));
        assert_eq!(format!("{p:?}"), "Password(***)");
        assert!(!shown.contains("horse"));
    }
}
