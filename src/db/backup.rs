//! Backups of the database with PostgreSQL's own tools: `pg_dump` in its custom format (compressed,
//! restorable table by table) into a folder of ours, and `pg_restore` into a fresh database of
//! the embedded cluster that then takes the old one's name. A backup is written under a
//! temporary name and renamed when `pg_dump` succeeded, so a listed backup is always whole.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use tokio::process::Command;

/// Every backup's name: `loregraph-` and the UTC time it began, `YYYYMMDDTHHMMSSmmmZ`.
const PREFIX: &str = "loregraph-";
const SUFFIX: &str = ".dump";
/// What a backup is written as until `pg_dump` finished.
const PARTIAL: &str = ".partial";
/// The most a dump or a restore may take.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(3 * 3600);

/// A finished backup in the folder.
#[derive(Clone, Debug)]
pub struct BackupFile {
    pub name: String,
    pub bytes: u64,
    /// When it began (from its name).
    pub started_at: DateTime<Utc>,
}

/// The name of a backup begun at `at`.
pub fn name_at(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format("%Y%m%dT%H%M%S%3fZ"))
}

/// When the backup of this name began; None for any other name (nothing else in the folder is
/// ever read, written or removed through a name a client gave).
pub fn started_at(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if stamp.len() != 19 || !stamp.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%3fZ")
        .ok()
        .map(|at| at.and_utc())
}

/// The finished backups in `dir`, newest first (none when the folder does not exist yet).
pub fn list(dir: &Path) -> anyhow::Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error).with_context(|| format!("reading {}", dir.display())),
    };
    let mut backups = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let (Some(started_at), Ok(meta)) = (started_at(&name), entry.metadata()) else {
            continue;
        };
        if meta.is_file() {
            backups.push(BackupFile {
                name,
                bytes: meta.len(),
                started_at,
            });
        }
    }
    backups.sort_by_key(|backup| std::cmp::Reverse(backup.started_at));
    Ok(backups)
}

/// The path of the backup `name` in `dir`, when the name is a backup's and the file exists.
pub fn path_of(dir: &Path, name: &str) -> Option<PathBuf> {
    started_at(name)?;
    let path = dir.join(name);
    path.is_file().then_some(path)
}

/// Where `pg_dump` and `pg_restore` are: beside the server binaries the embedded cluster uses,
/// or beside what those link to (a distribution links `initdb` and `postgres` into a common
/// folder but not the client tools), so they are of the server's own version.
pub fn tools_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    let dir = super::embedded::find_bin_dir(explicit)?;
    let has_tools = |dir: &Path| {
        ["pg_dump", "pg_restore"]
            .iter()
            .all(|t| dir.join(t).is_file())
    };
    let linked = std::fs::canonicalize(dir.join("postgres"))
        .ok()
        .and_then(|postgres| postgres.parent().map(Path::to_path_buf));
    [Some(dir.clone()), linked]
        .into_iter()
        .flatten()
        .find(|candidate| has_tools(candidate))
        .with_context(|| {
            format!(
                "pg_dump and pg_restore were not found beside the PostgreSQL server binaries in {}",
                dir.display()
            )
        })
}

/// Dumps the database at `database_url` into `dir/name` (written as `name.partial`, renamed
/// once whole); its size in bytes. A failed dump leaves nothing behind.
pub async fn dump(tools: &Path, database_url: &str, dir: &Path, name: &str) -> anyhow::Result<u64> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // Left by a dump that was stopped (the server shut down under it): never whole.
    for entry in std::fs::read_dir(dir)?.flatten() {
        let file = entry.file_name();
        if file.to_string_lossy().ends_with(PARTIAL) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let target = dir.join(name);
    let partial = dir.join(format!("{name}{PARTIAL}"));
    // A password goes in the child's environment, not its command line (which every local
    // user may read for as long as the dump runs).
    let (database_url, password) = without_password(database_url);
    let mut command = Command::new(tools.join("pg_dump"));
    command
        .arg("--format=custom")
        .arg("--no-password")
        .arg("--file")
        .arg(&partial)
        .arg(format!("--dbname={database_url}"));
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let ran = run(command, "pg_dump").await;
    if let Err(error) = ran {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, &target)
        .with_context(|| format!("renaming {}", partial.display()))?;
    Ok(std::fs::metadata(&target)?.len())
}

/// A connection string without its password, and the password: a URL's
/// (`postgres://user:secret@host/db`) or a `key=value` string's `password=`.
fn without_password(url: &str) -> (String, Option<String>) {
    if let Ok(mut parsed) = reqwest::Url::parse(url)
        && matches!(parsed.scheme(), "postgres" | "postgresql")
    {
        let password = parsed.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let _ = parsed.set_password(None);
        return (parsed.to_string(), password);
    }
    let mut password = None;
    let kept: Vec<&str> = url
        .split_whitespace()
        .filter(|part| match part.strip_prefix("password=") {
            Some(value) => {
                password = Some(value.trim_matches('\'').to_owned());
                false
            }
            None => true,
        })
        .collect();
    (kept.join(" "), password)
}

/// Removes the oldest finished backups beyond the newest `keep`; their names.
pub fn prune(dir: &Path, keep: usize) -> anyhow::Result<Vec<String>> {
    let mut removed = Vec::new();
    for old in list(dir)?.into_iter().skip(keep.max(1)) {
        std::fs::remove_file(dir.join(&old.name))?;
        removed.push(old.name);
    }
    Ok(removed)
}

