//! The authorization code flow with PKCE (RFC 6749, RFC 7636) through the `oauth2` crate: the
//! URL a browser is sent to, and the exchange of the code it brings back for tokens.

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::http::{OidcHttp, host_of};
use super::{OidcError, Provider};

/// The token response's OpenID part: the ID token.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IdTokenField {
    #[serde(default)]
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type CodeClient = oauth2::Client<
    BasicErrorResponse,
    StandardTokenResponse<IdTokenField, BasicTokenType>,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Where to send the browser, and the secrets to keep until it comes back.
pub struct Authorization {
    pub url: String,
    /// Comes back as `?state=`; ties the callback to this flow.
    pub state: String,
    pub pkce_verifier: String,
    /// Comes back inside the ID token; ties the token to this flow.
    pub nonce: String,
}

/// What the token endpoint answered.
pub struct ProviderTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<std::time::Duration>,
    pub id_token: Option<String>,
    /// The scopes granted, when the provider says (it may grant fewer than asked).
    pub scopes: Option<Vec<String>>,
}

fn malformed(what: &str) -> OidcError {
    OidcError::Malformed(format!("the provider's {what} is not a usable URL"))
}

impl Provider {
    async fn client(&self, http: &OidcHttp, redirect_uri: &str) -> Result<CodeClient, OidcError> {
        let discovered = self.discovery.get(http).await?;
        let metadata = &discovered.metadata;
        Ok(
            oauth2::Client::new(ClientId::new(self.settings.client_id.clone()))
                .set_client_secret(ClientSecret::new(self.settings.client_secret.clone()))
                .set_auth_uri(
                    AuthUrl::new(metadata.authorization_endpoint.clone())
                        .map_err(|_| malformed("authorization endpoint"))?,
                )
                .set_token_uri(
                    TokenUrl::new(metadata.token_endpoint.clone())
                        .map_err(|_| malformed("token endpoint"))?,
                )
                .set_redirect_uri(
                    RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| {
                        OidcError::Malformed("the callback URL is not a URL".into())
                    })?,
                ),
        )
    }

    /// The authorization URL for `scopes` (plus `openid`), with a fresh state, nonce and PKCE
    /// challenge (S256); `extra` adds parameters (`access_type=offline`, `prompt=consent`).
    pub async fn authorize(
        &self,
        http: &OidcHttp,
        redirect_uri: &str,
        scopes: &[&str],
        extra: &[(&str, &str)],
    ) -> Result<Authorization, OidcError> {
        let client = self.client(http, redirect_uri).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let nonce = crate::auth::tokens::random_token(24);
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new("openid".into()))
            .add_extra_param("nonce", nonce.clone())
            .set_pkce_challenge(challenge);
        for scope in scopes {
            request = request.add_scope(Scope::new((*scope).to_owned()));
        }
        for (name, value) in extra {
            request = request.add_extra_param(*name, *value);
        }
        let (url, state) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            nonce,
        })
    }

    /// Trades the code the browser brought for tokens, proving with the PKCE verifier that
    /// this server began the flow.
    pub async fn exchange_code(
        &self,
        http: &OidcHttp,
        redirect_uri: &str,
        code: &str,
        pkce_verifier: &str,
    ) -> Result<ProviderTokens, OidcError> {
        let client = self.client(http, redirect_uri).await?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(http)
            .await
            .map_err(|error| token_error(&self.settings.issuer, error))?;
        Ok(ProviderTokens {
            access_token: answer.access_token().secret().clone(),
            refresh_token: answer.refresh_token().map(|t| t.secret().clone()),
            expires_in: answer.expires_in(),
            id_token: answer.extra_fields().id_token.clone(),
            scopes: answer
                .scopes()
                .map(|scopes| scopes.iter().map(|s| s.to_string()).collect()),
        })
    }
}

impl Provider {
    /// A new access token for a refresh token (RFC 6749, 6); the provider may send a new
    /// refresh token too.
    pub async fn refresh(
        &self,
        http: &OidcHttp,
        refresh_token: &str,
    ) -> Result<ProviderTokens, OidcError> {
        let discovered = self.discovery.get(http).await?;
        let client =
            oauth2::basic::BasicClient::new(ClientId::new(self.settings.client_id.clone()))
                .set_client_secret(ClientSecret::new(self.settings.client_secret.clone()))
                .set_token_uri(
                    TokenUrl::new(discovered.metadata.token_endpoint.clone())
                        .map_err(|_| malformed("token endpoint"))?,
                );
        let answer = client
            .exchange_refresh_token(&oauth2::RefreshToken::new(refresh_token.to_owned()))
            .request_async(http)
            .await
            .map_err(|error| token_error(&self.settings.issuer, error))?;
        Ok(ProviderTokens {
            access_token: answer.access_token().secret().clone(),
            refresh_token: answer.refresh_token().map(|t| t.secret().clone()),
            expires_in: answer.expires_in(),
            id_token: None,
            scopes: answer
                .scopes()
                .map(|scopes| scopes.iter().map(|s| s.to_string()).collect()),
        })
    }

    /// Revokes a token at the provider's revocation endpoint (RFC 7009); nothing to do when
    /// the provider has none.
    pub async fn revoke(&self, http: &OidcHttp, token: &str) -> Result<(), OidcError> {
        let discovered = self.discovery.get(http).await?;
        let Some(endpoint) = discovered.metadata.revocation_endpoint.as_deref() else {
            return Ok(());
        };
        let response = http
            .client()
            .post(endpoint)
            .basic_auth(&self.settings.client_id, Some(&self.settings.client_secret))
            .form(&[("token", token), ("token_type_hint", "refresh_token")])
            .send()
            .await
            .map_err(|_| {
                OidcError::Unreachable(format!("{} could not be reached", host_of(endpoint)))
            })?;
        // 200, or 400 for a token already revoked or expired: either way it no longer works.
        match response.status().as_u16() {
            200 | 400 => Ok(()),
            status => Err(OidcError::Unreachable(format!(
                "{} answered {status} to the revocation",
                host_of(endpoint)
            ))),
        }
    }
}

/// A refused code is the caller's problem (UNAUTHENTICATED); anything else is the provider's.
pub fn token_error(
    issuer: &str,
    error: RequestTokenError<OidcError, BasicErrorResponse>,
) -> OidcError {
    match error {
        // RFC 6749 5.2: `invalid_grant` is the code or refresh token (expired, used, revoked);
        // anything else is this server's client or request.
        RequestTokenError::ServerResponse(refusal) => {
            let code = refusal.error().as_ref().to_owned();
            let message = format!("{} refused the sign-in ({code})", host_of(issuer));
            if code == "invalid_grant" {
                OidcError::Invalid(message)
            } else {
                tracing::warn!(
                    issuer,
                    code,
                    "the provider's token endpoint refused this server's request"
                );
                OidcError::Refused(message)
            }
        }
        RequestTokenError::Request(error) => error,
        RequestTokenError::Parse(_, _) => OidcError::Malformed(format!(
            "{} sent an unreadable token response",
            host_of(issuer)
        )),
        RequestTokenError::Other(message) => {
            tracing::warn!(issuer, %message, "a provider sent an unexpected token response");
            OidcError::Malformed(format!(
                "{} sent an unexpected token response",
                host_of(issuer)
            ))
        }
    }
}
