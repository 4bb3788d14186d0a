//! What a timeline holds that cannot be true: someone taking part in an event after their death
//! (or before their birth), an event at a place before it was founded (or after its end), and
//! exclusive events of one participant that overlap. Only placed events are judged.

use std::collections::HashMap;

use super::store::EventRow;

/// Most conflicts reported.
pub const MAX_CONFLICTS: usize = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictKind {
    AfterDeath,
    BeforeBirth,
    BeforeLocationExisted,
    AfterLocationEnded,
    OverlappingExclusive,
}

/// One impossibility, with the events that make it.
pub struct Conflict<'a> {
    pub kind: ConflictKind,
    pub message: String,
    pub events: Vec<&'a EventRow>,
}

/// The conflicts among `events`, which come in time order (the unplaced are passed over), at
/// most [`MAX_CONFLICTS`].
pub fn find(events: &[EventRow]) -> Vec<Conflict<'_>> {
    let placed: Vec<&EventRow> = events.iter().filter(|e| e.precision.is_some()).collect();
    // The earliest birth, death, founding and end of each subject (events come in time order).
    let mut marks: HashMap<(&str, &str), &EventRow> = HashMap::new();
    for event in &placed {
        if matches!(event.kind.as_str(), "birth" | "death" | "founding" | "end") {
            marks
                .entry((event.kind.as_str(), event.subject.as_str()))
                .or_insert(event);
        }
    }
    let mut found = Vec::new();
    for event in &placed {
        for participant in &event.participants {
            if let Some(death) = marks.get(&("death", participant.as_str()))
                && !std::ptr::eq(*death, *event)
                && event.sort_key > death.end_key
            {
                found.push(conflict(
                    ConflictKind::AfterDeath,
                    participant,
                    event,
                    death,
                    "takes part in",
                    "after their death",
                ));
            }
            if let Some(birth) = marks.get(&("birth", participant.as_str()))
                && !std::ptr::eq(*birth, *event)
                && event.end_key < birth.sort_key
            {
                found.push(conflict(
                    ConflictKind::BeforeBirth,
                    participant,
                    event,
                    birth,
                    "takes part in",
                    "before their birth",
                ));
            }
        }
        if let Some(location) = &event.location {
            if let Some(founding) = marks.get(&("founding", location.as_str()))
                && event.end_key < founding.sort_key
            {
                found.push(conflict(
                    ConflictKind::BeforeLocationExisted,
                    location,
                    event,
                    founding,
                    "is the place of",
                    "before it was founded",
                ));
            }
            if let Some(end) = marks.get(&("end", location.as_str()))
                && event.sort_key > end.end_key
            {
                found.push(conflict(
                    ConflictKind::AfterLocationEnded,
                    location,
                    event,
                    end,
                    "is the place of",
                    "after its end",
                ));
            }
        }
        if found.len() >= MAX_CONFLICTS {
            found.truncate(MAX_CONFLICTS);
            return found;
        }
    }
    overlapping(&placed, &mut found);
    found.truncate(MAX_CONFLICTS);
    found
}

fn conflict<'a>(
    kind: ConflictKind,
    who: &str,
    event: &'a EventRow,
    mark: &'a EventRow,
    verb: &str,
    when: &str,
) -> Conflict<'a> {
    Conflict {
        kind,
        message: format!(
            "{who} {verb} “{}” ({}) {when} ({}: {})",
            event.title, event.date_text, mark.title, mark.date_text
        ),
        events: vec![event, mark],
    }
}

/// Exclusive events sharing a participant whose times overlap: each pair once. Only an event
/// whose time is known — a day, or a span with its end written — can be said to overlap (two
/// events dated to one year may well follow each other).
fn overlapping<'a>(placed: &[&'a EventRow], found: &mut Vec<Conflict<'a>>) {
    let known = |e: &EventRow| e.end_text.is_some() || e.precision.as_deref() == Some("day");
    let mut by_participant: HashMap<&str, Vec<&EventRow>> = HashMap::new();
    let mut pairs: std::collections::HashSet<(uuid::Uuid, uuid::Uuid)> = Default::default();
    for event in placed.iter().filter(|e| e.exclusive && known(e)) {
        for participant in &event.participants {
            by_participant.entry(participant).or_default().push(event);
        }
    }
    let mut participants: Vec<_> = by_participant.into_iter().collect();
    participants.sort_by(|a, b| a.0.cmp(b.0));
    for (participant, mut events) in participants {
        events.sort_by_key(|e| (e.sort_key, e.id));
        // Each event against those after it that begin before it ends.
        for (index, first) in events.iter().enumerate() {
            for second in events[index + 1..]
                .iter()
                .take_while(|e| e.sort_key <= first.end_key)
            {
                if found.len() >= MAX_CONFLICTS {
                    return;
                }
                if !pairs.insert((first.id, second.id)) {
                    continue;
                }
                found.push(Conflict {
                    kind: ConflictKind::OverlappingExclusive,
                    message: format!(
                        "{participant} is in “{}” ({}) and “{}” ({}) at once, and both are exclusive",
                        first.title, first.date_text, second.title, second.date_text
                    ),
                    events: vec![first, second],
                });
            }
        }
    }
}
