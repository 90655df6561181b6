//! Secrets: argon2id password hashes and bearer tokens. A token is 256
//! random bits, given to the client once and stored only as its SHA-256
//! hash. Neither passwords nor tokens are ever logged (their types' `Debug`
//! hides them).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::domain::account::Password;

/// A freshly minted bearer token: the clear text goes to the client once.
pub struct IssuedToken {
    pub clear: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedToken(***)")
    }
}

/// Mints a token of 256 random bits.
pub fn issue_token() -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let clear = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&clear);
    IssuedToken { clear, hash }
}

/// The stored form of a token.
pub fn hash_token(clear: &str) -> [u8; 32] {
    Sha256::digest(clear.as_bytes()).into()
}

fn hasher(memory_kib: u32) -> Argon2<'static> {
    let params = Params::new(memory_kib.max(Params::MIN_M_COST), 2, 1, None)
        .unwrap_or_else(|_| Params::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id (CPU-heavy: call from a blocking thread).
pub fn hash_password(password: &Password, memory_kib: u32) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher(memory_kib)
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored hash (parameters come from the hash).
pub fn verify_password(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = issue_token();
        let b = issue_token();
        assert_ne!(a.clear, b.clear);
        assert_eq!(a.clear.len(), 43, "256 bits in unpadded base64url");
        assert_eq!(hash_token(&a.clear), a.hash);
        assert!(!format!("{a:?}").contains(&a.clear));
    }

    #[test]
    fn passwords_verify_only_when_equal() {
        let pw = Password::parse("correct horse battery", "password").expect("valid");
        let stored = hash_password(&pw, 1024).expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &stored));
        assert!(!verify_password("correct horse battery!", &stored));
        assert!(!verify_password("x", "not a hash"));
    }
}
