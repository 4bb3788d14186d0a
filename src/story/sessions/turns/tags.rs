//! An actor's answer as it streams: `<thought>`, `<action>` and `<dialogue>` parts, split as
//! the pieces arrive (a tag may be cut anywhere between two pieces). Text outside the tags is
//! taken as dialogue (a model that forgets the tags still speaks), and a part opened without
//! closing the one before closes it.

use super::events::TextChannel;

/// The tags, with the channel each fills.
const TAGS: [(&str, TextChannel); 3] = [
    ("thought", TextChannel::Thought),
    ("action", TextChannel::Action),
    ("dialogue", TextChannel::Dialogue),
];
/// The longest tag, `</dialogue>`.
const LONGEST_TAG: usize = 11;

/// Splits a streamed actor answer into its parts.
#[derive(Default)]
pub struct TagSplitter {
    pending: String,
    inside: Option<TextChannel>,
    /// Text outside any tag, held until it is known not to be only the blanks between tags.
    outside: String,
    /// The channels that have had text: a part of one opened again begins on a new line.
    filled: Vec<TextChannel>,
}

/// What a tag at the start of `text` is: an opening or a closing of one of [`TAGS`], plain
/// text, or too short to tell yet.
enum Tag {
    Open(TextChannel, usize),
    Close(TextChannel, usize),
    Text,
    Undecided,
}

fn tag_at(text: &str) -> Tag {
    let mut end = text.len().min(LONGEST_TAG);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let lower = text[..end].to_ascii_lowercase();
    // Only what has all arrived may still grow into a tag.
    let complete = end == text.len();
    let mut undecided = false;
    for (name, channel) in TAGS {
        for (close, tag) in [(false, format!("<{name}>")), (true, format!("</{name}>"))] {
            if lower.starts_with(&tag) {
                return if close {
                    Tag::Close(channel, tag.len())
                } else {
                    Tag::Open(channel, tag.len())
                };
            }
            undecided |= complete && tag.starts_with(&lower);
        }
    }
    if undecided { Tag::Undecided } else { Tag::Text }
}

impl TagSplitter {
    /// The parts `piece` completes, in order (channel, text).
    pub fn feed(&mut self, piece: &str) -> Vec<(TextChannel, String)> {
        self.pending.push_str(piece);
        let mut out = Vec::new();
        loop {
            let Some(at) = self.pending.find('<') else {
                let text = std::mem::take(&mut self.pending);
                self.text(text, &mut out);
                break;
            };
            let before = self.pending[..at].to_owned();
            self.text(before, &mut out);
            self.pending.drain(..at);
            match tag_at(&self.pending) {
                Tag::Undecided => break,
                Tag::Open(channel, len) => {
                    self.flush_outside(&mut out);
                    self.inside = Some(channel);
                    self.pending.drain(..len);
                    self.begin(channel, &mut out);
                }
                Tag::Close(channel, len) => {
                    if self.inside == Some(channel) {
                        self.inside = None;
                    }
                    self.pending.drain(..len);
                }
                Tag::Text => {
                    self.pending.drain(..1);
                    self.text("<".to_owned(), &mut out);
                }
            }
        }
        out
    }

    /// The rest, once the answer ended.
    pub fn finish(&mut self) -> Vec<(TextChannel, String)> {
        let mut out = Vec::new();
        let rest = std::mem::take(&mut self.pending);
        self.text(rest, &mut out);
        self.flush_outside(&mut out);
        out
    }

    fn text(&mut self, text: String, out: &mut Vec<(TextChannel, String)>) {
        if text.is_empty() {
            return;
        }
        match self.inside {
            Some(channel) => {
                if !self.filled.contains(&channel) {
                    self.filled.push(channel);
                }
                out.push((channel, text));
            }
            None => self.outside.push_str(&text),
        }
    }

    /// A new part of `channel`: on a new line when the channel has had text.
    fn begin(&mut self, channel: TextChannel, out: &mut Vec<(TextChannel, String)>) {
        if self.filled.contains(&channel) {
            out.push((channel, "\n".to_owned()));
        }
    }

    fn flush_outside(&mut self, out: &mut Vec<(TextChannel, String)>) {
        let outside = std::mem::take(&mut self.outside);
        if !outside.trim().is_empty() {
            self.begin(TextChannel::Dialogue, out);
            if !self.filled.contains(&TextChannel::Dialogue) {
                self.filled.push(TextChannel::Dialogue);
            }
            out.push((TextChannel::Dialogue, outside.trim().to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(pieces: &[&str]) -> Vec<(TextChannel, String)> {
        let mut splitter = TagSplitter::default();
        let mut parts: Vec<(TextChannel, String)> = Vec::new();
        for piece in pieces {
            parts.extend(splitter.feed(piece));
        }
        parts.extend(splitter.finish());
        // Adjacent pieces of one channel joined: what a client assembles.
        let mut joined: Vec<(TextChannel, String)> = Vec::new();
        for (channel, text) in parts {
            match joined.last_mut() {
                Some((last, so_far)) if *last == channel => so_far.push_str(&text),
                _ => joined.push((channel, text)),
            }
        }
        joined
    }

    #[test]
    fn parts_are_split_wherever_the_pieces_cut_the_tags() {
        let answer = "<thought>He lies.</thought>\n<action>Arya draws</action><dialogue>Who < you?</dialogue>";
        let expected = vec![
            (TextChannel::Thought, "He lies.".to_owned()),
            (TextChannel::Action, "Arya draws".to_owned()),
            (TextChannel::Dialogue, "Who < you?".to_owned()),
        ];
        assert_eq!(split(&[answer]), expected);
        let chars: Vec<String> = answer.chars().map(String::from).collect();
        let pieces: Vec<&str> = chars.iter().map(String::as_str).collect();
        assert_eq!(split(&pieces), expected, "one character at a time");
        assert_eq!(
            split(&["<THOUGHT>x</THOUGHT>"]),
            vec![(TextChannel::Thought, "x".to_owned())]
        );
    }

    #[test]
    fn untagged_text_is_dialogue_and_an_unclosed_part_ends_at_the_next() {
        assert_eq!(
            split(&[
                "Go away. ",
                "<action>She turns.",
                "<dialogue>Now.",
                "<action>Bows."
            ]),
            vec![
                (TextChannel::Dialogue, "Go away.".to_owned()),
                (TextChannel::Action, "She turns.".to_owned()),
                (TextChannel::Dialogue, "\nNow.".to_owned()),
                (TextChannel::Action, "\nBows.".to_owned()),
            ],
            "a channel's parts are apart by a line"
        );
        assert_eq!(
            split(&["<b>bold</b> é"]),
            vec![(TextChannel::Dialogue, "<b>bold</b> é".to_owned())]
        );
    }
}
