//! Cursors of keyset pages: opaque to clients, tamper-evident, and bound to one tenant and one
//! list (with its sort). A cursor is the key of a row — the values of the list's order columns
//! — followed by a MAC over that key, the tenant and the list, under a key derived from the
//! server's signing secret. A cursor that was altered, made up, or taken from another tenant or
//! another list fails the MAC and is BAD_USER_INPUT: it never selects a row it was not made for.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;
use uuid::Uuid;

use super::keyset::Keyset;
use super::pagination::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::error::{AppError, AppResult};

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the MAC a cursor carries: 128 bits, beyond guessing.
const MAC_BYTES: usize = 16;
/// A longer cursor is refused before it is decoded. The longest key is a name (200 characters,
/// up to 800 bytes of UTF-8, more when JSON escapes it) and an id: well under this.
const MAX_CURSOR_CHARS: usize = 4096;

/// Seals and opens cursors. One per process, keyed from the signing secret, so every node of
/// a cluster reads the others' cursors.
#[derive(Clone)]
pub struct CursorCodec {
    key: HmacSha256,
}

impl CursorCodec {
    pub fn new(signing_secret: &[u8]) -> Self {
        // A key of its own, derived from the secret: a cursor's MAC can never pass for a
        // token's signature, nor the other way round.
        let mut derive =
            HmacSha256::new_from_slice(signing_secret).expect("HMAC takes a key of any length");
        derive.update(b"loregraph keyset cursor v1");
        let key = derive.finalize().into_bytes();
        Self {
            key: HmacSha256::new_from_slice(&key).expect("HMAC takes a key of any length"),
        }
    }

    fn mac(&self, tenant_id: Uuid, list: &str, payload: &[u8]) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(tenant_id.as_bytes());
        mac.update(list.as_bytes());
        // The list's name ends here, so ("ab", "c…") and ("a", "bc…") differ.
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// The cursor of a row whose order columns hold `key`, in `list` of `tenant_id`.
    pub fn seal<K: Serialize>(&self, tenant_id: Uuid, list: &str, key: &K) -> String {
        let payload = serde_json::to_vec(key).expect("a key of plain values serializes");
        let tag = self.mac(tenant_id, list, &payload).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&tag[..MAC_BYTES])
        )
    }

    /// The key in a cursor, when this server made it for this tenant and list.
    pub fn open<K: DeserializeOwned>(
        &self,
        tenant_id: Uuid,
        list: &str,
        field: &'static str,
        cursor: &str,
    ) -> AppResult<K> {
        let refuse = || {
            AppError::bad_field(
                field,
                "the cursor is not one this list gave out (it may have been altered, or come \
                 from another list or sort)",
            )
        };
        if cursor.len() > MAX_CURSOR_CHARS {
            return Err(refuse());
        }
        let (payload, tag) = cursor.split_once('.').ok_or_else(refuse)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| refuse())?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refuse())?;
        if tag.len() != MAC_BYTES {
            return Err(refuse());
        }
        self.mac(tenant_id, list, &payload)
            .verify_truncated_left(&tag)
            .map_err(|_| refuse())?;
        // Only a key this server serialized gets here, so this cannot fail short of a change
        // of the key's shape between versions; that is still the client's stale cursor.
        serde_json::from_slice(&payload).map_err(|_| refuse())
    }
}

/// The Relay arguments of a connection field, as the client gave them.
#[derive(Clone, Debug, Default)]
pub struct ConnectionArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

/// Where the cursors of one page come from: the codec, the tenant and the list they are
/// bound to.
#[derive(Clone)]
pub struct CursorScope {
    pub codec: CursorCodec,
    pub tenant_id: Uuid,
    pub list: String,
}

impl CursorScope {
    pub fn seal<K: Serialize>(&self, key: &K) -> String {
        self.codec.seal(self.tenant_id, &self.list, key)
    }

