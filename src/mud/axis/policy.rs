//! A world's axis policy and the arithmetic of axis scores (DOMAIN_NOTES, "Axis state"): labels
//! resolved from score ranges, deltas clamped to [0, 1], chat interactions turned into deltas,
//! and the seeded profile a new character starts from. Pure functions; `axis_store` persists.

use async_graphql::{Enum, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::mud::names::SplitMix64;
use crate::mud::worlds::service::validate_key;

/// A score nobody has moved yet.
pub const DEFAULT_SCORE: f64 = 0.5;
/// Changes smaller than this are noise from floating point, not events: they are not recorded.
pub const MIN_RECORDED_DELTA: f64 = 1e-12;

const MAX_AXES: usize = 32;
const MAX_LABELS: usize = 16;
const MAX_RULES: usize = 64;

/// The axes a world's characters are scored on, and how chat moves them.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[graphql(input_name = "AxisPolicyInput")]
pub struct AxisPolicy {
    /// The axes: 1 to 32, with unique names.
    pub axes: Vec<AxisDefinition>,
    /// How far a new character's seeded profile may stray from 0.5: scores fall in
    /// 0.5 ± spread / 2. Between 0 and 1; 0.5 when absent.
    #[graphql(default = 0.5)]
    #[serde(default = "default_spread")]
    pub seed_spread: f64,
    /// What chat does to the axes; nothing when absent.
    #[graphql(default)]
    #[serde(default)]
    pub chat: ChatPolicy,
}

fn default_spread() -> f64 {
    0.5
}

/// One axis and its labels.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[graphql(input_name = "AxisDefinitionInput")]
pub struct AxisDefinition {
    /// 1 to 64 lower-case letters, digits, `_` or `-`; unique in the policy.
    pub name: String,
    /// What the axis measures, in words.
    pub description: Option<String>,
    /// A score's label is the first of these (by ordinal, then min) whose range contains it.
    #[graphql(default)]
    #[serde(default)]
    pub labels: Vec<AxisLabel>,
}

/// A named score range; a missing bound is open. Both bounds are inclusive.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[graphql(input_name = "AxisLabelInput")]
pub struct AxisLabel {
    /// The label: 1 to 64 characters.
    pub name: String,
    /// Where the label stands among the axis's labels; its position in the list when absent.
    pub ordinal: Option<i32>,
    /// The lowest score it covers (0 to 1); open when absent.
    pub min: Option<f64>,
    /// The highest score it covers (0 to 1); open when absent.
    pub max: Option<f64>,
}

/// Channel multipliers and per-axis rules for chat interactions.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[graphql(input_name = "ChatPolicyInput")]
pub struct ChatPolicy {
    /// What SAY multiplies the rules' amounts by: 0 to 10.
    #[graphql(default = 1.0)]
    #[serde(default = "say")]
    pub say_multiplier: f64,
    /// What YELL multiplies the rules' amounts by: 0 to 10.
    #[graphql(default = 1.5)]
    #[serde(default = "yell")]
    pub yell_multiplier: f64,
    /// What WHISPER multiplies the rules' amounts by: 0 to 10.
    #[graphql(default = 0.5)]
    #[serde(default = "whisper")]
    pub whisper_multiplier: f64,
    /// How each axis reacts to chat: at most 64 rules, each naming an axis of the policy.
    #[graphql(default)]
    #[serde(default)]
    pub rules: Vec<ChatRule>,
}

fn say() -> f64 {
    1.0
}
fn yell() -> f64 {
    1.5
}
fn whisper() -> f64 {
    0.5
}

impl Default for ChatPolicy {
    fn default() -> Self {
        Self {
            say_multiplier: say(),
            yell_multiplier: yell(),
            whisper_multiplier: whisper(),
            rules: Vec::new(),
        }
    }
}

/// How one axis reacts when two characters talk.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[graphql(input_name = "ChatRuleInput")]
pub struct ChatRule {
    /// The axis's name.
    pub axis: String,
    /// What the rule does to the axis.
    pub kind: ChatRuleKind,
    /// The base amount (0 to 1).
    pub base: f64,
    /// DOMINANCE_SHIFT acts only when the scores are at least this far apart (0 to 1).
    #[graphql(default)]
    #[serde(default)]
    pub threshold: f64,
}

/// What a chat rule does to an axis.
#[derive(Enum, Serialize, Deserialize, Copy, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChatRuleKind {
    /// When |speaker − listener| ≥ threshold, the higher gains and the lower loses
    /// base × channel multiplier × gap.
    DominanceShift,
    /// Both lose base × channel multiplier.
    SharedDrain,
    /// Nothing happens to the axis.
    NoEffect,
}

