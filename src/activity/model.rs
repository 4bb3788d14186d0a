//! What the feed is made of: the kinds of activity clients filter by, the verbs they read,
//! the sources (one branch of the feed's UNION each) and the row a branch yields, and the
//! item the service hands on.

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

use crate::auth::Role;
use crate::entities::service::EntityType;
use crate::error::{AppError, AppResult};

/// What an activity happened to.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActivityKind {
    /// A worldbuilding entity was written: created, changed, recycled, restored or renamed.
    Entity,
    /// An asset was uploaded, or moved to the recycle bin.
    Asset,
    /// An invite was sent, accepted or revoked.
    Invite,
    /// BrainBits were credited, bought, consumed or adjusted.
    Billing,
    /// A note was written.
    Note,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 5] = [
        Self::Entity,
        Self::Asset,
        Self::Invite,
        Self::Billing,
        Self::Note,
    ];

    /// The spelling in messages and in the names cursors are bound to.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entity => "entity",
            Self::Asset => "asset",
            Self::Invite => "invite",
            Self::Billing => "billing",
            Self::Note => "note",
        }
    }

    /// The sources whose rows are activities of this kind.
    pub fn sources(self) -> &'static [Source] {
        match self {
            Self::Entity => &[Source::EntityRevision],
            Self::Asset => &[Source::AssetUploaded, Source::AssetRecycled],
            Self::Invite => &[
                Source::InviteSent,
                Source::InviteAccepted,
                Source::InviteRevoked,
            ],
            Self::Billing => &[Source::Ledger],
            Self::Note => &[Source::NoteWritten],
        }
    }
}

/// Where an activity is read from: one branch of the feed's UNION. Its name is written into
/// the SQL as a literal (so it is a fixed, plain word, never input), comes back in every row,
/// is part of every cursor, and breaks ties between rows of the same instant.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    EntityRevision,
    AssetUploaded,
    AssetRecycled,
    InviteSent,
    InviteAccepted,
    InviteRevoked,
    Ledger,
    NoteWritten,
}

impl Source {
    pub const ALL: [Source; 8] = [
        Self::EntityRevision,
        Self::AssetUploaded,
        Self::AssetRecycled,
        Self::InviteSent,
        Self::InviteAccepted,
        Self::InviteRevoked,
        Self::Ledger,
        Self::NoteWritten,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::EntityRevision => "entity",
            Self::AssetUploaded => "asset.uploaded",
            Self::AssetRecycled => "asset.recycled",
            Self::InviteSent => "invite.sent",
            Self::InviteAccepted => "invite.accepted",
            Self::InviteRevoked => "invite.revoked",
            Self::Ledger => "billing",
            Self::NoteWritten => "note",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|source| source.name() == name)
    }

    pub fn kind(self) -> ActivityKind {
        match self {
            Self::EntityRevision => ActivityKind::Entity,
            Self::AssetUploaded | Self::AssetRecycled => ActivityKind::Asset,
            Self::InviteSent | Self::InviteAccepted | Self::InviteRevoked => ActivityKind::Invite,
            Self::Ledger => ActivityKind::Billing,
            Self::NoteWritten => ActivityKind::Note,
        }
    }
}

/// What was done.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ActivityVerb {
    /// An entity or a note was created.
    Created,
    /// An entity was changed.
    Updated,
    /// An entity was moved to the recycle bin.
    Deleted,
    /// An entity was brought back from the recycle bin.
    Restored,
    /// An entity was given a new id.
    Renamed,
    /// An asset was uploaded.
    Uploaded,
    /// An asset was moved to the recycle bin.
    Recycled,
    /// Someone was invited to the tenant.
    Invited,
    /// An invite was accepted: the invitee joined.
    Accepted,
    /// An invite was revoked before it was accepted.
    Revoked,
    /// The period's BrainBits allowance was credited.
    Credited,
    /// BrainBits were bought.
    Purchased,
    /// BrainBits were spent on an AI operation.
    Consumed,
    /// The balance was corrected by hand.
    Adjusted,
}

impl ActivityVerb {
    /// The verb of a row of `source` whose own word for it is `raw` (a revision's action, a
    /// ledger entry's kind; fixed words for the other sources). A word the tables' CHECKs do
    /// not allow today falls back to the vaguest verb of its source.
    pub fn of(source: Source, raw: &str) -> Self {
        match source {
            Source::EntityRevision => match raw {
                "created" => Self::Created,
                "deleted" => Self::Deleted,
                "restored" => Self::Restored,
                "renamed" => Self::Renamed,
                _ => Self::Updated,
            },
            Source::AssetUploaded => Self::Uploaded,
            Source::AssetRecycled => Self::Recycled,
            Source::InviteSent => Self::Invited,
            Source::InviteAccepted => Self::Accepted,
            Source::InviteRevoked => Self::Revoked,
            Source::Ledger => match raw {
                "allowance" => Self::Credited,
                "purchase" => Self::Purchased,
                "consumption" => Self::Consumed,
                _ => Self::Adjusted,
            },
            Source::NoteWritten => Self::Created,
        }
    }
}

