//! Changes to an assembly's place in its hierarchy: the slots it locks for its descendants,
//! and its parent. Both live in the assembly's frontmatter (`locked_slots`,
//! `parent_assembly_id`) and are written through the entities domain — a new version,
//! validated and announced as any write — in one transaction holding the assembly's row and
//! the tenant's hierarchy lock; each breach of an assembly rule is refused naming the rule.

use diesel_async::{AsyncConnection as _, AsyncPgConnection};
use serde_json::{Map, Value, json};

use super::chain::{self, Chain, Node, Resolved};
use super::constraints::RuleRef;
use super::edits::{locked, may_edit};
use super::service::{Setting, descendants};
use super::store;
use crate::auth::Viewer;
use crate::context::Platform;
use crate::entities::service::{self as entities, EntityType, TemplateCatalog};
use crate::error::{AppError, AppResult};

/// Who changes an assembly's hierarchy, and what they judge it by.
pub struct Editor<'a> {
    pub platform: &'a Platform,
    /// The tenant's catalog (the assembly is written through it).
    pub catalog: &'a TemplateCatalog,
    pub viewer: &'a Viewer,
    pub setting: &'a Setting,
}

/// A change asked for.
enum Ask {
    Lock(Vec<String>),
    Unlock(Vec<String>),
    SetParent(String),
    RemoveParent,
}

/// What it does to the frontmatter, once judged.
enum Write {
    Locks(Vec<String>),
    Parent(Option<String>),
}

impl Write {
    fn apply(self, fields: &mut Map<String, Value>) {
        match self {
            Self::Locks(locks) => {
                fields.insert("locked_slots".to_owned(), json!(locks));
            }
            Self::Parent(parent) => {
                fields.remove("parent_assembly");
                match parent {
                    Some(id) => fields.insert("parent_assembly_id".to_owned(), Value::String(id)),
                    None => fields.remove("parent_assembly_id"),
                };
            }
        }
    }
}

/// Locks slots for the assembly's descendants (WORLDBUILDER): each a `group.slot` it has,
/// and none a descendant already fills (asm_lock_002).
pub async fn lock_slots(
    editor: &Editor<'_>,
    conn: &mut AsyncPgConnection,
    assembly_id: &str,
    paths: Vec<String>,
) -> AppResult<()> {
    change(editor, conn, assembly_id, Ask::Lock(paths)).await
}

/// Lifts the assembly's own locks (WORLDBUILDER); an ancestor's lock stays (asm_lock_003).
pub async fn unlock_slots(
    editor: &Editor<'_>,
    conn: &mut AsyncPgConnection,
    assembly_id: &str,
    paths: Vec<String>,
) -> AppResult<()> {
    change(editor, conn, assembly_id, Ask::Unlock(paths)).await
}

/// Makes `parent_id` the assembly's parent (WORLDBUILDER): a live assembly of the tier just
/// above it, not below it, whose chain with the assembly and its descendants stays within the
/// deepest chain allowed, and whose locks neither the assembly's fills nor its descendants'
/// break.
pub async fn set_parent(
    editor: &Editor<'_>,
    conn: &mut AsyncPgConnection,
    assembly_id: &str,
    parent_id: &str,
) -> AppResult<()> {
    change(
        editor,
        conn,
        assembly_id,
        Ask::SetParent(parent_id.to_owned()),
    )
    .await
}

/// Takes the assembly's parent away (WORLDBUILDER): only a template stands alone
/// (asm_inh_003).
pub async fn remove_parent(
    editor: &Editor<'_>,
    conn: &mut AsyncPgConnection,
    assembly_id: &str,
) -> AppResult<()> {
    change(editor, conn, assembly_id, Ask::RemoveParent).await
}