/// The chat channel a message went out on.
#[derive(Enum, Serialize, Deserialize, Copy, Clone, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ChatChannel {
    /// Heard in the room.
    Say,
    /// Heard in the room and the rooms its exits lead to.
    Yell,
    /// Heard by one character in the room.
    Whisper,
}

impl ChatChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Say => "say",
            Self::Yell => "yell",
            Self::Whisper => "whisper",
        }
    }

    pub fn parse(value: &str) -> Self {
        match value {
            "yell" => Self::Yell,
            "whisper" => Self::Whisper,
            _ => Self::Say,
        }
    }
}

fn check_unit(field: &'static str, value: f64) -> AppResult<()> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(AppError::bad_field(field, "this must be between 0 and 1"))
    }
}

impl AxisPolicy {
    /// Checks the policy and fills in label ordinals, so what is stored is complete.
    pub fn validated(mut self) -> AppResult<Self> {
        if self.axes.is_empty() || self.axes.len() > MAX_AXES {
            return Err(AppError::bad_field("axes", "a policy has 1 to 32 axes"));
        }
        check_unit("seedSpread", self.seed_spread)?;
        let mut names = std::collections::HashSet::new();
        for axis in &mut self.axes {
            axis.name = validate_key("axes.name", &axis.name)?;
            if !names.insert(axis.name.clone()) {
                return Err(AppError::bad_field(
                    "axes.name",
                    format!("the axis `{}` appears twice", axis.name),
                ));
            }
            if axis.labels.len() > MAX_LABELS {
                return Err(AppError::bad_field(
                    "labels",
                    "an axis has at most 16 labels",
                ));
            }
            for (position, label) in axis.labels.iter_mut().enumerate() {
                if label.name.trim().is_empty() || label.name.chars().count() > 64 {
                    return Err(AppError::bad_field("labels.name", "use 1 to 64 characters"));
                }
                for bound in [label.min, label.max].into_iter().flatten() {
                    check_unit("labels", bound)?;
                }
                if let (Some(min), Some(max)) = (label.min, label.max)
                    && min > max
                {
                    return Err(AppError::bad_field(
                        "labels",
                        format!("the label `{}` has min above max", label.name),
                    ));
                }
                label
                    .ordinal
                    .get_or_insert(i32::try_from(position).unwrap_or(i32::MAX));
            }
        }
        let chat = &self.chat;
        for multiplier in [
            chat.say_multiplier,
            chat.yell_multiplier,
            chat.whisper_multiplier,
        ] {
            if !(multiplier.is_finite() && (0.0..=10.0).contains(&multiplier)) {
                return Err(AppError::bad_field(
                    "chat",
                    "channel multipliers are between 0 and 10",
                ));
            }
        }
        if chat.rules.len() > MAX_RULES {
            return Err(AppError::bad_field("chat.rules", "at most 64 rules"));
        }
        for rule in &chat.rules {
            if !names.contains(&rule.axis) {
                return Err(AppError::bad_field(
                    "chat.rules",
                    format!("the rule names `{}`, which is not an axis", rule.axis),
                ));
            }
            check_unit("chat.rules.base", rule.base)?;
            check_unit("chat.rules.threshold", rule.threshold)?;
        }
        Ok(self)
    }

    /// The state version: a hash of the policy as stored.
    pub fn version(&self) -> AppResult<String> {
        let bytes = serde_json::to_vec(self).map_err(AppError::internal)?;
        Ok(hex::encode(Sha256::digest(bytes)))
    }

    pub fn from_json(value: &serde_json::Value) -> AppResult<Self> {
        serde_json::from_value(value.clone()).map_err(AppError::internal)
    }

    pub fn axis(&self, name: &str) -> Option<&AxisDefinition> {
        self.axes.iter().find(|axis| axis.name == name)
    }