/// One row of the feed's statement (every branch yields these columns, NULL where a source
/// has nothing to say).
#[derive(QueryableByName, Clone, Debug)]
pub struct ActivityRow {
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub source: String,
    /// The source row's id as text, in the source's own order under the "C" collation.
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub verb: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub actor_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub entity_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub entity_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub name: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub amount: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    pub role: Option<String>,
}

/// Where an item sits in the feed: its time, its source's name and its id (the order's
/// columns, ending in a unique pair).
pub type ActivityKey = (DateTime<Utc>, String, String);

/// One thing that happened.
#[derive(Clone, Debug)]
pub struct Activity {
    pub at: DateTime<Utc>,
    pub source: Source,
    /// The source row's id as the feed orders it (ledger ids zero-padded).
    pub id: String,
    pub verb: ActivityVerb,
    pub actor_id: Option<Uuid>,
    pub entity_type: Option<EntityType>,
    pub entity_id: Option<String>,
    /// The subject's name as it was: the entity's after the write, the asset's file name,
    /// the note's title, the invited address, the ledger entry's reason.
    pub name: Option<String>,
    pub amount: Option<i64>,
    pub role: Option<Role>,
}

impl Activity {
    pub fn kind(&self) -> ActivityKind {
        self.source.kind()
    }

    pub fn key(&self) -> ActivityKey {
        (self.at, self.source.name().to_owned(), self.id.clone())
    }

    /// The subject's own id as its domain shows it: the asset's, note's, invite's or ledger
    /// entry's (unpadded); None for an entity, which is named by type and id instead.
    pub fn subject_id(&self) -> Option<String> {
        match self.source {
            Source::EntityRevision => None,
            Source::Ledger => {
                let digits = self.id.trim_start_matches('0');
                Some(if digits.is_empty() { "0" } else { digits }.to_owned())
            }
            _ => Some(self.id.clone()),
        }
    }
}

impl TryFrom<ActivityRow> for Activity {
    type Error = AppError;

    fn try_from(row: ActivityRow) -> AppResult<Self> {
        // The statement writes only the sources' names: anything else is this code's bug.
        let source = Source::from_name(&row.source).ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "the feed returned an unknown source {:?}",
                row.source
            ))
        })?;
        Ok(Self {
            at: row.at,
            verb: ActivityVerb::of(source, &row.verb),
            source,
            id: row.id,
            actor_id: row.actor_id,
            entity_type: row.entity_type.as_deref().and_then(EntityType::from_slug),
            entity_id: row.entity_id,
            name: row.name,
            amount: row.amount,
            role: row.role.as_deref().and_then(Role::parse),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_are_plain_words_that_round_trip() {
        for source in Source::ALL {
            // Written into the SQL between quotes: nothing but lowercase letters and dots.
            assert!(
                source
                    .name()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.'),
                "{source:?}"
            );
            assert_eq!(Source::from_name(source.name()), Some(source));
        }
        // Every source belongs to exactly the kind that lists it.
        for kind in ActivityKind::ALL {
            for source in kind.sources() {
                assert_eq!(source.kind(), kind);
            }
        }
        let listed: usize = ActivityKind::ALL.iter().map(|k| k.sources().len()).sum();
        assert_eq!(listed, Source::ALL.len());
    }

    #[test]
    fn verbs_follow_their_source() {
        assert_eq!(
            ActivityVerb::of(Source::EntityRevision, "renamed"),
            ActivityVerb::Renamed
        );
        assert_eq!(
            ActivityVerb::of(Source::Ledger, "consumption"),
            ActivityVerb::Consumed
        );
        assert_eq!(
            ActivityVerb::of(Source::NoteWritten, "anything"),
            ActivityVerb::Created
        );
    }

    #[test]
    fn a_ledger_subject_id_loses_its_padding() {
        let mut activity = Activity {
            at: Utc::now(),
            source: Source::Ledger,
            id: "00000000000000000042".into(),
            verb: ActivityVerb::Consumed,
            actor_id: None,
            entity_type: None,
            entity_id: None,
            name: None,
            amount: Some(-7),
            role: None,
        };
        assert_eq!(activity.subject_id().as_deref(), Some("42"));
        activity.source = Source::EntityRevision;
        assert_eq!(activity.subject_id(), None);
    }
}
