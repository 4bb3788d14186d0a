//! Zombie progression (the assembly template's `zombie_progression`): stages 0 (clean) to 4
//! (zombie), each turning on overlay slots at an opacity; the last usually a full replacement
//! by a `zombie_variant` assembly. An assembly's stages are its own, else the nearest
//! ancestor's, else the template's.

use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value};

use super::chain::{Effective, Resolved};
use super::service::{Setting, descendants};
use super::validation::Problem;
use crate::error::AppResult;
use crate::rules::service::RuleSeverity;

/// The stages a progression has: clean, exposed, infected, turning, zombie.
pub const STAGES: std::ops::RangeInclusive<i64> = 0..=4;

/// A slot a stage turns on, by the name the stage gives it.
#[derive(Clone, Debug)]
pub struct ActiveOverlay {
    pub name: String,
    /// The slot it names (`group.slot`), when the assembly has one of that name.
    pub slot: Option<Effective>,
}

#[derive(Clone, Debug)]
pub struct Stage {
    pub number: i64,
    pub name: String,
    pub description: Option<String>,
    pub overlay_opacity: Option<f64>,
    pub active: Vec<ActiveOverlay>,
    pub requires_full_variant: bool,
    /// `full_replace` or `overlay_only`.
    pub zombie_mode: Option<String>,
    pub notes: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Progression {
    pub enabled: bool,
    pub stages: Vec<Stage>,
    /// The assembly whose stages these are (None: the template's).
    pub defined_by: Option<String>,
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|s| !s.trim().is_empty())
}

