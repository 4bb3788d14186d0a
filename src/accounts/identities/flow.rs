//! A browser's round trip to a provider: `begin` sends it off with a fresh state, nonce and
//! PKCE challenge (kept in `oauth_flows`), `complete` takes the flow back once, checks that the
//! browser coming back is the one that left (a cookie's hash for sign-ins, the signed-in
//! account for links), trades the code for an ID token and believes it only if the provider
//! signed it for this flow.

use chrono::Utc;
use uuid::Uuid;

use super::service;
use super::store::{self, FlowRow, IdentityRow};
use crate::accounts::model::ClientType;
use crate::accounts::sessions::SessionTokens;
use crate::auth::rate_window;
use crate::auth::tokens::{constant_time_eq, secret_hash};
use crate::auth::viewer::ClientInfo;
use crate::config::{CorsOrigins, ProviderId};
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::oidc::ProviderTokens;

/// What the trip is for.
pub enum Purpose {
    /// Signing in (or up), into the tenant asked for or the last one used.
    SignIn { tenant_id: Option<Uuid> },
    /// Adding the identity to this signed-in account.
    Link { user_id: Uuid },
    /// Connecting this member's Google Drive (Google only): consent to the Drive scopes, with
    /// a refresh token (`access_type=offline`).
    Drive { user_id: Uuid, tenant_id: Uuid },
}

/// The scopes asked for when signing in: who, and their email.
const SIGN_IN_SCOPES: [&str; 2] = ["email", "profile"];
const MAX_RETURN_TO: usize = 2048;
/// Sign-ins one client address may start in ten minutes.
const SIGN_INS_BEGUN_PER_ADDRESS: u32 = 60;

/// Where a browser goes after the trip: a path on this server, or an absolute URL at one of the
/// web origins allowed by `LOREGRAPH_CORS_ORIGINS` (a web client served elsewhere). Anything
/// else would make the callback an open redirect.
pub fn safe_return_to(requested: Option<&str>, origins: &CorsOrigins) -> AppResult<String> {
    let Some(requested) = requested.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok("/".into());
    };
    let refuse = || {
        AppError::bad_field(
            "returnTo",
            "returnTo must be a path on this server or a URL of an allowed web origin",
        )
    };
    if requested.len() > MAX_RETURN_TO || requested.chars().any(|c| c.is_control()) {
        return Err(refuse());
    }
    if requested.starts_with('/') {
        return resolve_here(requested)
            .map(|url| path_of(&url))
            .ok_or_else(refuse);
    }
    let url = reqwest::Url::parse(requested).map_err(|_| refuse())?;
    let origin = url.origin().ascii_serialization();
    match origins {
        CorsOrigins::List(allowed) if allowed.iter().any(|a| a == &origin) => Ok(url.to_string()),
        _ => Err(refuse()),
    }
}

/// A path resolved as a browser would resolve it on this server (dot segments, backslashes,
/// escapes); None when what remains is not a path here (`//host` is read as another host).
fn resolve_here(path: &str) -> Option<reqwest::Url> {
    let base = reqwest::Url::parse("http://relative.invalid/").ok()?;
    let url = base.join(path).ok()?;
    (url.origin() == base.origin() && !url.path().starts_with("//")).then_some(url)
}

/// A URL on this server as the path (with query and fragment) a `Location` names.
fn path_of(url: &reqwest::Url) -> String {
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    if let Some(fragment) = url.fragment() {
        path.push('#');
        path.push_str(fragment);
    }
    path
}

/// Where a browser lands after a trip (a `returnTo` that passed [`safe_return_to`]) with
/// `name=value` added to its query.
pub fn with_query(target: &str, name: &str, value: &str) -> String {
    let relative = target.starts_with('/');
    let parsed = if relative {
        resolve_here(target)
    } else {
        reqwest::Url::parse(target).ok()
    };
    let Some(mut url) = parsed else {
        return "/".into();
    };
    url.query_pairs_mut().append_pair(name, value);
    if relative {
        path_of(&url)
    } else {
        url.to_string()
    }
}

/// The callback URL registered with the provider (Drive's has its own, as in seed 001).
pub fn callback_url(
    platform: &Platform,
    provider: ProviderId,
    drive: bool,
    client: &ClientInfo,
) -> AppResult<String> {
    let base = platform.public_base(client)?;
    Ok(if drive {
        format!("{base}/api/auth/oauth/{}/drive/callback", provider.as_str())
    } else {
        format!("{base}/api/auth/oauth/{}/callback", provider.as_str())
    })
}

/// What a Drive connection's consent asks for beyond `openid`.
fn drive_scopes(platform: &Platform) -> Vec<&str> {
    std::iter::once("email")
        .chain(platform.config.drive.scopes.iter().map(String::as_str))
        .collect()
}

