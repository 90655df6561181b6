//! Secrets: argon2id password hashes and bearer tokens. A token is 256
//! random bits, given to the client once and stored only as its SHA-256
//! hash. Neither passwords nor tokens are ever logged (their types' `Debug`
//! hides them).
//!
//! Hashing is bounded to one password per core at a time: each argon2id
//! hash holds its memory cost (19 MiB) while it runs, so a sign-up rush
//! would otherwise take gigabytes — which the allocator keeps afterwards —
//! and starve every other request of CPU. The others wait their turn.

use secrecy::{ExposeSecret, SecretString};
use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::domain::account::Password;

/// A freshly minted bearer token: the clear text goes to the client once.
#[derive(Debug)]
pub struct IssuedToken {
    pub clear: SecretString,
    pub hash: [u8; 32],
}

/// Mints a token of 256 random bits.
pub fn issue_token() -> IssuedToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let clear = SecretString::from(URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_token(&clear);
    IssuedToken { clear, hash }
}

/// The stored form of a token.
pub fn hash_token(clear: &SecretString) -> [u8; 32] {
    Sha256::digest(clear.expose_secret().as_bytes()).into()
}

fn hasher(memory_kib: u32) -> Argon2<'static> {
    let params = Params::new(memory_kib.max(Params::MIN_M_COST), 2, 1, None)
        .unwrap_or_else(|_| Params::default());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with argon2id (CPU-heavy: call from a blocking thread).
pub fn hash_password(password: &Password, memory_kib: u32) -> Result<String, String> {
    hash_secret(password.expose().as_bytes(), memory_kib)
}

fn hash_secret(secret: &[u8], memory_kib: u32) -> Result<String, String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher(memory_kib)
        .hash_password(secret, &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// The hash an unknown email's password is checked against: a random
/// secret hashed once with the same cost as real passwords, so that
/// "no such account" takes as long as "wrong password" and the timing of a
/// login does not tell which emails have accounts.
/// CPU-heavy the first time: see [`decoy_hash_in_turn`].
pub fn decoy_hash(memory_kib: u32) -> Result<String, String> {
    if let Some(hash) = cached_decoy(memory_kib) {
        return Ok(hash);
    }
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let hash = hash_secret(&secret, memory_kib)?;
    let _ = DECOY.set((memory_kib, hash.clone()));
    Ok(hash)
}

static DECOY: OnceLock<(u32, String)> = OnceLock::new();

fn cached_decoy(memory_kib: u32) -> Option<String> {
    DECOY
        .get()
        .filter(|(cost, _)| *cost == memory_kib)
        .map(|(_, hash)| hash.clone())
}

/// [`decoy_hash`], made on a blocking thread in turn the first time.
pub async fn decoy_hash_in_turn(memory_kib: u32) -> Result<String, String> {
    if let Some(hash) = cached_decoy(memory_kib) {
        return Ok(hash);
    }
    let _turn = hashing_turns().acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || decoy_hash(memory_kib))
        .await
        .map_err(|e| e.to_string())?
}

/// The turns at hashing: one per core.
fn hashing_turns() -> &'static Semaphore {
    static TURNS: OnceLock<Semaphore> = OnceLock::new();
    TURNS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)))
}

/// [`hash_password`] on a blocking thread, waiting for a turn.
pub async fn hash_password_in_turn(password: Password, memory_kib: u32) -> Result<String, String> {
    let _turn = hashing_turns().acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || hash_password(&password, memory_kib))
        .await
        .map_err(|e| e.to_string())?
}

/// [`verify_password`] on a blocking thread, waiting for a turn (`Err`
/// when the hashing itself failed).
pub async fn verify_password_in_turn(password: String, stored: String) -> Result<bool, String> {
    let _turn = hashing_turns().acquire().await.map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
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
    fn the_decoy_costs_what_a_real_password_costs_and_matches_nothing() {
        let memory = 1024;
        let real = hash_password(
            &Password::parse("correct horse battery", "password").expect("valid"),
            memory,
        )
        .expect("hash");
        let decoy = decoy_hash(memory).expect("decoy");
        assert_eq!(decoy_hash(memory).expect("again"), decoy, "made once");
        let (real, decoy_parsed) = (
            PasswordHash::new(&real).expect("real parses"),
            PasswordHash::new(&decoy).expect("decoy parses"),
        );
        assert_eq!(decoy_parsed.algorithm, real.algorithm);
        assert_eq!(
            decoy_parsed.params, real.params,
            "same memory, time and lanes"
        );
        for guess in ["", "correct horse battery", "password"] {
            assert!(!verify_password(guess, &decoy));
        }
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = issue_token();
        let b = issue_token();
        assert_ne!(a.clear.expose_secret(), b.clear.expose_secret());
        assert_eq!(
            a.clear.expose_secret().len(),
            43,
            "256 bits in unpadded base64url"
        );
        assert_eq!(hash_token(&a.clear), a.hash);
        assert!(!format!("{a:?}").contains(a.clear.expose_secret()));
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