async fn change(
    editor: &Editor<'_>,
    conn: &mut AsyncPgConnection,
    assembly_id: &str,
    ask: Ask,
) -> AppResult<()> {
    let viewer = editor.viewer;
    may_edit(conn, viewer).await?;
    let written = conn
        .transaction::<_, AppError, _>(async |conn| {
            store::lock_hierarchy(conn, viewer.tenant_id, true).await?;
            let resolved = locked(conn, viewer, editor.setting, assembly_id).await?;
            let write = match ask {
                Ask::Lock(paths) => lock(conn, editor, &resolved, paths).await?,
                Ask::Unlock(paths) => unlock(editor, &resolved, &paths)?,
                Ask::SetParent(parent_id) => parent(conn, editor, &resolved, parent_id).await?,
                Ask::RemoveParent => orphan(editor, &resolved)?,
            };
            let row = &resolved.chain.subject().row;
            let mut content = entities::content_of(row);
            if let Value::Object(fields) = &mut content.fields {
                write.apply(fields);
            }
            let replaced = entities::replace(
                conn,
                editor.catalog,
                viewer,
                EntityType::Assembly,
                content,
                Some(row.clone()),
            )
            .await?;
            Ok(replaced.written())
        })
        .await?;
    if let Some(written) = written {
        entities::announce(editor.platform, viewer, written);
    }
    Ok(())
}

async fn lock(
    conn: &mut AsyncPgConnection,
    editor: &Editor<'_>,
    resolved: &Resolved,
    paths: Vec<String>,
) -> AppResult<Write> {
    let subject = resolved.chain.subject();
    let mut locks = subject.locks();
    let mut added = Vec::new();
    for path in paths {
        if !resolved.definitions.slots().any(|slot| slot.path() == path) {
            let why = format!("{path} is not a slot_group.slot_name of {}", subject.id());
            return Err(match &editor.setting.rules.lock_paths {
                Some(rule) => rule.refuse(why),
                None => AppError::bad_field("paths", why),
            });
        }
        if !locks.contains(&path) {
            added.push(path.clone());
            locks.push(path);
        }
    }
    if let Some(rule) = &editor.setting.rules.ancestor_locks {
        let below = descendants(conn, editor.viewer.tenant_id, subject.id()).await?;
        if let Some((by, path)) = filling(conn, editor.viewer, &below, &added).await? {
            return Err(rule.refuse(format!(
                "{by} fills {path}, which the lock would take from it: empty it there first"
            )));
        }
    }
    Ok(Write::Locks(locks))
}

fn unlock(editor: &Editor<'_>, resolved: &Resolved, paths: &[String]) -> AppResult<Write> {
    let subject = resolved.chain.subject();
    let mut locks = subject.locks();
    let inherited = resolved.chain.ancestor_locks();
    for path in paths {
        if let Some((_, by)) = inherited.iter().find(|(p, _)| p == path)
            && !locks.contains(path)
        {
            let why = format!("{path} is locked by the ancestor {by}");
            return Err(match &editor.setting.rules.additive_locks {
                Some(rule) => rule.refuse(why),
                None => AppError::bad_field("paths", why),
            });
        }
        if !locks.contains(path) {
            return Err(AppError::bad_field(
                "paths",
                format!("{} does not lock {path}", subject.id()),
            ));
        }
        locks.retain(|p| p != path);
    }
    Ok(Write::Locks(locks))
}

fn orphan(editor: &Editor<'_>, resolved: &Resolved) -> AppResult<Write> {
    let child = resolved.chain.subject();
    let first = editor
        .setting
        .rules
        .tiers()
        .into_iter()
        .next()
        .unwrap_or_default();
    if let Some(rule) = &editor.setting.rules.parent_required
        && child.level() != first
    {
        return Err(rule.refuse(format!(
            "{} is a {}: only a {first} has no parent",
            child.id(),
            child.level()
        )));
    }
    if child.parent_id().is_none() {
        return Err(AppError::not_found(format!("{} has no parent", child.id())));
    }
    Ok(Write::Parent(None))
}

