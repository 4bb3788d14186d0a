//! GraphQL: full-text search across entity types and the recently changed entities.

use async_graphql::{Context, Object, SimpleObject};

use super::object::Entity;
use super::prefetch::prefetch;
use crate::context::ContextExt;
use crate::db::keyset::Window;
use crate::db::pagination::{DEFAULT_LIMIT, MAX_LIMIT, PageRequest};
use crate::db::search::TsQuery;
use crate::entities::store;
use crate::entities::types::EntityType;
use crate::error::{AppError, AppResult};

/// An entity matching a search.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// The entity that matches.
    pub entity: Entity,
    /// Higher is better: matches in the name weigh most, then fields, then the markdown.
    pub rank: f32,
    /// A piece of the markdown around the first match, when the match is there.
    pub snippet: Option<String>,
}

fn check_limit(limit: Option<i32>) -> AppResult<i64> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::bad_field(
            "limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(limit.into())
}

/// About this many characters of markdown around the first word that matches.
const SNIPPET_CHARS: usize = 160;

pub fn snippet(markdown: &str, query: &str) -> Option<String> {
    let lower = markdown.to_lowercase();
    let start = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter_map(|word| lower.find(&word.to_lowercase()))
        .min()?;
    // `lower` can differ in length from `markdown` for some scripts; work in characters.
    let at = lower[..start].chars().count();
    let from = at.saturating_sub(SNIPPET_CHARS / 4);
    let text: String = markdown.chars().skip(from).take(SNIPPET_CHARS).collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let prefix = if from > 0 { "…" } else { "" };
    let suffix = if markdown.chars().count() > from + SNIPPET_CHARS {
        "…"
    } else {
        ""
    };
    Some(format!("{prefix}{text}{suffix}"))
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Ranked full-text search over names, field values and markdown of live entities, across
    /// every type or the ones given. Every word also matches as a prefix ("rust" finds "Rusty").
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The words to look for.")] query: String,
        #[graphql(desc = "Only entities of these types; every type when absent or empty.")]
        types: Option<Vec<EntityType>>,
        #[graphql(desc = "How many hits to return: 1 to 200, 50 when absent.")] limit: Option<i32>,
    ) -> AppResult<Vec<SearchHit>> {
        let viewer = ctx.viewer()?;
        let limit = check_limit(limit)?;
        let parsed = TsQuery::require("query", &query)?;
        let mut conn = ctx.conn().await?;
        let rows = store::search_entities(
            &mut conn,
            viewer.tenant_id,
            &parsed,
            &types.unwrap_or_default(),
            &Window::Offset(PageRequest { offset: 0, limit }),
        )
        .await?;
        let entities: Vec<_> = rows.iter().map(|(row, _)| row.clone()).collect();
        // Hand the connection back first: the prefetch takes its own.
        drop(conn);
        prefetch(ctx, ctx.look_ahead().field("entity"), &entities).await?;
        Ok(rows
            .into_iter()
            .map(|(row, rank)| SearchHit {
                snippet: snippet(&row.markdown_body, &query),
                entity: Entity::from(row),
                rank,
            })
            .collect())
    }

    /// Live entities of every type, most recently changed first.
    async fn recent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many entities to return: 1 to 200, 50 when absent.")] limit: Option<
            i32,
        >,
    ) -> AppResult<Vec<Entity>> {
        let viewer = ctx.viewer()?;
        let limit = check_limit(limit)?;
        let mut conn = ctx.conn().await?;
        let rows = store::recent_entities(&mut conn, viewer.tenant_id, limit).await?;
        // Hand the connection back first: the prefetch takes its own.
        drop(conn);
        prefetch(ctx, ctx.look_ahead(), &rows).await?;
        Ok(rows.into_iter().map(Entity::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::snippet;

    #[test]
    fn snippet_centres_on_the_first_match() {
        let text = format!(
            "{} the Rusty anchor {}",
            "word ".repeat(60),
            "tail ".repeat(60)
        );
        let cut = snippet(&text, "rust").unwrap();
        assert!(cut.contains("Rusty anchor"));
        assert!(cut.starts_with('…') && cut.ends_with('…'));
        assert!(snippet("nothing here", "rust").is_none());
    }
}
