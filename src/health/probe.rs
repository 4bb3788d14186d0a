//! Whether the database answers, for `/health`: asked at most once a second, on a connection of
//! its own (a pool busy with requests is not an outage), with a one-second timeout, so the
//! probe stays cheap under load. While one caller asks, the others get the last answer at once
//! instead of queueing behind it (a database that hangs must not make `/health` hang).

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use tokio::sync::Mutex;

/// An answer younger than this is given again without asking.
const FRESH_FOR: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(1);

pub struct DatabaseProbe {
    url: String,
    state: Mutex<ProbeState>,
    /// The last answer, for callers that find a question under way: UNKNOWN, YES or NO.
    last_answer: AtomicU8,
}

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;

#[derive(Default)]
struct ProbeState {
    conn: Option<AsyncPgConnection>,
    last: Option<(Instant, bool)>,
}

impl DatabaseProbe {
    pub fn new(database_url: &str) -> Self {
        Self {
            url: database_url.to_owned(),
            state: Mutex::default(),
            last_answer: AtomicU8::new(UNKNOWN),
        }
    }

    /// Whether the database answered a `SELECT 1` within the last second (asking it now when
    /// the last answer is older). A caller that finds a question under way gets the answer
    /// before it (only the very first callers wait for one).
    pub async fn reachable(&self) -> bool {
        let mut state = match self.state.try_lock() {
            Ok(state) => state,
            Err(_) => match self.last_answer.load(Ordering::Relaxed) {
                YES => return true,
                NO => return false,
                _ => self.state.lock().await,
            },
        };
        if let Some((at, answer)) = state.last
            && at.elapsed() < FRESH_FOR
        {
            return answer;
        }
        let answer = tokio::time::timeout(TIMEOUT, state.ask(&self.url))
            .await
            .unwrap_or(false);
        if !answer {
            // Whatever the connection's state, the next question starts on a new one.
            state.conn = None;
        }
        state.last = Some((Instant::now(), answer));
        self.last_answer
            .store(if answer { YES } else { NO }, Ordering::Relaxed);
        answer
    }
}

impl ProbeState {
    async fn ask(&mut self, url: &str) -> bool {
        if self.conn.is_none() {
            self.conn = AsyncPgConnection::establish(url).await.ok();
        }
        match &mut self.conn {
            Some(conn) => conn.batch_execute("SELECT 1").await.is_ok(),
            None => false,
        }
    }
}
