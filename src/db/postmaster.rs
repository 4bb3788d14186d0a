//! Who holds a cluster directory: the postmaster in its `postmaster.pid`, whether it is alive,
//! ours, and started by a server that still runs; and clearing the lock a crash left behind.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// After a crash `postmaster.pid` may still be there. If its server is still running (it outlived
/// the process that started it) we stop it; if the pid is dead or belongs to someone else, the
/// lock files are stale and are removed, so a recycled pid cannot block the start.
pub(super) fn clear_stale_lock(dir: &Path) -> anyhow::Result<()> {
    let lock = dir.join("postmaster.pid");
    if let Some(pid) = running_postmaster(dir) {
        // Our servers die with the process that started them, so a live one whose parent is
        // still around belongs to another running loregraph: leave it alone.
        if started_by_a_live_server(pid) {
            bail!(
                "the data directory {} is in use by another running server (PostgreSQL pid {pid})",
                dir.parent().unwrap_or(dir).display()
            );
        }
        tracing::warn!(
            pid,
            "an orphaned PostgreSQL server from an earlier run is still running; stopping it"
        );
        let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
        let deadline = Instant::now() + super::embedded::SHUTDOWN_TIMEOUT;
        while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if Path::new(&format!("/proc/{pid}")).exists() {
            bail!(
                "a PostgreSQL server (pid {pid}) is still running on {}",
                dir.display()
            );
        }
    }
    if lock.exists() {
        tracing::warn!(file = %lock.display(), "removing a stale PostgreSQL lock file");
        fs::remove_file(&lock)?;
    }
    for entry in fs::read_dir(dir)?.flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(".s.PGSQL.") {
            let _ = fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The pid of the PostgreSQL server running on the cluster in `dir`, from its lock file (when
/// that pid is a postgres serving `dir`).
fn running_postmaster(dir: &Path) -> Option<i32> {
    let file = fs::File::open(dir.join("postmaster.pid")).ok()?;
    let pid: i32 = BufReader::new(file)
        .lines()
        .next()?
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (pid > 0 && is_our_postmaster(pid, dir)).then_some(pid)
}

/// Whether the cluster in `dir` is being served for another running loregraph (a live
/// postgres whose parent, the process that started it, is still there): tools such as
/// `migrate` then connect to it through its socket instead of starting it.
pub fn served_by_another_process(dir: &Path) -> bool {
    running_postmaster(dir).is_some_and(|pid| {
        started_by_a_live_server(pid)
            && parent_pid(pid).and_then(|p| u32::try_from(p).ok()) != Some(std::process::id())
    })
}

/// Whether the PostgreSQL server `pid` still has the loregraph that started it: its parent is
/// alive and not init, which adopts orphans; or, in a container where loregraph itself is
/// process 1, its parent is that loregraph.
fn started_by_a_live_server(pid: i32) -> bool {
    match parent_pid(pid) {
        Some(1) => fs::read_to_string("/proc/1/comm").is_ok_and(|name| name.trim() == "loregraph"),
        Some(_) => true,
        None => false,
    }
}

/// The parent of `pid`, from /proc.
fn parent_pid(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Whether `pid` is a postgres process serving `dir` (checked through /proc).
fn is_our_postmaster(pid: i32, dir: &Path) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let is_postgres = args
        .first()
        .is_some_and(|a| a.ends_with("postgres") || a.ends_with("postmaster"));
    let canonical = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    is_postgres
        && args
            .iter()
            .any(|a| Path::new(a) == dir || Path::new(a) == canonical)
}