/// Google's parameters for a refresh token (`offline`), shown every time (`consent`, or no
/// new refresh token is issued), adding to what the user granted before.
const DRIVE_EXTRA: [(&str, &str); 3] = [
    ("access_type", "offline"),
    ("prompt", "consent"),
    ("include_granted_scopes", "true"),
];

/// A trip begun: where to send the browser, and the flow's `state` (which names the cookie that
/// binds a sign-in to its browser: [`flow_cookie_name`]).
pub struct Begun {
    pub url: String,
    pub state: String,
}

/// The cookie that ties the flow of `state` to its browser: one per flow, so a second sign-in
/// started in another tab does not break the first.
pub fn flow_cookie_name(state: &str) -> String {
    format!("lg_oauth_{}", &hex::encode(secret_hash(state))[..16])
}

/// Sends a browser to `provider`. `browser_secret` is the random value of the cookie the edge
/// sets on the browser (sign-ins), whose hash the flow keeps.
pub async fn begin(
    platform: &Platform,
    provider: ProviderId,
    purpose: Purpose,
    browser_secret: Option<&str>,
    return_to: Option<&str>,
    client: &ClientInfo,
) -> AppResult<Begun> {
    let providers = &platform.providers;
    let found = providers.require(provider)?;
    let return_to = safe_return_to(return_to, &platform.config.http.cors_origins)?;
    let mut conn = platform.pool.get().await?;
    if matches!(purpose, Purpose::SignIn { .. }) {
        // Anyone may start one; each is a row for ten minutes.
        rate_window::ensure_within(
            &mut conn,
            &rate_window::address_key("oauth", client.ip),
            SIGN_INS_BEGUN_PER_ADDRESS,
            std::time::Duration::from_secs(600),
            "too many sign-ins started from this address; try again later",
        )
        .await?;
    }
    let drive = matches!(purpose, Purpose::Drive { .. });
    if drive && provider != ProviderId::Google {
        return Err(AppError::bad_input("Drive connects through Google only"));
    }
    let redirect_uri = callback_url(platform, provider, drive, client)?;
    let authorization = if drive {
        found
            .authorize(
                providers.http(),
                &redirect_uri,
                &drive_scopes(platform),
                &DRIVE_EXTRA,
            )
            .await?
    } else {
        // Linking asks which account to use, rather than taking the one signed in at the
        // provider already.
        let extra: &[(&str, &str)] = match purpose {
            Purpose::Link { .. } => &[("prompt", "select_account")],
            _ => &[],
        };
        found
            .authorize(providers.http(), &redirect_uri, &SIGN_IN_SCOPES, extra)
            .await?
    };
    let (purpose, user_id, tenant_id) = match purpose {
        Purpose::SignIn { tenant_id } => ("sign_in", None, tenant_id),
        Purpose::Link { user_id } => ("link", Some(user_id), None),
        Purpose::Drive { user_id, tenant_id } => ("drive", Some(user_id), Some(tenant_id)),
    };
    let expires_at = Utc::now()
        + chrono::Duration::from_std(platform.config.identity.flow_ttl)
            .map_err(AppError::internal)?;
    store::insert_flow(
        &mut conn,
        &FlowRow {
            state_hash: secret_hash(&authorization.state),
            provider: provider.as_str().to_owned(),
            purpose: purpose.to_owned(),
            pkce_verifier: authorization.pkce_verifier,
            nonce: authorization.nonce,
            browser_hash: browser_secret.map(secret_hash),
            user_id,
            tenant_id,
            redirect_uri,
            return_to,
            expires_at,
        },
    )
    .await?;
    // Flows browsers never finish are forgotten a few at a time by those that start.
    store::prune_flows(&mut conn, 20).await?;
    Ok(Begun {
        url: authorization.url,
        state: authorization.state,
    })
}

/// What a browser brought back to `/api/auth/oauth/{provider}/callback`.
pub struct Callback<'a> {
    pub provider: ProviderId,
    pub state: Option<&'a str>,
    pub code: Option<&'a str>,
    /// The provider's `error` (the user declined, ...).
    pub error: Option<&'a str>,
    /// The flow cookie's value, if the browser sent it.
    pub browser_secret: Option<&'a str>,
    /// The account of the browser's session cookie, if it has one.
    pub signed_in_user: Option<Uuid>,
    /// Whether it came back to Drive's callback.
    pub drive: bool,
    pub client: &'a ClientInfo,
}

pub enum Completed {
    SignedIn(Box<SessionTokens>),
    Linked(IdentityRow),
    /// Drive's consent was given: the tokens, for the drive domain to keep.
    DriveConsented {
        user_id: Uuid,
        tenant_id: Uuid,
        tokens: ProviderTokens,
        /// The Google account's address, as its ID token says.
        email: Option<String>,
    },
}

