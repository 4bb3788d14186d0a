//! Signing in with Google and Microsoft (OpenID Connect), and the password-reset mail.

use std::time::Duration;

use clap::Args;

/// The providers a user may sign in with. Their names are the path segment of
/// `/api/auth/oauth/{provider}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderId {
    Google,
    Microsoft,
}

impl ProviderId {
    pub const ALL: [ProviderId; 2] = [ProviderId::Google, ProviderId::Microsoft];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Microsoft => "microsoft",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|id| id.as_str() == name)
    }

    /// The name shown on a sign-in button.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Microsoft => "Microsoft",
        }
    }
}

/// One OpenID provider as configured: its issuer (discovery starts from
/// `{issuer}/.well-known/openid-configuration`) and this server's client there.
#[derive(Clone)]
pub struct ProviderSettings {
    pub id: ProviderId,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("id", &self.id)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub struct IdentitySettings {
    /// The providers with a client id and secret, in a stable order.
    pub providers: Vec<ProviderSettings>,
    /// How long a browser may take between leaving for a provider and coming back.
    pub flow_ttl: Duration,
    /// Where the server can be reached from browsers (`LOREGRAPH_PUBLIC_URL`): the callback
    /// URLs registered with the providers and the links in mails are under it. Without it they
    /// are built from the request's `Host`.
    pub public_url: Option<String>,
    /// `smtp://`, `smtps://` or `smtp://...?tls=required` URL of the mail relay (credentials in
    /// the URL); without one, reset links are logged for the operator.
    pub smtp_url: Option<String>,
    /// The sender of the mails.
    pub mail_from: String,
    /// The page of the web client that reads `?token=` and calls `resetPassword`; default
    /// `{public url}/reset-password`.
    pub reset_page_url: Option<String>,
    /// How long a reset link works.
    pub reset_ttl: Duration,
    /// Registration is by beta code only (`LOREGRAPH_REGISTRATION=beta`): `register` and
    /// first sign-ins with a provider are refused; invites and `registerWithBetaCode` work.
    pub registration_closed: bool,
    /// Reset mails per account, and reset requests per client address, per hour.
    pub resets_per_account_per_hour: u32,
    pub resets_per_address_per_hour: u32,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            providers: Vec::new(),
            registration_closed: false,
            flow_ttl: Duration::from_secs(10 * 60),
            public_url: None,
            smtp_url: None,
            mail_from: "loregraph <no-reply@localhost>".into(),
            reset_page_url: None,
            reset_ttl: Duration::from_secs(3600),
            resets_per_account_per_hour: 3,
            resets_per_address_per_hour: 20,
        }
    }
}

impl IdentitySettings {
    pub fn provider(&self, id: ProviderId) -> Option<&ProviderSettings> {
        self.providers.iter().find(|p| p.id == id)
    }
}

#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Sign-in with Google and Microsoft, password reset")]
pub struct IdentityArgs {
    /// Google's issuer; point it at any OpenID provider (a test one, a self-hosted one).
    #[arg(
        long,
        env = "LOREGRAPH_OAUTH_GOOGLE_ISSUER",
        default_value = "https://accounts.google.com"
    )]
    pub oauth_google_issuer: String,
    /// This server's OAuth client id at Google; with the secret, enables Google sign-in.
    #[arg(long, env = "LOREGRAPH_OAUTH_GOOGLE_CLIENT_ID")]
    pub oauth_google_client_id: Option<String>,
    #[arg(
        long,
        env = "LOREGRAPH_OAUTH_GOOGLE_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub oauth_google_client_secret: Option<String>,
    /// Microsoft's issuer (`common` takes work, school and personal accounts; a directory's id
    /// takes only that directory's).
    #[arg(
        long,
        env = "LOREGRAPH_OAUTH_MICROSOFT_ISSUER",
        default_value = "https://login.microsoftonline.com/common/v2.0"
    )]
    pub oauth_microsoft_issuer: String,
    /// This server's application (client) id at Microsoft; with the secret, enables Microsoft
    /// sign-in.
    #[arg(long, env = "LOREGRAPH_OAUTH_MICROSOFT_CLIENT_ID")]
    pub oauth_microsoft_client_id: Option<String>,
    #[arg(
        long,
        env = "LOREGRAPH_OAUTH_MICROSOFT_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub oauth_microsoft_client_secret: Option<String>,
    /// The mail relay for password-reset mails, e.g. `smtps://user:pass@smtp.example.com` or
    /// `smtp://smtp.example.com:587?tls=required`. Unset, reset links are logged instead.
    #[arg(long, env = "LOREGRAPH_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of the server's mails.
    #[arg(
        long,
        env = "LOREGRAPH_MAIL_FROM",
        default_value = "loregraph <no-reply@localhost>"
    )]
    pub mail_from: String,
    /// The web page a reset link opens (it gets `?token=`); default `{public url}/reset-password`.
    #[arg(long, env = "LOREGRAPH_PASSWORD_RESET_URL")]
    pub password_reset_url: Option<String>,
    /// How long a reset link works, seconds.
    #[arg(long, env = "LOREGRAPH_PASSWORD_RESET_TTL", default_value_t = 3600)]
    pub password_reset_ttl: u64,
    /// Who may register: `open` (anyone) or `beta` (with a beta code only; invites still work).
    #[arg(long, env = "LOREGRAPH_REGISTRATION", default_value = "open")]
    pub registration: String,
}

fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl IdentityArgs {
    /// The section; `public_url` is the server's public address (`LOREGRAPH_PUBLIC_URL`).
    /// A provider with only one of its id and secret is refused: half a configuration is a
    /// mistake the operator should hear about at start-up.
    pub fn settings(self, public_url: Option<String>) -> anyhow::Result<IdentitySettings> {
        let mut providers = Vec::new();
        for (id, issuer, client_id, secret) in [
            (
                ProviderId::Google,
                self.oauth_google_issuer,
                self.oauth_google_client_id,
                self.oauth_google_client_secret,
            ),
            (
                ProviderId::Microsoft,
                self.oauth_microsoft_issuer,
                self.oauth_microsoft_client_id,
                self.oauth_microsoft_client_secret,
            ),
        ] {
            match (given(client_id), given(secret)) {
                (Some(client_id), Some(client_secret)) => providers.push(ProviderSettings {
                    id,
                    issuer: issuer.trim().trim_end_matches('/').to_owned(),
                    client_id,
                    client_secret,
                }),
                (None, None) => {}
                _ => anyhow::bail!(
                    "{} sign-in needs both a client id and a client secret",
                    id.display_name()
                ),
            }
        }
        let registration_closed = match self.registration.trim().to_ascii_lowercase().as_str() {
            "open" => false,
            "beta" => true,
            other => anyhow::bail!("LOREGRAPH_REGISTRATION is `open` or `beta`, not `{other}`"),
        };
        Ok(IdentitySettings {
            providers,
            registration_closed,
            public_url: public_url.map(|url| url.trim_end_matches('/').to_owned()),
            smtp_url: given(self.smtp_url),
            mail_from: self.mail_from,
            reset_page_url: given(self.password_reset_url),
            reset_ttl: Duration::from_secs(self.password_reset_ttl.max(60)),
            ..IdentitySettings::default()
        })
    }
}
