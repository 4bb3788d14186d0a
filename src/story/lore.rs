//! What a model call is told of a resource's lorebooks. The planner sees every enabled entry;
//! a turn sees the base entries (enabled and always included, at most 4) and then the entries
//! whose keywords come up in the text it is about (at most 8): a trimmed, non-empty keyword
//! found in the text in any case. Entries go in the resource's lorebook order, then each
//! book's entry order; each is told as `Title: content`, its whitespace collapsed and cut at
//! 800 characters.

use super::lorebooks::{LorebookBody, LorebookEntry};

/// How much of one entry a prompt carries.
const ENTRY_CHARS: usize = 800;
/// Most base (always included) entries a turn is told.
const MAX_BASE: usize = 4;
/// Most keyword-matched entries a turn is told.
const MAX_MATCHED: usize = 8;

/// An entry as a prompt tells it: `Title: content`, whitespace collapsed, cut at 800
/// characters (then `...`).
pub fn excerpt(entry: &LorebookEntry) -> String {
    let content = entry
        .content
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut cut: String = content.chars().take(ENTRY_CHARS).collect();
    if cut.len() < content.len() {
        cut.push_str("...");
    }
    format!("{}: {cut}", entry.title)
}

fn enabled(books: &[LorebookBody]) -> impl Iterator<Item = &LorebookEntry> {
    books
        .iter()
        .flat_map(|book| &book.entries)
        .filter(|entry| entry.enabled)
}

/// Every enabled entry (the planner's lore), entries apart by a blank line.
pub fn all(books: &[LorebookBody]) -> String {
    enabled(books).map(excerpt).collect::<Vec<_>>().join("\n\n")
}

/// Whether one of `entry`'s keywords is in `text` (already lower-cased).
fn matches(entry: &LorebookEntry, text: &str) -> bool {
    entry.keywords.iter().any(|keyword| {
        let keyword = keyword.trim();
        !keyword.is_empty() && text.contains(&keyword.to_lowercase())
    })
}

/// A turn's lore: the base entries, then those `text` brings up.
pub fn for_turn(books: &[LorebookBody], text: &str) -> String {
    let text = text.to_lowercase();
    let base = enabled(books).filter(|e| e.always_include).take(MAX_BASE);
    let matched = enabled(books)
        .filter(|e| !e.always_include && matches(e, &text))
        .take(MAX_MATCHED);
    base.chain(matched)
        .map(excerpt)
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use async_graphql::ID;

    use super::*;

    fn entry(title: &str, keywords: &[&str], always: bool, enabled: bool) -> LorebookEntry {
        LorebookEntry {
            entry_id: ID(title.to_owned()),
            title: title.to_owned(),
            content: format!("About   {title}\n\tin short."),
            keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
            enabled,
            always_include: always,
        }
    }

    #[test]
    fn a_turn_is_told_four_base_entries_then_eight_matches_in_book_order() {
        let mut first = Vec::new();
        for i in 0..6 {
            first.push(entry(&format!("Base{i}"), &[], true, true));
        }
        first.push(entry("Off", &["dragon"], false, false));
        first.push(entry("Blank", &["  "], false, true));
        let mut second = Vec::new();
        for i in 0..10 {
            second.push(entry(&format!("Dragon{i}"), &[" DRAGON "], false, true));
        }
        let books = [
            LorebookBody {
                description: None,
                entries: first,
            },
            LorebookBody {
                description: None,
                entries: second,
            },
        ];
        let told = for_turn(&books, "A dragon lands.");
        let titles: Vec<&str> = told
            .split("\n\n")
            .map(|e| e.split(':').next().unwrap())
            .collect();
        let mut expected: Vec<String> = (0..4).map(|i| format!("Base{i}")).collect();
        expected.extend((0..8).map(|i| format!("Dragon{i}")));
        assert_eq!(titles, expected);
        assert!(told.starts_with("Base0: About Base0 in short."));
        assert!(!for_turn(&books, "quiet").contains("Dragon"));
    }

    #[test]
    fn an_entry_is_cut_at_800_characters() {
        let mut long = entry("Long", &[], true, true);
        long.content = "é".repeat(900);
        let told = excerpt(&long);
        assert_eq!(told.chars().count(), "Long: ".len() + 800 + 3);
        assert!(told.ends_with("..."));
    }
}