    pub fn multiplier(&self, channel: ChatChannel) -> f64 {
        match channel {
            ChatChannel::Say => self.chat.say_multiplier,
            ChatChannel::Yell => self.chat.yell_multiplier,
            ChatChannel::Whisper => self.chat.whisper_multiplier,
        }
    }
}

/// The label of `score` on an axis: the first range, by ordinal and then min, that contains it.
pub fn label_for(labels: &[AxisLabel], score: f64) -> Option<&str> {
    labels
        .iter()
        .filter(|label| {
            label.min.is_none_or(|min| score >= min) && label.max.is_none_or(|max| score <= max)
        })
        .min_by(|a, b| {
            a.ordinal
                .unwrap_or(i32::MAX)
                .cmp(&b.ordinal.unwrap_or(i32::MAX))
                .then(
                    a.min
                        .unwrap_or(f64::NEG_INFINITY)
                        .total_cmp(&b.min.unwrap_or(f64::NEG_INFINITY)),
                )
        })
        .map(|label| label.name.as_str())
}

/// Where `delta` takes `old`: the new score (clamped to [0, 1]) and the change actually made,
/// or None when that change is too small to record.
pub fn apply_delta(old: f64, delta: f64) -> Option<(f64, f64)> {
    let new = (old + delta).clamp(0.0, 1.0);
    let applied = new - old;
    (applied.abs() >= MIN_RECORDED_DELTA).then_some((new, applied))
}

/// The deltas one chat interaction asks for, per axis: (axis, speaker's delta, listener's delta).
/// `score` gives a character's current score on an axis (speaker when `true`).
pub fn chat_deltas(
    policy: &AxisPolicy,
    channel: ChatChannel,
    score: impl Fn(bool, &str) -> f64,
) -> Vec<(String, f64, f64)> {
    let multiplier = policy.multiplier(channel);
    policy
        .chat
        .rules
        .iter()
        .filter_map(|rule| match rule.kind {
            ChatRuleKind::NoEffect => None,
            ChatRuleKind::SharedDrain => {
                let amount = rule.base * multiplier;
                Some((rule.axis.clone(), -amount, -amount))
            }
            ChatRuleKind::DominanceShift => {
                let speaker = score(true, &rule.axis);
                let listener = score(false, &rule.axis);
                let gap = (speaker - listener).abs();
                // A gap equal to the threshold counts, even when float arithmetic lands a hair
                // under it (0.7 − 0.6 against 0.1).
                if gap == 0.0 || gap + MIN_RECORDED_DELTA < rule.threshold {
                    return None;
                }
                let amount = rule.base * multiplier * gap;
                let sign = if speaker > listener { 1.0 } else { -1.0 };
                Some((rule.axis.clone(), sign * amount, -sign * amount))
            }
        })
        .collect()
}

