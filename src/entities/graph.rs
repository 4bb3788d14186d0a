//! The relationship graph: an entity's neighbourhood a few hops deep, or the whole tenant's
//! graph, as bounded lists of nodes and edges. Each hop costs a fixed number of statements.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use diesel_async::AsyncPgConnection;
use serde_json::Value;
use uuid::Uuid;

use super::api::object::RelationshipOrigin;
use super::links;
use super::model::{EntityRow, RelationshipRow};
use super::store;
use crate::error::AppResult;

pub const MAX_DEPTH: i32 = 3;

/// How many links per node a graph query reads at most, on average, before it calls the graph
/// truncated.
const EDGES_PER_NODE: usize = 8;

#[derive(Clone, Debug)]
pub struct Edge {
    /// The explicit relationship's id; None for a field reference.
    pub id: Option<Uuid>,
    pub source: Uuid,
    pub target: Uuid,
    pub kind: String,
    pub origin: RelationshipOrigin,
    pub attributes: Value,
}

#[derive(Default)]
pub struct Graph {
    pub nodes: Vec<Arc<EntityRow>>,
    pub edges: Vec<Edge>,
    /// Some nodes were left out to stay within the limit.
    pub truncated: bool,
}

impl Graph {
    fn add_edge(&mut self, seen: &mut HashSet<(Uuid, Uuid, String, bool)>, edge: Edge) {
        let key = (
            edge.source,
            edge.target,
            edge.kind.clone(),
            edge.origin == RelationshipOrigin::Field,
        );
        if seen.insert(key) {
            self.edges.push(edge);
        }
    }
}

/// What one hop of a graph walk found.
struct Hop {
    edges: Vec<Edge>,
    /// The live entities at the far ends of the edges.
    others: Vec<Arc<EntityRow>>,
    /// A query stopped at its limit: some edges were left out.
    cut: bool,
}

/// The edges touching `frontier` (each kind of query capped at `limit` rows, so a hub with
/// thousands of links cannot make one hop unbounded), with the entities at their other ends.
async fn edges_around(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    frontier: &[Arc<EntityRow>],
    limit: i64,
) -> AppResult<Hop> {
    let ids: Vec<Uuid> = frontier.iter().map(|r| r.id).collect();
    let mut edges = Vec::new();
    let mut others: Vec<Arc<EntityRow>> = Vec::new();

    let outgoing =
        links::resolve_outgoing(links::outgoing_references(conn, tenant_id, &ids).await?);
    for (source, references) in outgoing {
        for reference in references {
            if let Some(target) = reference.target {
                edges.push(field_edge(source, target.id, reference.kind));
                others.push(target);
            }
        }
    }

    let entity_ids: Vec<String> = frontier.iter().map(|r| r.entity_id.clone()).collect();
    let incoming = links::incoming_references(conn, tenant_id, &entity_ids, Some(limit)).await?;
    let mut cut = incoming.len() as i64 >= limit;
    for (reference, referrer) in incoming {
        let targets = frontier.iter().filter(|f| {
            f.entity_id == reference.target_entity_id && reference.targets(&f.entity_type)
        });
        let mut linked = false;
        for target in targets {
            edges.push(field_edge(referrer.id, target.id, reference.kind.clone()));
            linked = true;
        }
        // The id may belong to another type's entity than the frontier's: then it is no link.
        if linked {
            others.push(Arc::new(referrer));
        }
    }

    let explicit = links::relationships_touching(conn, tenant_id, &ids, Some(limit)).await?;
    cut |= explicit.len() as i64 >= limit;
    let far_ends: Vec<Uuid> = explicit
        .iter()
        .flat_map(|r| [r.source_id, r.target_id])
        .filter(|id| !ids.contains(id))
        .collect();
    let far: HashMap<Uuid, EntityRow> = store::entities_by_row_ids(conn, tenant_id, &far_ends)
        .await?
        .into_iter()
        .filter(|r| !r.is_deleted())
        .map(|r| (r.id, r))
        .collect();
    for row in explicit {
        let ends_live = [row.source_id, row.target_id]
            .iter()
            .all(|id| ids.contains(id) || far.contains_key(id));
        if ends_live {
            edges.push(explicit_edge(row));
        }
    }
    others.extend(far.into_values().map(Arc::new));
    Ok(Hop { edges, others, cut })
}

