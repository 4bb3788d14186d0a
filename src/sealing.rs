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
    /// Keys being rotated out (`LOREGRAPH_SECRETS_KEY_PREVIOUS`): they still open what they
    /// sealed; nothing new is sealed with them.
    previous: Vec<Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer")
    }
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Self {
        Self::rotating(key, &[])
    }

    /// A sealer that seals with `key` and still opens what `previous` keys sealed.
    pub fn rotating(key: &[u8; 32], previous: &[[u8; 32]]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
            previous: previous.iter().map(|k| Aes256Gcm::new(k.into())).collect(),
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
        self.open_noting_key(sealed, bound_to)
            .map(|(secret, _)| secret)
    }

    /// The secret, and whether it was sealed with the current key (when not, seal it again).
    pub fn open_noting_key(&self, sealed: &[u8], bound_to: &[u8]) -> Option<(Vec<u8>, bool)> {
        if let Some(secret) = open_with(&self.cipher, sealed, bound_to) {
            return Some((secret, true));
        }
        self.previous
            .iter()
            .find_map(|cipher| open_with(cipher, sealed, bound_to))
            .map(|secret| (secret, false))
    }
}

fn open_with(cipher: &Aes256Gcm, sealed: &[u8], bound_to: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_BYTES {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: bound_to,
            },
        )
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_key_still_opens_what_it_sealed_and_says_so() {
        let old = Sealer::new(&[1; 32]);
        let sealed = old.seal(b"refresh-token", b"drive/row").unwrap();
        let rotated = Sealer::rotating(&[2; 32], &[[1; 32]]);
        assert_eq!(
            rotated.open_noting_key(&sealed, b"drive/row"),
            Some((b"refresh-token".to_vec(), false))
        );
        let resealed = rotated.seal(b"refresh-token", b"drive/row").unwrap();
        assert_eq!(
            rotated.open_noting_key(&resealed, b"drive/row"),
            Some((b"refresh-token".to_vec(), true))
        );
        assert!(old.open(&resealed, b"drive/row").is_none());
    }

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
