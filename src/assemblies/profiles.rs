//! Export profiles (`templates/Standard/ExportProfiles/*.yaml` of the template package): how a
//! pipeline (Showrunner, ComfyUI, Unreal Mutable, UEFN) wants an assembly's images laid out —
//! the package's root folder, its manifest's name, a naming pattern for every slot, groups of
//! slots whose variants go to exact file names, the slots it requires and the sizes it wants.
//! loregraph carries the package's four; a package directory's replace and add to them; read
//! again by `reloadExportProfiles`.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::config::package::{self, Reloadable};
use crate::markdown::yaml;

/// The built-in profiles: (file, source).
const BUILTIN: [(&str, &str); 4] = [
    (
        "comfyui_trellis_v1.yaml",
        include_str!("builtin/export_profiles/comfyui_trellis_v1.yaml"),
    ),
    (
        "showrunner_v1.yaml",
        include_str!("builtin/export_profiles/showrunner_v1.yaml"),
    ),
    (
        "uefn_scene_graph_v1.yaml",
        include_str!("builtin/export_profiles/uefn_scene_graph_v1.yaml"),
    ),
    (
        "unreal_mutable_v1.yaml",
        include_str!("builtin/export_profiles/unreal_mutable_v1.yaml"),
    ),
];
const MAX_FILES: usize = 100;
const MAX_BYTES: usize = 64 * 1024;
/// The placeholders a name may use.
const PLACEHOLDERS: [&str; 4] = [
    "{assembly_id}",
    "{slot_group}",
    "{slot_name}",
    "{slot_variant_key_or_default}",
];
/// The naming of slots a profile does not name otherwise.
pub const DEFAULT_PATTERN: &str = "{slot_group}/{slot_name}/{slot_variant_key_or_default}";

/// Slots whose variants go to one folder under exact names.
#[derive(Clone, Debug)]
pub struct ProfileGroup {
    pub name: String,
    /// The slots (`group`, `slot`) it takes.
    pub sources: Vec<(String, String)>,
    pub folder: String,
    /// Variant key → file name.
    pub files: Vec<(String, String)>,
    pub required_dimensions: Option<(i64, i64)>,
    pub notes: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ExportProfile {
    pub id: String,
    pub version: String,
    pub description: String,
    /// The file format it wants (`png`), or `mixed`/none: the files as they are.
    pub format: Option<String>,
    pub root_name: String,
    pub include_manifest: bool,
    pub manifest_name: String,
    pub pattern: String,
    pub groups: Vec<ProfileGroup>,
    /// Slots it requires filled, beside the assembly's required ones.
    pub required: Vec<(String, String)>,
    /// Whether a size other than a group's is only a warning (else it refuses the export).
    pub warn_on_dimensions: bool,
    /// Where it was read from (`built-in showrunner_v1.yaml`, or the package's file).
    pub origin: String,
    pub source: Arc<str>,
}

/// The profiles in force, by id.
#[derive(Debug, Default)]
pub struct Profiles {
    pub profiles: Vec<Arc<ExportProfile>>,
}

impl Profiles {
    pub fn get(&self, id: &str) -> Option<&Arc<ExportProfile>> {
        self.profiles.iter().find(|profile| profile.id == id)
    }

    fn read(dir: Option<&Path>) -> Result<Self, Vec<String>> {
        let mut files: Vec<(String, String)> = BUILTIN
            .iter()
            .map(|(name, text)| (format!("built-in {name}"), (*text).to_owned()))
            .collect();
        if let Some(dir) = dir {
            let found = package::yaml_files(
                &dir.join("templates")
                    .join("Standard")
                    .join("ExportProfiles"),
                MAX_FILES,
                MAX_BYTES,
            )
            .map_err(|error| vec![format!("{error:#}")])?;
            files.extend(found);
        }
        let mut out = Self::default();
        let mut problems = Vec::new();
        for (origin, text) in files {
            match parse(&origin, &text) {
                Ok(profile) => {
                    let profile = Arc::new(profile);
                    match out.profiles.iter().position(|p| p.id == profile.id) {
                        Some(at) if out.profiles[at].origin.starts_with("built-in ") => {
                            out.profiles[at] = profile;
                        }
                        Some(_) => problems.push(format!(
                            "{origin}: another file is the profile {:?}",
                            profile.id
                        )),
                        None => out.profiles.push(profile),
                    }
                }
                Err(problem) => problems.push(format!("{origin}: {problem}")),
            }
        }
        out.profiles.sort_by(|a, b| a.id.cmp(&b.id));
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }
}

fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().map(str::to_owned)
}

/// A name or pattern: plain relative path parts and known placeholders only.
fn checked_name(what: &str, name: &str) -> Result<String, String> {
    let mut rest = name.to_owned();
    for placeholder in PLACEHOLDERS {
        rest = rest.replace(placeholder, "x");
    }
    let plain = !rest.is_empty()
        && rest.len() <= 200
        && rest.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
        });
    if plain {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "{what} {name:?} is not a relative path of letters, digits, _ - . and {}",
            PLACEHOLDERS.join(" ")
        ))
    }
}

