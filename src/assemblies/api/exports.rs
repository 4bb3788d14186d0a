//! The GraphQL types of exports and of finding slots: profiles, manifests, the assemblies an
//! asset fills, detected slots, and the assembly vocabulary.

use std::sync::Arc;

use async_graphql::{Object, SimpleObject};

use super::int;
use crate::assemblies::detect::Candidate;
use crate::assemblies::export::{ExportFile, Manifest};
use crate::assemblies::profiles::ExportProfile;
use crate::assets::api::Asset;
use crate::entities::api::Entity;

/// A pipeline's export profile.
pub struct AssemblyExportProfile(pub Arc<ExportProfile>);

/// A pipeline's export profile.
#[Object]
impl AssemblyExportProfile {
    /// Its id (`showrunner_v1`).
    async fn id(&self) -> &str {
        &self.0.id
    }
    /// Its version.
    async fn version(&self) -> &str {
        &self.0.version
    }
    /// What pipeline it is for.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// The file format it wants (null: the files as they are).
    async fn format(&self) -> Option<&str> {
        self.0.format.as_deref()
    }
    /// The package's root folder (`{assembly_id}` filled in at export).
    async fn root_name(&self) -> &str {
        &self.0.root_name
    }
    /// The manifest's file name.
    async fn manifest_name(&self) -> &str {
        &self.0.manifest_name
    }
    /// Whether the package holds the manifest.
    async fn include_manifest(&self) -> bool {
        self.0.include_manifest
    }
    /// How slots not in a group are named.
    async fn naming_pattern(&self) -> &str {
        &self.0.pattern
    }
    /// The slots it requires filled (`group.slot`).
    async fn required_slots(&self) -> Vec<String> {
        self.0
            .required
            .iter()
            .map(|(g, n)| format!("{g}.{n}"))
            .collect()
    }
    /// Folders of exact file names.
    async fn groups(&self) -> Vec<ExportProfileGroup> {
        self.0
            .groups
            .iter()
            .map(|g| ExportProfileGroup {
                name: g.name.clone(),
                folder: g.folder.clone(),
                sources: g
                    .sources
                    .iter()
                    .map(|(gr, n)| format!("{gr}.{n}"))
                    .collect(),
                file_names: g.files.iter().map(|(_, f)| f.clone()).collect(),
                required_width: int(g.required_dimensions.map(|(w, _)| w)),
                required_height: int(g.required_dimensions.map(|(_, h)| h)),
                notes: g.notes.clone(),
            })
            .collect()
    }
    /// Where it was read from.
    async fn origin(&self) -> &str {
        &self.0.origin
    }
    /// Its YAML.
    async fn source(&self) -> &str {
        &self.0.source
    }
}

/// A folder of a profile whose files have exact names.
#[derive(SimpleObject)]
pub struct ExportProfileGroup {
    /// The group's name.
    pub name: String,
    /// Its folder in the package.
    pub folder: String,
    /// The slots it takes (`group.slot`).
    pub sources: Vec<String>,
    /// Its files' names.
    pub file_names: Vec<String>,
    /// The width its images must have.
    pub required_width: Option<i32>,
    /// The height its images must have.
    pub required_height: Option<i32>,
    /// Notes.
    pub notes: Option<String>,
}

/// What exporting an assembly through a profile gives.
pub struct AssemblyManifest {
    pub manifest: Manifest,
    pub download_path: String,
}

/// What exporting an assembly through a profile gives.
#[Object]
impl AssemblyManifest {
    /// The profile.
    async fn profile(&self) -> AssemblyExportProfile {
        AssemblyExportProfile(self.manifest.profile.clone())
    }
    /// The package's root folder.
    async fn root(&self) -> &str {
        &self.manifest.root
    }
    /// Whether every required slot (the assembly's and the profile's) is filled.
    async fn complete(&self) -> bool {
        self.manifest.complete()
    }
    /// The required slots still empty.
    async fn missing_required(&self) -> &[String] {
        &self.manifest.missing_required
    }
    /// The files, in slot order.
    async fn files(&self) -> Vec<AssemblyExportFile> {
        self.manifest
            .files
            .iter()
            .cloned()
            .map(AssemblyExportFile)
            .collect()
    }
    /// What the pipeline would warn about (sizes, files left out).
    async fn warnings(&self) -> &[String] {
        &self.manifest.warnings
    }
    /// Where the ZIP is downloaded (POST, with the viewer's credentials).
    async fn download_path(&self) -> &str {
        &self.download_path
    }
}

