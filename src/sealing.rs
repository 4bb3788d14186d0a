//! Secrets kept in the database sealed (AES-256-GCM) under a key the database never holds
//! (`LOREGRAPH_SECRETS_KEY`, or the data directory's `secrets.key`): a copy of the database
//! alone reveals no API key. Each sealed value is bound to where it is kept (its tenant and
//! row, as associated data), so a value copied into another row does not open there.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::error::{AppError, AppResult};

const NONCE_BYTES: usize = 12;

/// Seals and opens secrets with the server's key.
#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// `secret` sealed for the place `bound_to` names: a fresh random nonce, then the
    /// ciphertext and its tag.
    pub fn seal(&self, secret: &[u8], bound_to: &[u8]) -> AppResult<Vec<u8>> {
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret,
                    aad: bound_to,
                },
            )
            .map_err(|_| AppError::internal(anyhow::anyhow!("sealing a secret failed")))?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The secret sealed for `bound_to`; None when it was sealed under another key or for
    /// another place (or was altered).
    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_BYTES {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: bound_to,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_place() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal(b"sk-live-123", b"tenant/row").unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"sk-live-123"));
        assert_eq!(sealer.open(&sealed, b"tenant/row").unwrap(), b"sk-live-123");
        assert!(sealer.open(&sealed, b"tenant/other").is_none());
        assert!(Sealer::new(&[8; 32]).open(&sealed, b"tenant/row").is_none());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(sealer.open(&altered, b"tenant/row").is_none());
        assert!(sealer.open(&sealed[..5], b"tenant/row").is_none());
    }
}
