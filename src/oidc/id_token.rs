//! Believing an ID token: its signature by one of the provider's published keys (asymmetric
//! algorithms only), its issuer, its audience (this server's client id), its expiry and, when
//! the flow sent one, its nonce.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use super::http::OidcHttp;
use super::{OidcError, Provider};

/// Far above any real ID token (Google's are about 1 KiB), far below anything costly.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Clock skew forgiven between the provider and us, seconds.
const LEEWAY_SECS: u64 = 60;
/// The algorithms a provider may sign with. Symmetric ones (HS*) would let anyone holding the
/// client secret mint tokens, and `none` anyone at all.
const ALLOWED: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];
/// Microsoft's multi-tenant discovery documents name their issuer with this placeholder; the
/// token's `tid` fills it.
const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct IdClaims {
    /// The provider's stable id of the account: what an identity is keyed by.
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider vouches that the subject controls `email`.
    pub email_verified: bool,
    pub name: Option<String>,
    /// When the token expires (seconds since the epoch).
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct RawClaims {
    iss: String,
    sub: String,
    exp: i64,
    /// A string or an array of them (checked by `jsonwebtoken`; counted here).
    aud: Value,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// A boolean, or (some providers) the string "true".
    #[serde(default)]
    email_verified: Option<Value>,
    /// Microsoft's "email domain owner verified" optional claim.
    #[serde(default)]
    xms_edov: Option<Value>,
    #[serde(default)]
    name: Option<String>,
    /// Microsoft's directory (tenant) id.
    #[serde(default)]
    tid: Option<String>,
}

fn truthy(value: Option<&Value>) -> bool {
    match value {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn invalid(message: &str) -> OidcError {
    OidcError::Invalid(message.to_owned())
}

/// Whether `iss` is the provider's issuer: the discovered one, Google's scheme-less legacy
/// form of it, or Microsoft's template filled with the token's tenant.
pub fn issuer_matches(discovered: &str, iss: &str, tenant: Option<&str>) -> bool {
    if discovered.contains(TENANT_PLACEHOLDER) {
        return tenant.is_some_and(|tid| {
            !tid.is_empty()
                && tid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && discovered.replace(TENANT_PLACEHOLDER, tid) == iss
        });
    }
    iss == discovered
        || (discovered == "https://accounts.google.com" && iss == "accounts.google.com")
}

/// Whether a discovery document's issuer is the one configured: equal, or Microsoft's template
/// standing for the multi-tenant issuer configured (`.../common/v2.0`).
pub fn is_configured_issuer(discovered: &str, configured: &str) -> bool {
    let discovered = discovered.trim_end_matches('/');
    // The one path segment where `configured` and `discovered` may differ.
    let segment_between = |before: &str, after: &str, url: &str| {
        (url.len() > before.len() + after.len() && url.starts_with(before) && url.ends_with(after))
            .then(|| url[before.len()..url.len() - after.len()].to_owned())
            .filter(|segment| !segment.contains('/'))
    };
    match discovered.split_once(TENANT_PLACEHOLDER) {
        Some((before, after)) => segment_between(before, after, configured).is_some(),
        None if discovered == configured => true,
        // Microsoft's `consumers` issuer discovers as the fixed directory of personal accounts.
        None => configured
            .rsplit_once("/consumers/")
            .and_then(|(before, after)| {
                segment_between(&format!("{before}/"), &format!("/{after}"), discovered)
            })
            .is_some_and(|tenant| {
                tenant.len() == 36 && tenant.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            }),
    }
}

impl Provider {
    /// Checks `token` and says whom it names. `nonce` is the one the flow sent, if any.
    pub async fn verify_id_token(
        &self,
        http: &OidcHttp,
        token: &str,
        nonce: Option<&str>,
    ) -> Result<IdClaims, OidcError> {
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
            return Err(invalid("the ID token is missing or too long"));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| invalid("the ID token is malformed"))?;
        if !ALLOWED.contains(&header.alg) {
            return Err(invalid("the ID token's signing algorithm is not accepted"));
        }
        let discovered = self.discovery.get(http).await?;
        let jwk = discovered.keys.key(http, header.kid.as_deref()).await?;
        if let Some(key_alg) = jwk.common.key_algorithm
            && format!("{key_alg:?}") != format!("{:?}", header.alg)
        {
            return Err(invalid("the ID token's algorithm does not match its key"));
        }
        let key =
            DecodingKey::from_jwk(&jwk).map_err(|_| invalid("the provider's key is unusable"))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = LEEWAY_SECS;
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let claims = jsonwebtoken::decode::<RawClaims>(token, &key, &validation)
            .map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    invalid("the ID token has expired")
                }
                jsonwebtoken::errors::ErrorKind::InvalidAudience => {
                    invalid("the ID token was issued to another application")
                }
                _ => invalid("the ID token's signature or claims are invalid"),
            })?
            .claims;
        if !issuer_matches(
            discovered.metadata.issuer.trim_end_matches('/'),
            &claims.iss,
            claims.tid.as_deref(),
        ) {
            return Err(invalid("the ID token was issued by another provider"));
        }
        // With several audiences, the party it was issued to must be us (OpenID Core 3.1.3.7).
        if claims
            .aud
            .as_array()
            .is_some_and(|audiences| audiences.len() > 1)
            && claims.azp.as_deref() != Some(self.settings.client_id.as_str())
        {
            return Err(invalid("the ID token was issued to another application"));
        }
        let now = chrono::Utc::now().timestamp();
        if claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECS as i64) {
            return Err(invalid("the ID token was issued in the future"));
        }
        if let Some(expected) = nonce
            && !claims
                .nonce
                .as_deref()
                .is_some_and(|sent| crate::auth::tokens::constant_time_eq(sent, expected))
        {
            return Err(invalid("the ID token does not answer this sign-in"));
        }
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(invalid("the ID token names no subject"));
        }
        let email_verified =
            truthy(claims.email_verified.as_ref()) || truthy(claims.xms_edov.as_ref());
        Ok(IdClaims {
            subject: claims.sub,
            email: claims
                .email
                .map(|e| e.trim().to_lowercase())
                .filter(|e| !e.is_empty()),
            email_verified,
            name: claims
                .name
                .map(|n| n.trim().chars().take(100).collect::<String>())
                .filter(|n| !n.is_empty()),
            expires_at: claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_match_exactly_or_through_known_forms() {
        assert!(issuer_matches("https://idp.test", "https://idp.test", None));
        assert!(!issuer_matches(
            "https://idp.test",
            "https://evil.test",
            None
        ));
        assert!(issuer_matches(
            "https://accounts.google.com",
            "accounts.google.com",
            None
        ));
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(issuer_matches(
            template,
            "https://login.microsoftonline.com/abc-123/v2.0",
            Some("abc-123")
        ));
        assert!(!issuer_matches(
            template,
            "https://login.microsoftonline.com/abc-123/v2.0",
            Some("other")
        ));
        assert!(!issuer_matches(
            template,
            "https://login.microsoftonline.com//v2.0",
            None
        ));
        assert!(!issuer_matches(
            template,
            "https://login.microsoftonline.com/a/b/v2.0",
            Some("a/b")
        ));
    }

    #[test]
    fn microsofts_template_stands_for_the_multi_tenant_issuer() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(is_configured_issuer(
            template,
            "https://login.microsoftonline.com/common/v2.0"
        ));
        assert!(!is_configured_issuer(
            template,
            "https://login.microsoftonline.com/a/b/v2.0"
        ));
        assert!(!is_configured_issuer(
            template,
            "https://evil.test/common/v2.0"
        ));
        assert!(is_configured_issuer(
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            "https://login.microsoftonline.com/consumers/v2.0"
        ));
        assert!(!is_configured_issuer(
            "https://evil.test/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            "https://login.microsoftonline.com/consumers/v2.0"
        ));
        assert!(is_configured_issuer(
            "https://idp.test/",
            "https://idp.test"
        ));
        assert!(!is_configured_issuer(
            "https://idp.test",
            "https://idp.test/x"
        ));
    }
}
