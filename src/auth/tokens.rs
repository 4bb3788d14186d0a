//! Access tokens (HS256 JWTs) and opaque secrets (refresh tokens, API keys, invites, CSRF tokens).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Role;

/// What a session token was issued for. Cookie (web) tokens live as long as their session and
/// carry a CSRF token that cookie-authenticated mutations must echo in a header.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Web,
}

#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct Claims {
    /// The user id.
    pub sub: Uuid,
    /// The active tenant when the token was issued; none for a session in no tenant.
    pub tid: Option<Uuid>,
    /// The role when the token was issued (informative: the live role is read per request).
    pub role: Option<Role>,
    /// The session the token belongs to; revoking it revokes the token.
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub kind: TokenKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature and expiry. The error says which, for the client.
    pub fn verify(&self, token: &str) -> Result<Claims, &'static str> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired",
                _ => "the access token is invalid",
            })
    }
}

/// `bytes` random bytes, base64url-encoded.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Opaque secrets are high-entropy, so a plain SHA-256 is the right way to store them: it is
/// what lets a lookup by hash use an index.
pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// An HMAC-SHA256 tag of `data` under a key derived from the server's `secret` for `purpose`:
/// what makes a capability (a share link's code) the server can recompute and nobody can forge.
pub fn keyed_tag(secret: &[u8], purpose: &str, data: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    type HmacSha256 = Hmac<Sha256>;
    let derive = |key: &[u8], message: &[u8]| -> [u8; 32] {
        let mut mac =
            <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
        mac.update(message);
        mac.finalize().into_bytes().into()
    };
    let key = derive(secret, purpose.as_bytes());
    derive(&key, data)
}

/// Compares two strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
