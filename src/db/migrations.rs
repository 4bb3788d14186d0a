//! Embedded migrations (the `migrations/` folder is compiled into the binary).

use anyhow::Context as _;
use diesel::migration::MigrationVersion;
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// One migration and whether it has been applied.
#[derive(Debug, Clone)]
pub struct MigrationStatus {
    pub version: String,
    pub applied: bool,
}

async fn harness(database_url: &str) -> anyhow::Result<AsyncMigrationHarness<AsyncPgConnection>> {
    let conn = AsyncPgConnection::establish(database_url)
        .await
        .with_context(|| format!("cannot connect to {}", super::describe_url(database_url)))?;
    Ok(AsyncMigrationHarness::new(conn))
}

fn versions(list: Vec<MigrationVersion<'_>>) -> Vec<String> {
    list.into_iter().map(|v| v.to_string()).collect()
}

/// Applies every pending migration and returns the versions applied. The harness blocks its
/// thread (it wraps the sync migration API), so this needs the multi-thread runtime.
pub async fn run_pending(database_url: &str) -> anyhow::Result<Vec<String>> {
    let mut harness = harness(database_url).await?;
    let applied = harness
        .run_pending_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("running migrations failed: {e}"))?;
    Ok(versions(applied))
}

/// Reverts the most recently applied migration and returns its version.
pub async fn revert_last(database_url: &str) -> anyhow::Result<String> {
    let mut harness = harness(database_url).await?;
    let reverted = harness
        .revert_last_migration(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reverting the last migration failed: {e}"))?;
    Ok(reverted.to_string())
}

/// Every embedded migration, oldest first, with whether it is applied.
pub async fn status(database_url: &str) -> anyhow::Result<Vec<MigrationStatus>> {
    use diesel::migration::MigrationSource;
    let mut harness = harness(database_url).await?;
    let applied = versions(
        harness
            .applied_migrations()
            .map_err(|e| anyhow::anyhow!("reading applied migrations failed: {e}"))?,
    );
    let known = MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("reading embedded migrations failed: {e}"))?;
    Ok(known
        .iter()
        .map(|m| {
            let version = m.name().version().to_string();
            MigrationStatus {
                applied: applied.contains(&version),
                version,
            }
        })
        .collect())
}
