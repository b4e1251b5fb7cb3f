//! Secrets at rest: secret access keys are sealed with XChaCha20-Poly1305
//! under a key derived (argon2id) from `auth.encrypt.secret_key`; user
//! passwords are argon2id PHC hashes. Also AWS-shaped key pairs.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng;

const NONCE_LEN: usize = 24;
/// Fixed salt of the key derivation: every instance given the same
/// `secret_key` must derive the same key.
const KDF_SALT: &[u8] = b"tarn/auth.encrypt.secret_key/v1";

/// Seals and opens secrets with one key.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

/// Why a sealed secret could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    /// Wrong key, or bytes changed since sealing.
    #[error("sealed secret cannot be opened: wrong auth.encrypt.secret_key or corrupt data")]
    Open,
    /// Encryption failed (never for in-memory data of sane size).
    #[error("cannot seal a secret")]
    Seal,
    /// Key derivation failed (never with valid parameters).
    #[error("key derivation failed: {0}")]
    Kdf(String),
}

impl SecretBox {
    /// A box whose key is derived from `secret_key` (argon2id, 19 MiB, 2 passes).
    pub fn from_secret_key(secret_key: &str) -> Result<Self, CryptError> {
        let params =
            Params::new(19 * 1024, 2, 1, Some(32)).map_err(|e| CryptError::Kdf(e.to_string()))?;
        let mut key = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(secret_key.as_bytes(), KDF_SALT, &mut key)
            .map_err(|e| CryptError::Kdf(e.to_string()))?;
        let cipher =
            XChaCha20Poly1305::new_from_slice(&key).map_err(|e| CryptError::Kdf(e.to_string()))?;
        Ok(Self { cipher })
    }

    /// `nonce || ciphertext+tag`, with a fresh random nonce. `context` (the
    /// access key id) is authenticated too: a sealed secret moved to another
    /// key does not open.
    pub fn seal(&self, secret: &str, context: &str) -> Result<Vec<u8>, CryptError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill(&mut nonce);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| CryptError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    /// The secret that `seal` sealed with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String, CryptError> {
        if sealed.len() < NONCE_LEN {
            return Err(CryptError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: body,
            aad: context.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| CryptError::Open)?;
        String::from_utf8(plain).map_err(|_| CryptError::Open)
    }
}

/// The argon2id PHC string of `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, CryptError> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| CryptError::Kdf(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| CryptError::Kdf(e.to_string()))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// lakeFS-shaped credentials: `AKIAJ` + 14 base-32 characters + `Q` (20),
/// and a secret of 40 characters (base64 of 30 random bytes).
pub fn new_key_pair() -> (String, String) {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let middle: String = (0..14)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    let mut secret = [0u8; 30];
    rng.fill(&mut secret);
    (
        format!("AKIAJ{middle}Q"),
        base64::engine::general_purpose::STANDARD.encode(secret),
    )
}

/// Constant-time comparison, so that timing tells nothing about a secret.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_key() {
        let a = SecretBox::from_secret_key("one").unwrap();
        let sealed = a
            .seal("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AKIAONE")
            .unwrap();
        assert!(
            !sealed.windows(8).any(|w| w == b"wJalrXUt"),
            "no plaintext at rest"
        );
        assert_ne!(
            a.seal("same", "k").unwrap(),
            a.seal("same", "k").unwrap(),
            "fresh nonces"
        );
        assert_eq!(
            a.open(&sealed, "AKIAONE").unwrap(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert!(
            a.open(&sealed, "AKIATWO").is_err(),
            "bound to its access key id"
        );
        let again = SecretBox::from_secret_key("one").unwrap();
        assert!(
            again.open(&sealed, "AKIAONE").is_ok(),
            "the key is derived deterministically"
        );
        let b = SecretBox::from_secret_key("two").unwrap();
        assert!(b.open(&sealed, "AKIAONE").is_err());
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(
            a.open(&flipped, "AKIAONE").is_err(),
            "tampering is detected"
        );
        assert!(a.open(&sealed[..10], "AKIAONE").is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn key_pairs_have_aws_shape() {
        let (id, secret) = new_key_pair();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIAJ") && id.ends_with('Q'), "{id}");
        assert_eq!(secret.len(), 40);
        assert_ne!(new_key_pair().0, id);
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