fn slot_pairs(value: Option<&Value>) -> Vec<(String, String)> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| {
                    Some((text(item, &["slot_group"])?, text(item, &["slot_name"])?))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn parse(origin: &str, source: &str) -> Result<ExportProfile, String> {
    let mapping = yaml::parse_mapping(source).map_err(|error| error.to_string())?;
    let doc = yaml::Node::Map(mapping).to_json();
    let id = text(&doc, &["export_profile"]).ok_or("it names no export_profile")?;
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "the profile id {id:?} is not letters, digits and _"
        ));
    }
    let mut groups = Vec::new();
    if let Some(map) = doc.get("groups").and_then(Value::as_object) {
        for (name, group) in map {
            let folder = checked_name(
                "a group's folder",
                &text(group, &["folder"]).unwrap_or_else(|| name.clone()),
            )?;
            let files = group
                .get("files")
                .and_then(Value::as_object)
                .map(|files| {
                    files
                        .iter()
                        .filter_map(|(key, file)| Some((key.clone(), file.as_str()?.to_owned())))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            for (_, file) in &files {
                checked_name("a file name", file)?;
            }
            groups.push(ProfileGroup {
                name: name.clone(),
                sources: slot_pairs(group.get("sources")),
                folder,
                files,
                required_dimensions: group
                    .get("required_dimensions")
                    .and_then(Value::as_array)
                    .and_then(|wh| Some((wh.first()?.as_i64()?, wh.get(1)?.as_i64()?))),
                notes: text(group, &["notes"]),
            });
        }
    }
    let root_name = checked_name(
        "package.root_name",
        &text(&doc, &["package", "root_name"]).unwrap_or_else(|| "{assembly_id}".to_owned()),
    )?;
    if root_name.replace("{assembly_id}", "").contains('{') || root_name.contains('/') {
        return Err("package.root_name is one folder, naming at most {assembly_id}".to_owned());
    }
    let manifest_name = checked_name(
        "package.manifest_name",
        &text(&doc, &["package", "manifest_name"]).unwrap_or_else(|| "manifest.json".to_owned()),
    )?;
    let pattern = checked_name(
        "naming.pattern",
        &text(&doc, &["naming", "pattern"]).unwrap_or_else(|| DEFAULT_PATTERN.to_owned()),
    )?;
    Ok(ExportProfile {
        version: text(&doc, &["version"]).unwrap_or_default(),
        description: text(&doc, &["description"]).unwrap_or_default(),
        format: text(&doc, &["outputs", "format"]).filter(|f| f != "mixed"),
        root_name,
        include_manifest: doc
            .pointer("/package/include_manifest")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        manifest_name,
        pattern,
        groups,
        required: slot_pairs(doc.pointer("/required/slot_sets")),
        warn_on_dimensions: text(&doc, &["outputs", "warnings", "mismatch_dimensions"]).as_deref()
            != Some("error"),
        origin: origin.to_owned(),
        source: Arc::from(source),
        id,
    })
}

/// The profiles in force, swapped whole by a reload.
pub struct ProfileBook(Reloadable<Profiles>);

impl ProfileBook {
    /// Reads the package at start: a broken profile stops the server, as a broken template does.
    pub fn load(dir: Option<std::path::PathBuf>) -> anyhow::Result<Self> {
        Reloadable::load(dir, Profiles::read)
            .map(Self)
            .map_err(|problems| anyhow::anyhow!("the export profiles: {}", problems.join("; ")))
    }

    pub fn current(&self) -> Arc<Profiles> {
        self.0.current()
    }

    /// Reads the profiles again; on a problem, keeps those in force.
    pub async fn reload(&self) -> Result<Arc<Profiles>, Vec<String>> {
        self.0.reload().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_profiles_read() {
        let profiles = Profiles::read(None).expect("the built-in profiles");
        assert_eq!(profiles.profiles.len(), 4);
        let showrunner = profiles.get("showrunner_v1").expect("showrunner");
        assert_eq!(showrunner.manifest_name, "manifest.json");
        assert_eq!(showrunner.required.len(), 10);
        let mouths = showrunner
            .groups
            .iter()
            .find(|g| g.name == "mouths")
            .expect("mouths");
        assert_eq!(mouths.required_dimensions, Some((512, 512)));
        assert_eq!(mouths.files.len(), 7);
        let trellis = profiles.get("comfyui_trellis_v1").expect("trellis");
        assert_eq!(trellis.format.as_deref(), Some("png"));
        assert!(
            profiles
                .get("uefn_scene_graph_v1")
                .expect("uefn")
                .format
                .is_none()
        );
    }

    #[test]
    fn names_that_leave_the_package_are_refused() {
        assert!(checked_name("x", "../etc/{slot_name}").is_err());
        assert!(checked_name("x", "/abs").is_err());
        assert!(checked_name("x", "{assembly_id}_mutable").is_ok());
        assert!(
            parse(
                "t",
                "export_profile: a\nnaming:\n  pattern: '{slot_group}/../x'\n"
            )
            .is_err()
        );
    }
}
