//! SQL of story graph versions, within one tenant.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::story_graph_versions as versions;
use crate::error::AppResult;

/// Keeps a graph as the story's version `version`.
pub async fn insert_version(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    story_id: Uuid,
    version: i32,
    graph: &serde_json::Value,
    created_by: Uuid,
) -> AppResult<()> {
    diesel::insert_into(versions::table)
        .values((
            versions::tenant_id.eq(tenant_id),
            versions::story_id.eq(story_id),
            versions::version.eq(version),
            versions::graph.eq(graph),
            versions::created_by.eq(created_by),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The story's graph as version `version` had it.
pub async fn version(
    conn: &mut AsyncPgConnection,
    tenant_id: Uuid,
    story_id: Uuid,
    version: i32,
) -> AppResult<Option<serde_json::Value>> {
    Ok(versions::table
        .find((tenant_id, story_id, version))
        .select(versions::graph)
        .first(conn)
        .await
        .optional()?)
}