async fn parent(
    conn: &mut AsyncPgConnection,
    editor: &Editor<'_>,
    resolved: &Resolved,
    parent_id: String,
) -> AppResult<Write> {
    let (viewer, rules) = (editor.viewer, &editor.setting.rules);
    let assembly_id = resolved.chain.subject().id();
    let parent_id = parent_id.as_str();
    let below = descendants(conn, viewer.tenant_id, assembly_id).await?;
    let parent = super::service::find(conn, viewer, parent_id).await?;
    let parents: Chain = chain::load(conn, parent).await?;
    let cycle_rule = rules
        .max_depth
        .as_ref()
        .map(|(rule, _)| rule)
        .or(rules.hierarchy.as_ref().map(|(rule, _)| rule));
    if parents.nodes.iter().any(|node| node.id() == assembly_id) {
        let why = format!("{parent_id} descends from {assembly_id}: the chain would loop");
        return Err(match cycle_rule {
            Some(rule) => rule.refuse(why),
            None => AppError::bad_field("parentId", why),
        });
    }
    let child = resolved.chain.subject();
    if let Some((rule, _)) = &rules.hierarchy {
        let tiers = rules.tiers();
        let (at, parent_at) = (
            tier(&tiers, child, rule)?,
            tier(&tiers, parents.subject(), rule)?,
        );
        if at == 0 || parent_at + 1 != at {
            return Err(rule.refuse(match at {
                0 => format!("{assembly_id} is a {}: it has no parent", tiers[0]),
                _ => format!(
                    "a {}'s parent must be a {}, and {parent_id} is a {}",
                    tiers[at],
                    tiers[at - 1],
                    parents.subject().level()
                ),
            }));
        }
    }
    if let Some((rule, max)) = &rules.max_depth {
        let deepest = below.iter().map(|(_, depth)| *depth).max().unwrap_or(0);
        let depth = parents.nodes.len() + 1 + deepest;
        if depth as i64 > *max {
            return Err(rule.refuse(format!(
                "the chain would be {depth} assemblies deep, more than {max}"
            )));
        }
    }
    if let Some(rule) = &rules.ancestor_locks {
        let own: Vec<String> = resolved
            .filled()
            .filter(|slot| slot.filled.as_ref().is_some_and(|f| f.from == child.id()))
            .map(|slot| slot.path())
            .collect();
        let new_locks: Vec<String> = parents.nodes.iter().flat_map(Node::locks).collect();
        if let Some(path) = own.iter().find(|p| new_locks.contains(p)) {
            return Err(rule.refuse(format!(
                "{assembly_id} fills {path}, which an assembly of {parent_id}'s chain locks"
            )));
        }
        if let Some((by, path)) = filling(conn, viewer, &below, &new_locks).await? {
            return Err(rule.refuse(format!(
                "{by} (below {assembly_id}) fills {path}, which an assembly of \
                 {parent_id}'s chain locks"
            )));
        }
    }
    Ok(Write::Parent(Some(parent_id.to_owned())))
}

/// Where a tier sits in the chain of tiers.
fn tier(tiers: &[String], node: &Node, rule: &RuleRef) -> AppResult<usize> {
    tiers.iter().position(|t| t == node.level()).ok_or_else(|| {
        rule.refuse(format!(
            "{} is a {}, not one of the tiers {}",
            node.id(),
            node.level(),
            tiers.join(", ")
        ))
    })
}

/// The first of these assemblies that itself fills one of `paths`: (it, the path).
async fn filling(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    assemblies: &[(Node, usize)],
    paths: &[String],
) -> AppResult<Option<(String, String)>> {
    if assemblies.is_empty() || paths.is_empty() {
        return Ok(None);
    }
    let ids: Vec<_> = assemblies.iter().map(|(node, _)| node.row.id).collect();
    let fills = store::slots_of(conn, viewer.tenant_id, &ids).await?;
    Ok(fills
        .into_iter()
        .find(|f| paths.contains(&f.path()))
        .and_then(|f| {
            let by = assemblies
                .iter()
                .find(|(n, _)| n.row.id == f.assembly_row_id)?;
            Some((by.0.id().to_owned(), f.path()))
        }))
}
