//! Which slot an asset is for (`autoDetectSlot`): its file name's words against each slot's
//! name and group, its name's tail against the slot's variant keys, and its size against the
//! size the slot expects; slots that do not accept its file type are never proposed.

use super::definitions::{Definitions, SlotDefinition};
use crate::assets::service::{self as assets, AssetRow};

/// Most candidates proposed.
const MAX_CANDIDATES: usize = 5;

/// A slot the asset may be for.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub slot: SlotDefinition,
    /// The variant its name names, when the slot lists variants.
    pub variant_key: Option<String>,
    /// 0 to 1.
    pub confidence: f64,
    /// Why, in a few words each.
    pub reasons: Vec<String>,
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn judge(
    slot: &SlotDefinition,
    asset: &AssetRow,
    stem: &str,
    found: &[String],
) -> Option<Candidate> {
    let file_type = assets::file_extension(asset);
    if !slot.accepted_types.is_empty() && !slot.accepted_types.contains(&file_type) {
        return None;
    }
    let mut confidence = 0.0;
    let mut reasons = Vec::new();
    let name_words = words(&slot.name);
    let present = name_words.iter().filter(|w| found.contains(w)).count();
    if present == name_words.len() && present > 0 {
        confidence += 0.6;
        reasons.push(format!("the name says {}", slot.name));
    } else if present > 0 {
        confidence += 0.4 * present as f64 / name_words.len() as f64;
        reasons.push(format!("the name has part of {}", slot.name));
    }
    let group_words = words(&slot.group);
    if !group_words.is_empty() && group_words.iter().all(|w| found.contains(w)) {
        confidence += 0.15;
        reasons.push(format!("the name says {}", slot.group));
    }
    let lower = stem.to_ascii_lowercase();
    let variant_key = slot
        .variant_keys
        .iter()
        .filter(|key| {
            let key = key.to_ascii_lowercase();
            lower == key
                || lower.ends_with(&format!("_{key}"))
                || lower.ends_with(&format!("-{key}"))
        })
        .max_by_key(|key| key.len())
        .cloned();
    if let Some(key) = &variant_key {
        confidence += 0.25;
        reasons.push(format!("the name ends in the variant {key}"));
    }
    if let (Some((w, h)), Some(aw), Some(ah)) =
        (slot.expected_dimensions, asset.width, asset.height)
    {
        if (i64::from(aw), i64::from(ah)) == (w, h) {
            confidence += 0.2;
            reasons.push(format!("it is {w}×{h}, as the slot expects"));
        } else {
            confidence -= 0.1;
            reasons.push(format!("it is {aw}×{ah}; the slot expects {w}×{h}"));
        }
    }
    (confidence > 0.0).then(|| Candidate {
        slot: slot.clone(),
        variant_key,
        confidence: f64::min(confidence, 1.0),
        reasons,
    })
}

/// The slots of `definitions` the asset may be for, the likeliest first.
pub fn candidates(definitions: &Definitions, asset: &AssetRow) -> Vec<Candidate> {
    let stem = asset
        .original_filename
        .rsplit_once('.')
        .map_or(asset.original_filename.as_str(), |(stem, _)| stem);
    let found = words(stem);
    let mut out: Vec<Candidate> = definitions
        .slots()
        .filter_map(|slot| judge(slot, asset, stem, &found))
        .collect();
    out.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.slot.path().cmp(&b.slot.path()))
    });
    out.truncate(MAX_CANDIDATES);
    out
}