    /// The key in a cursor this list gave out (BAD_USER_INPUT on `field` otherwise).
    pub fn open<K: DeserializeOwned>(&self, field: &'static str, cursor: &str) -> AppResult<K> {
        self.codec.open(self.tenant_id, &self.list, field, cursor)
    }

    /// The window the arguments ask for: `first` rows after `after` (from the start without
    /// it), or `last` rows before `before` (from the end). `first` goes with `after` and
    /// `last` with `before`; mixing directions is BAD_USER_INPUT, as is a count outside 1 to
    /// 200 or a cursor this list did not give out.
    pub fn window<K: DeserializeOwned>(&self, args: ConnectionArgs) -> AppResult<Keyset<K>> {
        let backward = args.last.is_some() || args.before.is_some();
        if backward && (args.first.is_some() || args.after.is_some()) {
            return Err(AppError::bad_input(
                "page forward with `first` and `after`, or backward with `last` and `before`; \
                 not both at once",
            ));
        }
        let (count_field, count, cursor_field, cursor) = if backward {
            ("last", args.last, "before", args.before)
        } else {
            ("first", args.first, "after", args.after)
        };
        let limit = count.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::bad_field(
                count_field,
                format!("{count_field} must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let key = cursor
            .map(|cursor| {
                self.codec
                    .open(self.tenant_id, &self.list, cursor_field, &cursor)
            })
            .transpose()?;
        Ok(Keyset {
            key,
            limit: limit.into(),
            backward,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    type Key = (DateTime<Utc>, Uuid);

    fn codec() -> CursorCodec {
        CursorCodec::new(b"a secret of the test")
    }

    #[test]
    fn a_cursor_opens_only_for_its_tenant_and_list() {
        let tenant = Uuid::new_v4();
        let key: Key = (Utc::now(), Uuid::new_v4());
        let cursor = codec().seal(tenant, "notes", &key);
        let opened: Key = codec().open(tenant, "notes", "after", &cursor).unwrap();
        assert_eq!(opened, key);
        assert!(
            codec()
                .open::<Key>(Uuid::new_v4(), "notes", "after", &cursor)
                .is_err()
        );
        assert!(
            codec()
                .open::<Key>(tenant, "assets", "after", &cursor)
                .is_err()
        );
        let other_secret = CursorCodec::new(b"another secret");
        assert!(
            other_secret
                .open::<Key>(tenant, "notes", "after", &cursor)
                .is_err()
        );
    }

    #[test]
    fn an_altered_cursor_is_refused() {
        let tenant = Uuid::new_v4();
        let cursor = codec().seal(tenant, "notes", &(Utc::now(), Uuid::new_v4()));
        let (payload, tag) = cursor.split_once('.').unwrap();
        let mut forged = URL_SAFE_NO_PAD.decode(payload).unwrap();
        forged[3] ^= 1;
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged));
        assert!(
            codec()
                .open::<Key>(tenant, "notes", "after", &forged)
                .is_err()
        );
        for junk in ["", ".", "abc", "a.b", &"x".repeat(5000)] {
            assert!(codec().open::<Key>(tenant, "notes", "after", junk).is_err());
        }
    }

    #[test]
    fn arguments_choose_one_direction_and_a_bounded_count() {
        let scope = CursorScope {
            codec: codec(),
            tenant_id: Uuid::new_v4(),
            list: "notes".into(),
        };
        let both = ConnectionArgs {
            first: Some(5),
            last: Some(5),
            ..Default::default()
        };
        assert!(scope.window::<Key>(both).is_err());
        let too_many = ConnectionArgs {
            first: Some(201),
            ..Default::default()
        };
        assert!(scope.window::<Key>(too_many).is_err());
        let backward = scope
            .window::<Key>(ConnectionArgs {
                last: Some(3),
                ..Default::default()
            })
            .unwrap();
        assert!(backward.backward && backward.key.is_none() && backward.limit == 3);
        let default = scope.window::<Key>(ConnectionArgs::default()).unwrap();
        assert!(!default.backward && default.limit == i64::from(DEFAULT_LIMIT));
    }
}
