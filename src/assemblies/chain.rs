//! An assembly with its chain of parents, and its slots resolved down that chain: definitions
//! laid over the parent's (or the template's), what each slot holds (its own fill, or the
//! nearest ancestor's as its inheritance mode lets it through), and the locks its ancestors
//! hold over it.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel_async::AsyncPgConnection;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::definitions::{self, Definitions, SlotDefinition};
use super::model::{SlotAssetRow, SlotRow};
use super::store;
use crate::entities::service::{self as entities, EntityRow, EntityType};
use crate::error::AppResult;

/// How far up parents are followed: past the deepest chain a rule may allow, so a chain one
/// too deep is seen.
const MAX_ANCESTORS: usize = 16;

/// One assembly of a chain.
#[derive(Clone, Debug)]
pub struct Node {
    pub row: EntityRow,
    pub fields: Map<String, Value>,
}

fn text<'a>(fields: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    fields
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

impl Node {
    pub fn new(row: EntityRow) -> Self {
        let fields = match row.fields.value() {
            Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        Self { row, fields }
    }

    pub fn id(&self) -> &str {
        &self.row.entity_id
    }

    /// Its tier (`hierarchy_level`; a template when it says none).
    pub fn level(&self) -> &str {
        text(&self.fields, "hierarchy_level").unwrap_or("template")
    }

    /// How much it inherits (`inheritance_mode`; full when it says none).
    pub fn mode(&self) -> &str {
        text(&self.fields, "inheritance_mode").unwrap_or("full")
    }

    pub fn parent_id(&self) -> Option<&str> {
        text(&self.fields, "parent_assembly_id").or_else(|| text(&self.fields, "parent_assembly"))
    }

    pub fn assembly_type(&self) -> Option<&str> {
        text(&self.fields, "assembly_type")
    }

    /// The slot paths it locks for its descendants (`locked_slots`).
    pub fn locks(&self) -> Vec<String> {
        self.fields
            .get("locked_slots")
            .and_then(Value::as_array)
            .map(|paths| {
                paths
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn own_definitions(&self) -> Definitions {
        Definitions::read(self.fields.get("slot_definitions"), Some(self.id()))
    }
}

/// An assembly and its parents, the root first and the assembly last.
#[derive(Clone, Debug)]
pub struct Chain {
    pub nodes: Vec<Node>,
    /// Why the chain stops before a template: a parent that is not there, or a loop.
    pub broken: Option<String>,
}

impl Chain {
    pub fn subject(&self) -> &Node {
        // A chain always holds its assembly.
        &self.nodes[self.nodes.len() - 1]
    }

    pub fn ancestors(&self) -> &[Node] {
        &self.nodes[..self.nodes.len() - 1]
    }

    pub fn row_ids(&self) -> Vec<Uuid> {
        self.nodes.iter().map(|node| node.row.id).collect()
    }
}

/// Follows an assembly's parents (live assemblies of its tenant) up to a template, a missing
/// parent or a loop.
pub async fn load(conn: &mut AsyncPgConnection, row: EntityRow) -> AppResult<Chain> {
    let tenant_id = row.tenant_id;
    let mut nodes = vec![Node::new(row)];
    let mut seen: HashSet<String> = HashSet::from([nodes[0].id().to_owned()]);
    let mut broken = None;
    while let Some(parent_id) = nodes.last().and_then(Node::parent_id).map(str::to_owned) {
        if !seen.insert(parent_id.clone()) {
            broken = Some(format!("the chain of parents loops back at {parent_id}"));
            break;
        }
        if nodes.len() > MAX_ANCESTORS {
            broken = Some(format!(
                "the chain of parents is longer than {MAX_ANCESTORS}"
            ));
            break;
        }
        match entities::find_live(conn, tenant_id, EntityType::Assembly, &parent_id).await? {
            Some(parent) => nodes.push(Node::new(parent)),
            None => {
                broken = Some(format!("its parent {parent_id} is not a live assembly"));
                break;
            }
        }
    }
    nodes.reverse();
    Ok(Chain { nodes, broken })
}

/// What fills a slot, and which assembly of the chain filled it.
#[derive(Clone, Debug)]
pub struct Filled {
    pub slot: SlotRow,
    pub assets: Vec<SlotAssetRow>,
    pub from: String,
}

/// A slot as the assembly has it.
#[derive(Clone, Debug)]
pub struct Effective {
    pub definition: SlotDefinition,
    /// False for a fill of a slot no definition names (any more).
    pub defined: bool,
    pub filled: Option<Filled>,
    /// The ancestor whose lock keeps the assembly from filling it.
    pub locked_by: Option<String>,
    /// Locked by the assembly itself, for its descendants.
    pub locked_here: bool,
}

impl Effective {
    pub fn path(&self) -> String {
        self.definition.path()
    }

    /// Its z-index: the fill's override, or the definition's.
    pub fn z_index(&self) -> Option<i64> {
        self.filled
            .as_ref()
            .and_then(|f| f.slot.z_index.map(i64::from))
            .or(self.definition.z_index)
    }

    /// How it is drawn: the fill's mode, or the definition's first.
    pub fn overlay_mode(&self) -> Option<String> {
        self.filled
            .as_ref()
            .and_then(|f| f.slot.overlay_mode.clone())
            .or_else(|| self.definition.overlay_modes.first().cloned())
    }

    pub fn is_filled(&self) -> bool {
        self.filled.as_ref().is_some_and(|f| !f.assets.is_empty())
    }
}

/// An assembly's slots resolved down its chain.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub chain: Chain,
    pub definitions: Definitions,
    /// Its slots: the defined ones in their groups' order, then fills of undefined ones.
    pub slots: Vec<Effective>,
    /// The assembly's own fills of slots an ancestor locked (left out of `slots`).
    pub shadowed: Vec<Filled>,
}

impl Resolved {
    pub fn slot(&self, path: &str) -> Option<&Effective> {
        self.slots.iter().find(|slot| slot.path() == path)
    }

    pub fn filled(&self) -> impl Iterator<Item = &Effective> {
        self.slots.iter().filter(|slot| slot.is_filled())
    }
}

impl Chain {
    /// The locks the assembly's ancestors hold: (path, the highest ancestor holding it).
    pub fn ancestor_locks(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for node in self.ancestors() {
            for path in node.locks() {
                if !out.iter().any(|(p, _)| *p == path) {
                    out.push((path, node.id().to_owned()));
                }
            }
        }
        out
    }
}

/// Reads what the chain's assemblies fill and resolves the assembly's slots; `template` is
/// the assembly template's definitions, for a chain whose root defines none.
pub async fn resolved(
    conn: &mut AsyncPgConnection,
    chain: Chain,
    template: &Definitions,
) -> AppResult<Resolved> {
    let tenant_id = chain.subject().row.tenant_id;
    let ids = chain.row_ids();
    let rows = store::slots_of(conn, tenant_id, &ids).await?;
    let assets = store::assets_of(conn, tenant_id, &ids).await?;
    Ok(resolve(chain, template, rows, assets))
}

pub fn resolve(
    chain: Chain,
    template: &Definitions,
    rows: Vec<SlotRow>,
    assets: Vec<SlotAssetRow>,
) -> Resolved {
    let mut assets_by_slot: HashMap<(Uuid, String, String), Vec<SlotAssetRow>> = HashMap::new();
    for asset in assets {
        assets_by_slot
            .entry((
                asset.assembly_row_id,
                asset.slot_group.clone(),
                asset.slot_name.clone(),
            ))
            .or_default()
            .push(asset);
    }
    let mut fills_by_node: HashMap<Uuid, Vec<SlotRow>> = HashMap::new();
    for row in rows {
        fills_by_node
            .entry(row.assembly_row_id)
            .or_default()
            .push(row);
    }
    let last = chain.nodes.len() - 1;
    let mut definitions = Definitions::default();
    let mut fills: BTreeMap<String, Filled> = BTreeMap::new();
    let mut locked: HashSet<String> = HashSet::new();
    let mut shadowed = Vec::new();
    for (at, node) in chain.nodes.iter().enumerate() {
        let own = node.own_definitions();
        let fallback = || template.clone().for_type(node.assembly_type());
        definitions = if at == 0 || node.mode() == "none" {
            if own.is_empty() { fallback() } else { own }
        } else {
            std::mem::take(&mut definitions).overlaid(own)
        };
        if at == 0 || node.mode() != "full" {
            // Only what an ancestor locked comes down (locks are inherited whatever the mode).
            fills.retain(|path, _| locked.contains(path));
        }
        for slot in fills_by_node.remove(&node.row.id).unwrap_or_default() {
            let path = slot.path();
            let key = (
                slot.assembly_row_id,
                slot.slot_group.clone(),
                slot.slot_name.clone(),
            );
            let filled = Filled {
                assets: assets_by_slot.remove(&key).unwrap_or_default(),
                slot,
                from: node.id().to_owned(),
            };
            if locked.contains(&path) {
                if at == last {
                    shadowed.push(filled);
                }
                continue;
            }
            fills.insert(path, filled);
        }
        if at < last {
            locked.extend(node.locks());
        }
    }
    let ancestor_locks = chain.ancestor_locks();
    let own_locks = chain.subject().locks();
    let mut slots: Vec<Effective> = Vec::new();
    let effective = |definition: SlotDefinition, defined: bool, filled: Option<Filled>| {
        let path = definition.path();
        Effective {
            locked_by: ancestor_locks
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, by)| by.clone()),
            locked_here: own_locks.contains(&path),
            definition,
            defined,
            filled,
        }
    };
    for definition in definitions.slots() {
        let filled = fills.remove(&definition.path());
        slots.push(effective(definition.clone(), true, filled));
    }
    for (_, filled) in fills {
        let (group, name) = (&filled.slot.slot_group, &filled.slot.slot_name);
        let slot = match definitions.resolve(group, name) {
            Ok(custom) => effective(custom, true, Some(filled)),
            Err(_) => effective(undefined(group, name), false, Some(filled)),
        };
        slots.push(slot);
    }
    Resolved {
        chain,
        definitions,
        slots,
        shadowed,
    }
}

/// A slot no definition names: nothing required, nothing allowed.
fn undefined(group: &str, name: &str) -> SlotDefinition {
    definitions::slot(group, name, &Map::new(), None)
}