/// The seeded profile: each axis's starting score, a pure function of the seed and the axis
/// name, in 0.5 ± spread / 2.
pub fn seeded_scores(policy: &AxisPolicy, seed: i64) -> Vec<(String, f64)> {
    policy
        .axes
        .iter()
        .map(|axis| {
            // FNV-1a of the name, so each axis draws its own number from the same seed.
            let name_hash = axis.name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            let draw = SplitMix64(seed.unsigned_abs() ^ name_hash).next();
            // The top 53 bits make an evenly spread float in [0, 1).
            let unit = (draw >> 11) as f64 / (1_u64 << 53) as f64;
            let score = DEFAULT_SCORE + (unit - 0.5) * policy.seed_spread;
            (axis.name.clone(), score.clamp(0.0, 1.0))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(name: &str, ordinal: Option<i32>, min: Option<f64>, max: Option<f64>) -> AxisLabel {
        AxisLabel {
            name: name.into(),
            ordinal,
            min,
            max,
        }
    }

    fn policy(rules: Vec<ChatRule>) -> AxisPolicy {
        AxisPolicy {
            axes: vec![AxisDefinition {
                name: "dominance".into(),
                description: None,
                labels: vec![],
            }],
            seed_spread: 0.5,
            chat: ChatPolicy {
                rules,
                ..ChatPolicy::default()
            },
        }
        .validated()
        .expect("a valid policy")
    }

    #[test]
    fn labels_resolve_by_ordinal_then_min_with_open_bounds() {
        let labels = vec![
            label("high", Some(2), Some(0.7), None),
            label("low", Some(1), None, Some(0.3)),
            label("middle-b", Some(1), Some(0.5), Some(0.7)),
            label("middle-a", Some(1), Some(0.3), Some(0.6)),
        ];
        assert_eq!(label_for(&labels, 0.0), Some("low"));
        assert_eq!(label_for(&labels, 0.3), Some("low"));
        assert_eq!(label_for(&labels, 0.55), Some("middle-a"));
        assert_eq!(label_for(&labels, 0.65), Some("middle-b"));
        assert_eq!(label_for(&labels, 0.7), Some("middle-b"));
        assert_eq!(label_for(&labels, 0.71), Some("high"));
        assert_eq!(label_for(&[], 0.5), None);
    }

    #[test]
    fn deltas_clamp_and_tiny_changes_are_not_recorded() {
        assert_eq!(apply_delta(0.5, 0.25), Some((0.75, 0.25)));
        assert_eq!(apply_delta(0.9, 0.3), Some((1.0, 0.09999999999999998)));
        assert_eq!(apply_delta(0.1, -0.4), Some((0.0, -0.1)));
        assert_eq!(apply_delta(1.0, 0.5), None);
        assert_eq!(apply_delta(0.0, -0.5), None);
        assert_eq!(apply_delta(0.5, 5e-13), None);
        assert!(apply_delta(0.5, 2e-12).is_some());
    }

    #[test]
    fn dominance_shift_moves_the_higher_up_and_the_lower_down_by_base_times_gap() {
        let rules = vec![ChatRule {
            axis: "dominance".into(),
            kind: ChatRuleKind::DominanceShift,
            base: 0.1,
            threshold: 0.2,
        }];
        let policy = policy(rules);
        let scores = |speaker: bool, _: &str| if speaker { 0.8 } else { 0.4 };
        let deltas = chat_deltas(&policy, ChatChannel::Yell, scores);
        // 0.1 × 1.5 × 0.4 = 0.06
        assert_eq!(deltas.len(), 1);
        assert!((deltas[0].1 - 0.06).abs() < 1e-15);
        assert!((deltas[0].2 + 0.06).abs() < 1e-15);
        // Listener higher: the signs swap.
        let swapped = chat_deltas(&policy, ChatChannel::Say, |s, _| if s { 0.4 } else { 0.8 });
        assert!((swapped[0].1 + 0.04).abs() < 1e-15);
        // Below the threshold nothing moves.
        let close = chat_deltas(&policy, ChatChannel::Say, |s, _| if s { 0.5 } else { 0.4 });
        assert!(close.is_empty());
    }

    #[test]
    fn shared_drain_takes_from_both_and_no_effect_does_nothing() {
        let rules = vec![
            ChatRule {
                axis: "dominance".into(),
                kind: ChatRuleKind::SharedDrain,
                base: 0.1,
                threshold: 0.0,
            },
            ChatRule {
                axis: "dominance".into(),
                kind: ChatRuleKind::NoEffect,
                base: 0.5,
                threshold: 0.0,
            },
        ];
        let deltas = chat_deltas(&policy(rules), ChatChannel::Whisper, |_, _| 0.5);
        assert_eq!(deltas, vec![("dominance".to_owned(), -0.05, -0.05)]);
    }

    #[test]
    fn seeded_profiles_are_reproducible_and_within_the_spread() {
        let policy = policy(vec![]);
        assert_eq!(seeded_scores(&policy, 42), seeded_scores(&policy, 42));
        assert_ne!(seeded_scores(&policy, 42), seeded_scores(&policy, 43));
        for seed in 0..200 {
            let (_, score) = &seeded_scores(&policy, seed)[0];
            assert!((0.25..0.75).contains(score));
        }
    }

    #[test]
    fn policies_are_checked_and_hashed_stably() {
        let valid = policy(vec![]);
        assert_eq!(valid.version().ok(), valid.clone().version().ok());
        let mut bad = valid.clone();
        bad.chat.rules.push(ChatRule {
            axis: "charm".into(),
            kind: ChatRuleKind::SharedDrain,
            base: 0.1,
            threshold: 0.0,
        });
        assert!(bad.validated().is_err());
        let mut inverted = valid;
        inverted.axes[0]
            .labels
            .push(label("x", None, Some(0.8), Some(0.2)));
        assert!(inverted.validated().is_err());
    }
}