/// One file of an export.
pub struct AssemblyExportFile(pub ExportFile);

/// One file of an export.
#[Object]
impl AssemblyExportFile {
    /// Where it goes, under the root folder.
    async fn path(&self) -> &str {
        &self.0.path
    }
    /// The slot (`group.slot`).
    async fn slot(&self) -> String {
        self.0.slot.path()
    }
    /// The variant (null: the slot's default image).
    async fn variant_key(&self) -> Option<&str> {
        (!self.0.variant_key.is_empty()).then_some(self.0.variant_key.as_str())
    }
    /// The asset.
    async fn asset(&self) -> Asset {
        Asset::from(self.0.asset.clone())
    }
    /// The format it is converted to, when the asset is in another.
    async fn converted_to(&self) -> Option<&str> {
        self.0.converted_to.as_deref()
    }
}

/// An assembly that fills slots with an asset.
#[derive(SimpleObject)]
pub struct AssemblyUse {
    /// The assembly.
    pub assembly: Entity,
    /// Where (`group.slot`, or `group.slot[variant]`).
    pub slots: Vec<String>,
}

/// A slot an asset may be for.
pub struct SlotCandidate(pub Candidate);

/// A slot an asset may be for.
#[Object]
impl SlotCandidate {
    /// The slot (`group.slot`).
    async fn path(&self) -> String {
        self.0.slot.path()
    }
    /// Its group.
    async fn group(&self) -> &str {
        &self.0.slot.group
    }
    /// Its name.
    async fn name(&self) -> &str {
        &self.0.slot.name
    }
    /// The variant the asset's name names.
    async fn variant_key(&self) -> Option<&str> {
        self.0.variant_key.as_deref()
    }
    /// How sure: 0 to 1.
    async fn confidence(&self) -> f64 {
        self.0.confidence
    }
    /// Why.
    async fn reasons(&self) -> &[String] {
        &self.0.reasons
    }
}

/// Which slot an asset is for.
pub struct SlotDetection {
    pub candidates: Vec<Candidate>,
    pub threshold: f64,
}

/// Which slot an asset is for.
#[Object]
impl SlotDetection {
    /// The likeliest slot, when it is at least as sure as the threshold.
    async fn detected(&self) -> Option<SlotCandidate> {
        self.candidates
            .first()
            .filter(|c| c.confidence >= self.threshold)
            .cloned()
            .map(SlotCandidate)
    }
    /// The confidence a detection needs (the rules' `slot_detection_confidence_threshold`).
    async fn threshold(&self) -> f64 {
        self.threshold
    }
    /// The slots it may be for, the likeliest first (at most 5).
    async fn candidates(&self) -> Vec<SlotCandidate> {
        self.candidates.iter().cloned().map(SlotCandidate).collect()
    }
}

/// The vocabulary of assemblies.
#[derive(SimpleObject)]
pub struct AssemblyTemplateTypes {
    /// The kinds of assembly (`assembly_type`), each with the template's groups.
    pub types: Vec<AssemblyTemplateType>,
    /// The tiers, from the template down.
    pub hierarchy_levels: Vec<String>,
    /// How much an assembly inherits.
    pub inheritance_modes: Vec<String>,
    /// How a slot may be drawn.
    pub overlay_modes: Vec<String>,
    /// The file types slots may accept.
    pub accepted_types: Vec<String>,
}

/// A kind of assembly.
#[derive(SimpleObject)]
pub struct AssemblyTemplateType {
    /// character, prop or building.
    pub name: String,
    /// The template's slot groups for it.
    pub groups: Vec<String>,
}