fn explicit_edge(row: RelationshipRow) -> Edge {
    Edge {
        id: Some(row.id),
        source: row.source_id,
        target: row.target_id,
        kind: row.kind,
        origin: RelationshipOrigin::Explicit,
        attributes: row.attributes,
    }
}

fn field_edge(source: Uuid, target: Uuid, kind: String) -> Edge {
    Edge {
        id: None,
        source,
        target,
        kind,
        origin: RelationshipOrigin::Field,
        attributes: Value::Object(Default::default()),
    }
}

/// The entities within `depth` hops of `root` (either direction), at most `max_nodes`.
pub async fn neighbourhood(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    root: EntityRow,
    depth: i32,
    max_nodes: usize,
) -> AppResult<Graph> {
    let mut graph = Graph::default();
    let mut seen_edges = HashSet::new();
    let mut included: HashSet<Uuid> = HashSet::from([root.id]);
    let root = Arc::new(root);
    let mut frontier = vec![root.clone()];
    graph.nodes.push(root);
    let mut pending_edges = Vec::new();
    for _ in 0..depth {
        if frontier.is_empty() {
            break;
        }
        let limit = i64::try_from(max_nodes.saturating_mul(EDGES_PER_NODE)).unwrap_or(i64::MAX);
        let hop = edges_around(conn, tenant_id, &frontier, limit).await?;
        graph.truncated |= hop.cut;
        pending_edges.extend(hop.edges);
        let mut next = Vec::new();
        for other in hop.others {
            if included.contains(&other.id) {
                continue;
            }
            if graph.nodes.len() >= max_nodes {
                graph.truncated = true;
                break;
            }
            included.insert(other.id);
            graph.nodes.push(other.clone());
            next.push(other);
        }
        frontier = next;
    }
    for edge in pending_edges {
        if included.contains(&edge.source) && included.contains(&edge.target) {
            graph.add_edge(&mut seen_edges, edge);
        }
    }
    Ok(graph)
}

/// The tenant's live entities (of some types, if given) and every edge among them.
pub async fn universe(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    types: &[String],
    max_nodes: usize,
) -> AppResult<Graph> {
    let limit = i64::try_from(max_nodes)
        .unwrap_or(i64::MAX)
        .saturating_add(1);
    let mut nodes = links::graph_nodes(conn, tenant_id, types, limit).await?;
    let truncated = nodes.len() > max_nodes;
    nodes.truncate(max_nodes);
    let ids: HashSet<Uuid> = nodes.iter().map(|n| n.id).collect();
    let id_list: Vec<Uuid> = ids.iter().copied().collect();
    let mut graph = Graph {
        nodes: nodes.into_iter().map(Arc::new).collect(),
        edges: Vec::new(),
        truncated,
    };
    let mut seen = HashSet::new();
    let outgoing =
        links::resolve_outgoing(links::outgoing_references(conn, tenant_id, &id_list).await?);
    for (source, references) in outgoing {
        for reference in references {
            if let Some(target) = reference.target.filter(|t| ids.contains(&t.id)) {
                graph.add_edge(&mut seen, field_edge(source, target.id, reference.kind));
            }
        }
    }
    let edge_limit = i64::try_from(max_nodes.saturating_mul(EDGES_PER_NODE)).unwrap_or(i64::MAX);
    let explicit =
        links::relationships_touching(conn, tenant_id, &id_list, Some(edge_limit)).await?;
    graph.truncated |= explicit.len() as i64 >= edge_limit;
    for row in explicit {
        if ids.contains(&row.source_id) && ids.contains(&row.target_id) {
            graph.add_edge(&mut seen, explicit_edge(row));
        }
    }
    Ok(graph)
}