/// Restores `file` as `database` of the running cluster reached through `admin_url` (its
/// `postgres` database, as a superuser): into a fresh database first, which takes the old
/// one's name only once `pg_restore` succeeded; the old one is then dropped. Nothing else may
/// be connected to `database` (the server must be stopped).
pub async fn restore(
    tools: &Path,
    admin_url: &str,
    database_url_of: impl Fn(&str) -> String,
    database: &str,
    file: &Path,
) -> anyhow::Result<()> {
    use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
    let restoring = format!("{database}_restoring");
    let previous = format!("{database}_before_restore");
    let mut admin = AsyncPgConnection::establish(admin_url).await?;
    // A restore that stopped between its two renames left the old database under the other
    // name: it is put back, never dropped (it may be the only copy of the data).
    let exists = async |admin: &mut AsyncPgConnection, name: &str| -> anyhow::Result<bool> {
        use diesel_async::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Found {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let found: Found =
            diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
                .bind::<diesel::sql_types::Text, _>(name)
                .get_result(admin)
                .await?;
        Ok(found.n > 0)
    };
    if exists(&mut admin, &previous).await? {
        if exists(&mut admin, database).await? {
            bail!(
                "both {database} and {previous} exist (an earlier restore stopped half-way): \
                 keep the one you want under {database}, drop the other, then restore again"
            );
        }
        admin
            .batch_execute(&format!(
                "ALTER DATABASE \"{previous}\" RENAME TO \"{database}\""
            ))
            .await?;
    }
    // One statement at a time: CREATE and DROP DATABASE run in no transaction block, and a
    // query string of several is one. A half-restored copy holds nothing we need.
    for statement in [
        format!("DROP DATABASE IF EXISTS \"{restoring}\""),
        format!("CREATE DATABASE \"{restoring}\""),
    ] {
        admin.batch_execute(&statement).await?;
    }
    // Roles belong to the cluster, not the dump: the one migrations grant to must exist
    // before the grants are restored (a new machine's cluster has none).
    admin
        .batch_execute(
            "DO $$ BEGIN \
               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'loregraph_reader') THEN \
                 CREATE ROLE loregraph_reader NOLOGIN; \
               END IF; \
             END $$;",
        )
        .await?;
    let mut command = Command::new(tools.join("pg_restore"));
    command
        .arg("--no-password")
        .arg("--exit-on-error")
        .arg("--single-transaction")
        .arg("--no-owner")
        .arg(format!("--dbname={}", database_url_of(&restoring)))
        .arg(file);
    if let Err(error) = run(command, "pg_restore").await {
        let _ = admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{restoring}\""))
            .await;
        return Err(error);
    }
    // The swap, both renames in one transaction (ALTER DATABASE ... RENAME may run in one):
    // there is always a database of that name. The old one is dropped only after.
    admin
        .batch_execute(&format!(
            "BEGIN; \
             ALTER DATABASE \"{database}\" RENAME TO \"{previous}\"; \
             ALTER DATABASE \"{restoring}\" RENAME TO \"{database}\"; \
             COMMIT;"
        ))
        .await
        .context("swapping the restored database in (is the server still running?)")?;
    admin
        .batch_execute(&format!("DROP DATABASE \"{previous}\""))
        .await
        .context("dropping the database the backup replaced")?;
    Ok(())
}

/// Runs a PostgreSQL tool to its end within [`TOOL_TIMEOUT`]; its last error lines on failure.
async fn run(mut command: Command, tool: &str) -> anyhow::Result<()> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = command
        .spawn()
        .with_context(|| format!("starting {tool}"))?;
    let output = tokio::time::timeout(TOOL_TIMEOUT, child.wait_with_output())
        .await
        .with_context(|| format!("{tool} did not finish within {TOOL_TIMEOUT:?}"))??;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{tool} failed ({}): {}", output.status, tail.join(" | "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_the_connection_string() {
        assert_eq!(
            without_password("postgres://ada:s3cr%40t@db.example:5432/lore"),
            (
                "postgres://ada@db.example:5432/lore".to_owned(),
                Some("s3cr@t".to_owned())
            )
        );
        assert_eq!(
            without_password("host=/tmp/pg user=loregraph password=hush dbname=lore"),
            (
                "host=/tmp/pg user=loregraph dbname=lore".to_owned(),
                Some("hush".to_owned())
            )
        );
        assert_eq!(
            without_password("host=/tmp/pg user=loregraph dbname=lore").1,
            None
        );
    }

    #[test]
    fn only_backup_names_are_backups() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 7, 14, 5, 9)
            .single()
            .expect("a valid time")
            + chrono::Duration::milliseconds(42);
        let name = name_at(at);
        assert_eq!(name, "loregraph-20261207T140509042Z.dump");
        assert_eq!(started_at(&name), Some(at));
        for other in [
            "../loregraph-20261207T140509042Z.dump",
            "loregraph-20261207T140509042Z.dump.partial",
            "loregraph-2026120xT140509042Z.dump",
            "loregraph-20261207T140509Z.dump",
            "loregraph-20261207T14050904/Z.dump",
            "postgres.log",
        ] {
            assert_eq!(started_at(other), None, "{other}");
        }
    }
}
