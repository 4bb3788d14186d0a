//! Paying for an AI operation in BrainBits: which calls are not metered (billing off, the
//! user's own key, an on-device provider), the debit against the quotas and the balance, and
//! the event that announces it. Every AI feature pays through [`consume`].

use async_graphql::Enum;
use diesel_async::AsyncPgConnection;

pub use super::ledger::Take;
use super::ledger::{self, Debit};
use crate::auth::Viewer;
use crate::context::Platform;
use crate::error::{AppError, AppResult};
use crate::events::{BrainbitsDebit, EventPayload};
use crate::teams::service::{self as teams, Permission};

/// Most BrainBits one call may consume.
const MAX_DEBIT: i32 = 1_000_000;

/// Providers that run on the user's own device: never debited.
const ON_DEVICE_PROVIDERS: &[&str] = &[
    "on-device",
    "local",
    "ollama",
    "llamacpp",
    "llama.cpp",
    "lmstudio",
    "webllm",
    "mlx",
    "gpt4all",
];
const MAX_LABEL_CHARS: usize = 64;

/// Whose key pays for an AI call.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The studio's key: metered in BrainBits.
    Studio,
    /// The user's own provider key ("bring your own key"): never debited.
    Byok,
}

/// An AI operation to pay for.
#[derive(Clone, Copy, Debug)]
pub struct Charge<'a> {
    /// 1 to 1,000,000 BrainBits.
    pub amount: i32,
    /// What was done (1 to 64 printable characters).
    pub operation: &'a str,
    /// Who did it (1 to 64 printable characters).
    pub provider: &'a str,
    pub key_source: KeySource,
    /// All of `amount` or nothing, or as much of it as is left (for work already done).
    pub take: Take,
}

/// What paying did.
#[derive(Clone, Debug)]
pub struct Consumption {
    /// BrainBits taken (0 when exempt).
    pub charged: i64,
    /// Not metered.
    pub exempt: bool,
    /// Why, in a sentence.
    pub message: String,
    /// The tenant's balance afterwards.
    pub balance: i64,
    /// The ledger entry, when something was taken.
    pub entry_id: Option<i64>,
}

/// Pays for `charge` as the viewer. Refused with FORBIDDEN (`reason`: quota_exceeded or
/// insufficient_brainbits) when a quota or the balance would not cover it; the balance never
/// goes below 0. A debit is announced to the tenant as `brainbitsDeducted`.
pub async fn consume(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    charge: Charge<'_>,
) -> AppResult<Consumption> {
    if !(1..=MAX_DEBIT).contains(&charge.amount) {
        return Err(AppError::bad_field(
            "amount",
            "consume 1 to 1,000,000 BrainBits",
        ));
    }
    let operation = validate_label("operation", charge.operation)?;
    let provider = validate_label("provider", charge.provider)?;
    // Work already done (`UpTo`) was allowed when it began (`ensure_can_consume`) and is paid
    // for whatever changed since; a consumption asked for outright is checked now.
    if charge.take == Take::All {
        teams::ensure_allowed(conn, viewer, Permission::UseAi, None).await?;
    }
    if let Some(message) = exemption(platform, charge.key_source, &provider) {
        let (_, balance, _) = ledger::settle(conn, viewer.tenant_id).await?;
        return Ok(Consumption {
            charged: 0,
            exempt: true,
            message: message.to_owned(),
            balance,
            entry_id: None,
        });
    }
    let debit = Debit {
        tenant_id: viewer.tenant_id,
        user_id: viewer.user_id,
        amount: i64::from(charge.amount),
        operation: &operation,
        provider: &provider,
    };
    let entry = ledger::debit(conn, &debit, charge.take).await?;
    platform.events.publish(
        viewer.tenant_id,
        Some(viewer.user_id),
        EventPayload::BrainbitsDeducted(BrainbitsDebit {
            entry_id: entry.id,
            user_id: viewer.user_id,
            amount: -entry.amount,
            balance: entry.balance_after,
            operation,
            provider,
        }),
    );
    Ok(Consumption {
        charged: -entry.amount,
        exempt: false,
        message: format!("{} BrainBits taken", -entry.amount),
        balance: entry.balance_after,
        entry_id: Some(entry.id),
    })
}

/// Why a call on `key_source` and `provider` is not metered; None when it is.
fn exemption(platform: &Platform, key_source: KeySource, provider: &str) -> Option<&'static str> {
    match key_source {
        _ if !platform.config.billing.configured() => {
            Some("billing is not configured on this server: not metered")
        }
        KeySource::Byok => Some("your own key: not metered"),
        KeySource::Studio if is_on_device(provider) => Some("on-device: not metered"),
        KeySource::Studio => None,
    }
}

/// Whether calls on `key_source` and `provider` are debited.
pub fn is_metered(platform: &Platform, key_source: KeySource, provider: &str) -> bool {
    exemption(platform, key_source, provider).is_none()
}

/// Refuses (FORBIDDEN, as [`consume`] would) unless the viewer may consume at least one
/// BrainBit now, when calls on `key_source` and `provider` are metered: checked before work
/// whose cost is known only once it is done.
pub async fn ensure_can_consume(
    platform: &Platform,
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    key_source: KeySource,
    provider: &str,
) -> AppResult<()> {
    teams::ensure_allowed(conn, viewer, Permission::UseAi, None).await?;
    if !is_metered(platform, key_source, provider) {
        return Ok(());
    }
    ledger::ensure_room(conn, viewer.tenant_id, viewer.user_id).await
}

fn validate_label(field: &'static str, value: &str) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty()
        || value.chars().count() > MAX_LABEL_CHARS
        || value.chars().any(char::is_control)
    {
        return Err(AppError::bad_field(
            field,
            "use 1 to 64 printable characters",
        ));
    }
    Ok(value.to_owned())
}

fn is_on_device(provider: &str) -> bool {
    ON_DEVICE_PROVIDERS.contains(&provider.to_ascii_lowercase().as_str())
}
