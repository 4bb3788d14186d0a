//! Language-model calls: the key API keys are sealed with, which addresses calls may reach, the
//! studio's own provider (whose calls are metered in BrainBits), and how long a call may take.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use clap::{ArgAction, Args};

/// The provider the studio (this server's operator) pays for: API connections that use it
/// carry no key of their own, and each of their calls is debited in BrainBits.
#[derive(Clone)]
pub struct StudioProvider {
    /// OPENAI_COMPATIBLE, ANTHROPIC or OLLAMA (the llm domain's `Provider` names).
    pub provider: String,
    pub base_url: String,
    pub api_key: Option<String>,
}

/// The key stays out of logs.
impl std::fmt::Debug for StudioProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudioProvider")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Language-model calls.
#[derive(Clone)]
pub struct LlmSettings {
    /// AES-256 key that seals API keys at rest. None: connections cannot keep a key.
    pub secrets_key: Option<[u8; 32]>,
    /// Keys being rotated out: they still open what they sealed (Drive tokens are sealed again
    /// under the current key when next refreshed).
    pub secrets_key_previous: Vec<[u8; 32]>,
    /// Whether tenants' connections may reach private networks and this machine (the studio's
    /// provider is the operator's choice and may be anywhere).
    pub allow_private_networks: bool,
    pub studio: Option<StudioProvider>,
    /// Tokens (prompt and answer) one BrainBit pays for on the studio's provider.
    pub tokens_per_brainbit: u32,
    /// The longest one call may take, retries included.
    pub timeout: Duration,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            secrets_key: None,
            secrets_key_previous: Vec::new(),
            allow_private_networks: false,
            studio: None,
            tokens_per_brainbit: 1_000,
            timeout: Duration::from_secs(600),
        }
    }
}

impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSettings")
            .field("has_secrets_key", &self.secrets_key.is_some())
            .field("allow_private_networks", &self.allow_private_networks)
            .field("studio", &self.studio)
            .field("tokens_per_brainbit", &self.tokens_per_brainbit)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The command line's (and environment's) part of the LLM section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Language models")]
pub struct LlmArgs {
    /// 32 bytes, base64: the AES-256-GCM key API keys are sealed with in the database. Unset, a
    /// key is generated into the data directory (`secrets.key`) on first start; give every
    /// node of a deployment the same key.
    #[arg(long, env = "LOREGRAPH_SECRETS_KEY", hide_env_values = true)]
    pub secrets_key: Option<String>,
    /// Comma-separated keys being rotated out (32 bytes, base64 each): what they sealed still
    /// opens; everything new is sealed with LOREGRAPH_SECRETS_KEY.
    #[arg(long, env = "LOREGRAPH_SECRETS_KEY_PREVIOUS", hide_env_values = true)]
    pub secrets_key_previous: Option<String>,
    /// Let API connections reach private networks and this machine (a self-hosted model on
    /// the LAN); by default they reach public addresses only.
    #[arg(long, env = "LOREGRAPH_LLM_ALLOW_PRIVATE_NETWORKS", action = ArgAction::Set, default_value_t = false)]
    pub llm_allow_private_networks: bool,
    /// The studio's own provider: OPENAI_COMPATIBLE, ANTHROPIC or OLLAMA. Connections that use
    /// it are metered in BrainBits.
    #[arg(long, env = "LOREGRAPH_LLM_STUDIO_PROVIDER")]
    pub llm_studio_provider: Option<String>,
    /// The studio provider's base URL (`https://api.openai.com/v1`).
    #[arg(long, env = "LOREGRAPH_LLM_STUDIO_BASE_URL")]
    pub llm_studio_base_url: Option<String>,
    /// The studio provider's API key.
    #[arg(long, env = "LOREGRAPH_LLM_STUDIO_API_KEY", hide_env_values = true)]
    pub llm_studio_api_key: Option<String>,
    /// Tokens one BrainBit pays for on the studio's provider.
    #[arg(
        long,
        env = "LOREGRAPH_LLM_TOKENS_PER_BRAINBIT",
        default_value_t = 1_000
    )]
    pub llm_tokens_per_brainbit: u32,
    /// Seconds one model call may take in all, retries included.
    #[arg(long, env = "LOREGRAPH_LLM_TIMEOUT", default_value_t = 600)]
    pub llm_timeout: u64,
}

impl LlmArgs {
    pub fn settings(self, data_dir: &Path) -> anyhow::Result<LlmSettings> {
        let secrets_key = match self.secrets_key.as_deref().filter(|k| !k.is_empty()) {
            Some(encoded) => decode_key(encoded).context("LOREGRAPH_SECRETS_KEY")?,
            None => kept_key(data_dir)?,
        };
        let studio = match (self.llm_studio_provider, self.llm_studio_base_url) {
            (None, None) => None,
            (Some(provider), Some(base_url)) => Some(StudioProvider {
                provider: parse_provider(&provider)?,
                base_url,
                api_key: self.llm_studio_api_key.filter(|k| !k.is_empty()),
            }),
            _ => anyhow::bail!(
                "LOREGRAPH_LLM_STUDIO_PROVIDER and LOREGRAPH_LLM_STUDIO_BASE_URL go together"
            ),
        };
        let secrets_key_previous = self
            .secrets_key_previous
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| decode_key(k).context("LOREGRAPH_SECRETS_KEY_PREVIOUS"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(LlmSettings {
            secrets_key: Some(secrets_key),
            secrets_key_previous,
            allow_private_networks: self.llm_allow_private_networks,
            studio,
            tokens_per_brainbit: self.llm_tokens_per_brainbit.max(1),
            timeout: Duration::from_secs(self.llm_timeout.max(1)),
        })
    }
}

fn parse_provider(name: &str) -> anyhow::Result<String> {
    let name = name.trim().to_ascii_uppercase();
    anyhow::ensure!(
        ["OPENAI_COMPATIBLE", "ANTHROPIC", "OLLAMA"].contains(&name.as_str()),
        "unknown studio provider {name:?}: OPENAI_COMPATIBLE, ANTHROPIC or OLLAMA"
    );
    Ok(name)
}

fn decode_key(encoded: &str) -> anyhow::Result<[u8; 32]> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .context("not base64")?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| anyhow::anyhow!("the key must be 32 bytes (base64 of 32 random bytes)"))
}

/// The key kept in the data directory, made on first start (readable by its owner only).
fn kept_key(data_dir: &Path) -> anyhow::Result<[u8; 32]> {
    let path = data_dir.join("secrets.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            decode_key(&text).with_context(|| format!("the secrets key in {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 32] = rand::random();
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            use std::io::Write as _;
            let mut file = options
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            file.write_all(
                base64::engine::general_purpose::STANDARD
                    .encode(key)
                    .as_bytes(),
            )
            .with_context(|| format!("writing {}", path.display()))?;
            Ok(key)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
