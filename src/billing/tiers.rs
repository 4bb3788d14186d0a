//! The subscription tiers, what each includes, and the feature gates that enforce it.

use async_graphql::{Enum, SimpleObject};

use uuid::Uuid;

use super::store;
use crate::beta::service as beta;
use crate::context::Platform;
use crate::error::{AppError, AppResult};

/// What a gated operation needs.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// Creating API keys (`createApiKey`).
    ApiKeys,
    /// Buying blocks of BrainBits (`purchaseTokens`).
    TokenPurchases,
    /// Capping BrainBits per team and per member (`updateTeamQuota`, `updateUserQuota`).
    TeamQuotas,
    /// Talking to Ollama servers (`ollamaCommand`).
    Ollama,
}

impl Feature {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKeys => "API_KEYS",
            Self::TokenPurchases => "TOKEN_PURCHASES",
            Self::TeamQuotas => "TEAM_QUOTAS",
            Self::Ollama => "OLLAMA",
        }
    }
}

/// What each tier includes. The tiers themselves are named in the configuration (its prices
/// are set there).
pub use crate::config::billing::{TIERS, Tier};

impl Tier {
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Free => "Free",
            Self::Pro => "Pro",
            Self::Studio => "Studio",
        }
    }

    /// BrainBits credited at the start of every billing period.
    pub fn monthly_brainbits(self) -> i64 {
        match self {
            Self::Free => 100,
            Self::Pro => 2_000,
            Self::Studio => 10_000,
        }
    }

    pub fn features(self) -> &'static [Feature] {
        match self {
            Self::Free => &[],
            Self::Pro => &[Feature::ApiKeys, Feature::TokenPurchases],
            Self::Studio => &[
                Feature::ApiKeys,
                Feature::TokenPurchases,
                Feature::TeamQuotas,
                Feature::Ollama,
            ],
        }
    }

    pub fn has(self, feature: Feature) -> bool {
        self.features().contains(&feature)
    }

    /// The cheapest tier that has `feature`.
    pub fn cheapest_with(feature: Feature) -> Tier {
        TIERS
            .into_iter()
            .find(|tier| tier.has(feature))
            .unwrap_or(Tier::Studio)
    }
}

/// A tier as `tiers` lists it.
#[derive(SimpleObject)]
pub struct TierInfo {
    /// The tier.
    pub tier: Tier,
    /// The tier's name for people.
    pub name: String,
    /// BrainBits credited every billing period.
    pub monthly_brainbits: i64,
    /// The features the tier enables.
    pub features: Vec<Feature>,
    /// The Stripe price that subscribes to it (none for FREE, or when billing is off).
    pub price_id: Option<String>,
}

/// What a tenant on `tier` may use: its tier's features and, while a beta lasts, its beta
/// tier's too.
pub async fn features_of(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant_id: Uuid,
    tier: Tier,
) -> AppResult<Vec<Feature>> {
    let mut features = tier.features().to_vec();
    if let Some(beta) = beta::active_tier(conn, tenant_id).await? {
        for feature in beta.features() {
            if !features.contains(feature) {
                features.push(*feature);
            }
        }
    }
    Ok(features)
}

/// Fails with FORBIDDEN (`extensions.reason = "feature_gate"`, naming the feature and the
/// cheapest tier that has it) unless the tenant's tier has `feature`. A server without billing
/// configured gates nothing.
pub async fn require_feature(
    platform: &Platform,
    tenant_id: Uuid,
    feature: Feature,
) -> AppResult<()> {
    if !platform.config.billing.configured() {
        return Ok(());
    }
    let mut conn = platform.pool.get().await?;
    let tier = store::tier_of(&mut conn, tenant_id).await?;
    if features_of(&mut conn, tenant_id, tier)
        .await?
        .contains(&feature)
    {
        return Ok(());
    }
    Err(AppError::FeatureGate {
        feature: feature.as_str(),
        tier: Tier::cheapest_with(feature).as_str(),
    })
}
