//! Billing: Stripe and what it sells (the tiers and their prices, blocks of BrainBits).

use clap::Args;
use serde::{Deserialize, Serialize};

/// A subscription tier.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// Where every tenant starts, with no subscription: 100 BrainBits a month, no gated feature.
    Free,
    /// The first paid tier: 2,000 BrainBits a month, API keys and token purchases.
    Pro,
    /// The top paid tier: 10,000 BrainBits a month and every feature (team quotas, Ollama too).
    Studio,
}

/// Every tier in order, cheapest first.
pub const TIERS: [Tier; 3] = [Tier::Free, Tier::Pro, Tier::Studio];

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Studio => "studio",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        TIERS.into_iter().find(|tier| tier.as_str() == value)
    }
}

/// Stripe and what it sells. Without a secret key billing is not configured: billing
/// operations say so, feature gates stay open (a self-hosted server has every feature), and
/// everything else works.
#[derive(Clone, Debug)]
pub struct BillingSettings {
    pub stripe_secret_key: Option<String>,
    /// The signing secret of the webhook endpoint (`whsec_…`).
    pub webhook_secret: Option<String>,
    /// Stripe's API base URL; tests point it at a fake that speaks Stripe's wire format.
    pub api_base: String,
    /// The subscription price of each paid tier.
    pub prices: Vec<(Tier, String)>,
    /// BrainBits sold in blocks, each with its Stripe price.
    pub token_blocks: Vec<TokenBlock>,
    /// Where Stripe sends the browser back after checkout or the customer portal.
    pub return_url: String,
}

/// A block of BrainBits for sale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenBlock {
    pub id: String,
    pub brainbits: i64,
    pub price_id: String,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            stripe_secret_key: None,
            webhook_secret: None,
            api_base: "https://api.stripe.com/".into(),
            prices: Vec::new(),
            token_blocks: Vec::new(),
            return_url: "http://localhost:8201/".into(),
        }
    }
}

impl BillingSettings {
    /// Whether a Stripe secret key is set.
    pub fn configured(&self) -> bool {
        self.stripe_secret_key.is_some()
    }

    pub fn tier_of_price(&self, price_id: &str) -> Option<Tier> {
        self.prices
            .iter()
            .find(|(_, price)| price == price_id)
            .map(|(tier, _)| *tier)
    }

    pub fn price_of_tier(&self, tier: Tier) -> Option<&str> {
        self.prices
            .iter()
            .find(|(t, _)| *t == tier)
            .map(|(_, price)| price.as_str())
    }

    pub fn block(&self, id: &str) -> Option<&TokenBlock> {
        self.token_blocks.iter().find(|block| block.id == id)
    }
}

/// The command line's (and environment's) part of the billing section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Billing")]
pub struct BillingArgs {
    /// Stripe's secret API key; without it billing is off (and nothing is feature-gated).
    #[arg(long, env = "STRIPE_SECRET_KEY", hide_env_values = true)]
    pub stripe_secret_key: Option<String>,
    /// The signing secret of Stripe's webhook endpoint (`whsec_…`).
    #[arg(long, env = "STRIPE_WEBHOOK_SECRET", hide_env_values = true)]
    pub stripe_webhook_secret: Option<String>,
    /// Stripe's API base URL.
    #[arg(
        long,
        env = "STRIPE_API_BASE",
        default_value = "https://api.stripe.com/"
    )]
    pub stripe_api_base: String,
    /// The Stripe price of each paid tier: `pro=price_…,studio=price_…`.
    #[arg(long, env = "LOREGRAPH_STRIPE_PRICES", value_delimiter = ',')]
    pub stripe_prices: Vec<String>,
    /// BrainBits blocks for sale: `id=brainbits:price_…`, comma-separated.
    #[arg(long, env = "LOREGRAPH_STRIPE_TOKEN_BLOCKS", value_delimiter = ',')]
    pub stripe_token_blocks: Vec<String>,
    /// Where Stripe sends the browser back after checkout or the customer portal.
    #[arg(
        long,
        env = "LOREGRAPH_BILLING_RETURN_URL",
        default_value = "http://localhost:8201/"
    )]
    pub billing_return_url: String,
}

/// Billing settings from the command line, refusing malformed price and block lists.
impl BillingArgs {
    pub fn settings(self) -> anyhow::Result<BillingSettings> {
        let args = self;
        let non_empty = |value: &Option<String>| value.clone().filter(|v| !v.trim().is_empty());
        let mut prices = Vec::new();
        for entry in args.stripe_prices.iter().filter(|e| !e.trim().is_empty()) {
            let (tier, price) = entry.split_once('=').ok_or_else(|| {
                anyhow::anyhow!("LOREGRAPH_STRIPE_PRICES: `{entry}` is not tier=price_id")
            })?;
            let tier = Tier::parse(tier.trim())
                .filter(|tier| *tier != Tier::Free)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "LOREGRAPH_STRIPE_PRICES: `{tier}` is not a paid tier (pro, studio)"
                    )
                })?;
            prices.push((tier, price.trim().to_owned()));
        }
        let mut token_blocks = Vec::new();
        for entry in args
            .stripe_token_blocks
            .iter()
            .filter(|e| !e.trim().is_empty())
        {
            let parsed = entry.split_once('=').and_then(|(id, rest)| {
                let (brainbits, price) = rest.split_once(':')?;
                let brainbits = brainbits.trim().parse::<i64>().ok().filter(|b| *b > 0)?;
                Some(TokenBlock {
                    id: id.trim().to_owned(),
                    brainbits,
                    price_id: price.trim().to_owned(),
                })
            });
            token_blocks.push(parsed.ok_or_else(|| {
                anyhow::anyhow!(
                    "LOREGRAPH_STRIPE_TOKEN_BLOCKS: `{entry}` is not id=brainbits:price_id"
                )
            })?);
        }
        Ok(BillingSettings {
            stripe_secret_key: non_empty(&args.stripe_secret_key),
            webhook_secret: non_empty(&args.stripe_webhook_secret),
            api_base: args.stripe_api_base.clone(),
            prices,
            token_blocks,
            return_url: args.billing_return_url.clone(),
        })
    }
}
