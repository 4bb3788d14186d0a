//! The key access tokens are signed with when the operator gives none (`LOREGRAPH_JWT_SECRET`):
//! generated once and kept in the database (`server_secrets`, readable by its owner only), so
//! every node of a deployment signs and checks tokens with the same key. Each node generating
//! its own made the nodes reject each other's tokens.

use anyhow::Context as _;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::db::DbPool;
use crate::db::schema::server_secrets;

const NAME: &str = "jwt";

/// The deployment's signing secret: the one in the database, or `candidate` made it (the first
/// node to ask wins, and every other node reads what it wrote). `candidate` is the secret an
/// earlier version kept in the data directory, when there is one, so its tokens stay valid;
/// otherwise a new random one.
pub async fn shared(pool: &DbPool, candidate: Option<Vec<u8>>) -> anyhow::Result<Vec<u8>> {
    let candidate = match candidate {
        Some(secret) => String::from_utf8(secret)
            .context("the signing secret kept in the data directory is not text")?,
        None => super::tokens::random_token(48),
    };
    let mut conn = pool
        .get()
        .await
        .context("connecting to read the signing secret")?;
    diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(NAME),
            server_secrets::secret.eq(&candidate),
        ))
        .on_conflict_do_nothing()
        .execute(&mut conn)
        .await
        .context("keeping the signing secret")?;
    let secret: String = server_secrets::table
        .find(NAME)
        .select(server_secrets::secret)
        .get_result(&mut conn)
        .await
        .context("reading the signing secret")?;
    Ok(secret.into_bytes())
}