fn read(value: &Map<String, Value>, resolved: &Resolved, by: Option<String>) -> Progression {
    let mut stages: Vec<Stage> = value
        .get("stages")
        .and_then(Value::as_object)
        .map(|stages| {
            stages
                .iter()
                .filter_map(|(key, stage)| {
                    Some((key.trim().parse::<i64>().ok()?, stage.as_object()?))
                })
                .take(32)
                .map(|(number, stage)| Stage {
                    number,
                    name: text(stage, "name").unwrap_or_else(|| format!("Stage {number}")),
                    description: text(stage, "description"),
                    overlay_opacity: stage.get("overlay_opacity").and_then(Value::as_f64),
                    active: stage
                        .get("active_overlays")
                        .and_then(Value::as_array)
                        .map(|names| {
                            names
                                .iter()
                                .filter_map(Value::as_str)
                                .take(100)
                                .map(|name| ActiveOverlay {
                                    name: name.to_owned(),
                                    slot: resolved
                                        .slots
                                        .iter()
                                        .find(|s| s.definition.name == name || s.path() == name)
                                        .cloned(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    requires_full_variant: stage
                        .get("requires_full_variant")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    zombie_mode: text(stage, "zombie_mode"),
                    notes: text(stage, "notes"),
                })
                .collect()
        })
        .unwrap_or_default();
    stages.sort_by_key(|stage| stage.number);
    Progression {
        enabled: value
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        stages,
        defined_by: by,
    }
}

/// The assembly's progression: its own, the nearest ancestor's, or the template's.
pub fn progression(resolved: &Resolved, setting: &Setting) -> Progression {
    for node in resolved.chain.nodes.iter().rev() {
        if let Some(Value::Object(value)) = node.fields.get("zombie_progression")
            && value.get("stages").is_some()
        {
            return read(value, resolved, Some(node.id().to_owned()));
        }
    }
    match setting.template_fields.get("zombie_progression") {
        Some(Value::Object(value)) => read(value, resolved, None),
        _ => Progression {
            enabled: false,
            stages: Vec::new(),
            defined_by: None,
        },
    }
}

fn problem(severity: RuleSeverity, path: Option<String>, message: String) -> Problem {
    Problem {
        rule: None,
        severity,
        path,
        message,
    }
}

/// What keeps the assembly's zombie progression from working.
pub async fn validate(
    conn: &mut AsyncPgConnection,
    setting: &Setting,
    resolved: &Resolved,
) -> AppResult<Vec<Problem>> {
    use RuleSeverity::{Error, Warning};
    let progression = progression(resolved, setting);
    let mut out = Vec::new();
    if !progression.enabled {
        out.push(problem(
            Error,
            None,
            "zombie_progression is not enabled for this assembly".to_owned(),
        ));
    }
    for number in STAGES {
        if !progression
            .stages
            .iter()
            .any(|stage| stage.number == number)
        {
            out.push(problem(
                Error,
                None,
                format!("stage {number} is not defined"),
            ));
        }
    }
    let mut previous: Option<f64> = None;
    // Whether a zombie variant derives from the assembly: looked for once, when a stage asks.
    let mut zombie_below: Option<bool> = None;
    for stage in &progression.stages {
        let name = format!("stage {} ({})", stage.number, stage.name);
        match stage.overlay_opacity {
            Some(o) if !(0.0..=1.0).contains(&o) => {
                out.push(problem(
                    Error,
                    None,
                    format!("{name}: overlay_opacity {o} is not 0 to 1"),
                ));
            }
            Some(o) if previous.is_some_and(|p| o < p) => out.push(problem(
                Warning,
                None,
                format!("{name}: overlay_opacity {o} is lower than the stage before's"),
            )),
            _ => {}
        }
        previous = stage.overlay_opacity.or(previous);
        for overlay in &stage.active {
            match &overlay.slot {
                None => out.push(problem(
                    Error,
                    None,
                    format!(
                        "{name} turns on {}, and the assembly has no such slot",
                        overlay.name
                    ),
                )),
                Some(slot) if !slot.definition.is_overlay() => out.push(problem(
                    Error,
                    Some(slot.path()),
                    format!(
                        "{name} turns on {}, which is not an overlay slot",
                        slot.path()
                    ),
                )),
                Some(slot) if !slot.is_filled() => out.push(problem(
                    Warning,
                    Some(slot.path()),
                    format!("{name} turns on {}, which is empty", slot.path()),
                )),
                Some(_) => {}
            }
        }
        if stage.requires_full_variant && stage.zombie_mode.as_deref() != Some("overlay_only") {
            full_variant(conn, resolved, &name, &mut zombie_below, &mut out).await?;
        }
    }
    Ok(out)
}

/// A full-replacement stage: a zombie variant replaces the base slots itself, and an assembly
/// above one has a zombie variant below it.
async fn full_variant(
    conn: &mut AsyncPgConnection,
    resolved: &Resolved,
    stage: &str,
    zombie_below: &mut Option<bool>,
    out: &mut Vec<Problem>,
) -> AppResult<()> {
    let subject = resolved.chain.subject();
    if subject.level() == "zombie_variant" {
        for slot in resolved
            .slots
            .iter()
            .filter(|s| s.definition.required && !s.definition.is_overlay())
        {
            if let Some(from) = slot
                .filled
                .as_ref()
                .map(|f| f.from.as_str())
                .filter(|from| *from != subject.id())
            {
                out.push(problem(
                    RuleSeverity::Warning,
                    Some(slot.path()),
                    format!(
                        "{stage} replaces the base slots; {} still shows {from}'s",
                        slot.path()
                    ),
                ));
            }
        }
        return Ok(());
    }
    let found = match zombie_below {
        Some(found) => *found,
        None => {
            let below = descendants(conn, subject.row.tenant_id, subject.id()).await?;
            let found = below
                .iter()
                .any(|(node, _)| node.level() == "zombie_variant");
            *zombie_below = Some(found);
            found
        }
    };
    if !found {
        out.push(problem(
            RuleSeverity::Warning,
            None,
            format!(
                "{stage} needs a zombie_variant assembly, and none derives from {}",
                subject.id()
            ),
        ));
    }
    Ok(())
}