/// How a trip ended, and where the browser goes next (None when the flow is unknown: there
/// is nowhere trustworthy to send it).
pub struct Outcome {
    pub return_to: Option<String>,
    pub result: AppResult<Completed>,
}

pub async fn complete(platform: &Platform, callback: Callback<'_>) -> Outcome {
    let unknown =
        || AppError::bad_input("this sign-in link is unknown, used or expired; start again");
    let Some(state) = callback.state.filter(|s| !s.is_empty() && s.len() <= 512) else {
        return Outcome {
            return_to: None,
            result: Err(unknown()),
        };
    };
    let flow = match platform.pool.get().await {
        Ok(mut conn) => store::take_flow(&mut conn, &secret_hash(state)).await,
        Err(error) => Err(error.into()),
    };
    let flow = match flow {
        Ok(Some(flow))
            if flow.provider == callback.provider.as_str() && flow.expires_at > Utc::now() =>
        {
            flow
        }
        Ok(_) => {
            return Outcome {
                return_to: None,
                result: Err(unknown()),
            };
        }
        Err(error) => {
            return Outcome {
                return_to: None,
                result: Err(error),
            };
        }
    };
    let return_to = Some(flow.return_to.clone());
    Outcome {
        return_to,
        result: finish(platform, &callback, flow).await,
    }
}

async fn finish(
    platform: &Platform,
    callback: &Callback<'_>,
    flow: FlowRow,
) -> AppResult<Completed> {
    // The browser coming back must be the one that left: the flow cookie for sign-ins (else a
    // link with someone else's code would sign this browser into their account), the same
    // signed-in account for links (else someone's identity could join another's account).
    let same_browser = match (
        flow.purpose.as_str(),
        &flow.browser_hash,
        callback.browser_secret,
    ) {
        ("sign_in", Some(expected), Some(secret)) => {
            constant_time_eq(&hex::encode(expected), &hex::encode(secret_hash(secret)))
        }
        ("link" | "drive", _, _) => {
            flow.user_id.is_some() && flow.user_id == callback.signed_in_user
        }
        _ => false,
    };
    if !same_browser {
        return Err(AppError::Forbidden {
            message: "this sign-in was started in another browser or session; start again here"
                .into(),
            reason: Some("wrong_browser"),
        });
    }
    if let Some(error) = callback.error {
        let declined = error == "access_denied";
        return Err(AppError::Forbidden {
            message: if declined {
                "the sign-in was declined at the provider".into()
            } else {
                "the provider could not complete the sign-in".into()
            },
            reason: Some(if declined {
                "access_denied"
            } else {
                "provider_error"
            }),
        });
    }
    let code = callback
        .code
        .filter(|c| !c.is_empty() && c.len() <= 4096)
        .ok_or_else(|| AppError::bad_input("the provider sent no code back"))?;
    let providers = &platform.providers;
    let provider = providers.require(callback.provider)?;
    let drive = flow.purpose == "drive";
    if drive != callback.drive {
        return Err(AppError::bad_input(
            "this sign-in came back to the wrong callback",
        ));
    }
    let tokens = provider
        .exchange_code(
            providers.http(),
            &flow.redirect_uri,
            code,
            &flow.pkce_verifier,
        )
        .await?;
    let id_token = tokens
        .id_token
        .clone()
        .ok_or_else(|| AppError::Upstream("the provider sent no ID token".into()))?;
    let claims = provider
        .verify_id_token(providers.http(), &id_token, Some(&flow.nonce))
        .await?;
    match (flow.purpose.as_str(), flow.user_id) {
        ("drive", Some(user_id)) => Ok(Completed::DriveConsented {
            user_id,
            tenant_id: flow
                .tenant_id
                .ok_or_else(|| AppError::bad_input("this Drive consent names no tenant"))?,
            email: claims.email.clone(),
            tokens,
        }),
        ("link", Some(user_id)) => {
            let mut conn = platform.pool.get().await?;
            let identity = service::link(&mut conn, user_id, callback.provider, &claims).await?;
            service::tell_owner_of_link(platform, user_id, callback.provider, &identity);
            Ok(Completed::Linked(identity))
        }
        _ => {
            let tokens = service::sign_in(
                platform,
                callback.provider,
                &claims,
                flow.tenant_id,
                callback.client,
                ClientType::Browser,
            )
            .await?;
            Ok(Completed::SignedIn(Box::new(tokens)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn a_reason_is_added_to_the_landing_query() {
        assert_eq!(with_query("/", "linked", "google"), "/?linked=google");
        assert_eq!(
            with_query("/settings?tab=a#top", "oauth_error", "link_required"),
            "/settings?tab=a&oauth_error=link_required#top"
        );
        assert_eq!(
            with_query("https://app.example.com/x", "linked", "microsoft"),
            "https://app.example.com/x?linked=microsoft"
        );
    }
}
