//! YAML frontmatter as an ordered tree: read within a budget (depth, nodes, aliases, bytes) so
//! a hostile file cannot make the parser recurse or allocate without bound, and written back
//! in the order given, so a file's keys come out where they went in.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

/// A YAML value whose mappings keep their keys in the order written.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Node>),
    Map(Mapping),
}

/// A mapping's entries in order; keys are unique (the reader refuses a repeated one).
pub type Mapping = Vec<(String, Node)>;

/// Deepest nesting of lists and mappings a frontmatter may have.
pub const MAX_DEPTH: usize = 32;
/// Most YAML nodes (scalars, lists, mappings, counting each alias's copy) in one frontmatter.
const MAX_NODES: usize = 50_000;
/// Most aliases (`*name`) in one frontmatter.
const MAX_ALIASES: usize = 256;
/// Most bytes of text (scalars and keys) one frontmatter may give, aliases' copies included:
/// the parser's budget does not charge the events an alias replays, so the reader counts what
/// it is handed.
const MAX_SCALAR_BYTES: usize = 4 * 1024 * 1024;

thread_local! {
    /// The text handed to the reader so far in the frontmatter being read (one parse runs on
    /// one thread, start to end).
    static TEXT_BYTES: Cell<usize> = const { Cell::new(0) };
}

fn charge<E: de::Error>(bytes: usize) -> Result<(), E> {
    TEXT_BYTES.with(|total| {
        let now = total.get().saturating_add(bytes);
        total.set(now);
        if now > MAX_SCALAR_BYTES {
            Err(E::custom(format!(
                "the frontmatter holds more than {} MiB of text (aliases' copies counted)",
                MAX_SCALAR_BYTES / (1024 * 1024)
            )))
        } else {
            Ok(())
        }
    })
}

/// Why a frontmatter is not YAML, and where (1-based line and column within the frontmatter).
#[derive(Clone, Debug, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => {
                write!(f, "{} (line {line}, column {column})", self.message)
            }
            (Some(line), None) => write!(f, "{} (line {line})", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

/// Reads a YAML document that must be a mapping (an empty document is an empty mapping).
pub fn parse_mapping(text: &str) -> Result<Mapping, YamlError> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_aliases = MAX_ALIASES;
    budget.max_total_scalar_bytes = MAX_SCALAR_BYTES;
    budget.max_recorded_anchor_bytes = MAX_SCALAR_BYTES;
    budget.max_documents = 1;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_NODES;
    TEXT_BYTES.with(|total| total.set(0));
    let node: Node = serde_saphyr::from_str_with_options(text, options).map_err(|error| {
        let location = error.location();
        YamlError {
            message: first_line(&error.to_string()),
            line: location.map(|l| l.line() as u32),
            column: location.map(|l| l.column() as u32),
        }
    })?;
    match node {
        Node::Map(mapping) => Ok(mapping),
        Node::Null => Ok(Vec::new()),
        other => Err(YamlError {
            message: format!(
                "the frontmatter must be a mapping of keys to values, not {}",
                other.kind()
            ),
            line: Some(1),
            column: Some(1),
        }),
    }
}

/// The library's messages may carry a drawn snippet of the input below their first line.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("not valid YAML").trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    // The place is given apart (and counted in the whole file, not the frontmatter).
    let line = match line.split_once(": ") {
        Some((place, rest)) if place.starts_with("line ") && place.contains(" column ") => rest,
        _ => line,
    };
    match line.strip_prefix("budget breached: ") {
        Some(what) => format!(
            "the frontmatter is larger or deeper than a frontmatter may be ({})",
            what.chars().take(200).collect::<String>()
        ),
        None => line.chars().take(300).collect(),
    }
}

/// Writes a mapping as block YAML, its keys in order (ending in a newline; empty for none).
pub fn emit_mapping(mapping: &[(String, Node)]) -> String {
    if mapping.is_empty() {
        return String::new();
    }
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 2;
    // Multi-line text as literal blocks (`|`), which keep it byte for byte; long lines are
    // never folded (`>`), which would rewrap them.
    options.prefer_block_scalars = true;
    options.folded_wrap_chars = usize::MAX;
    options.min_fold_chars = usize::MAX;
    let mut out =
        serde_saphyr::to_string_with_options(&MapRef(mapping), options).unwrap_or_else(|error| {
            // Every Node is representable; this is a bug, not bad input.
            tracing::error!(%error, "a frontmatter could not be written as YAML");
            String::new()
        });
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

impl Node {
    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Number(_) => "a number",
            Self::String(_) => "a string",
            Self::List(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(text) => Some(text),
            _ => None,
        }
    }

    /// The value as JSON (mappings' key order is not kept: stored JSON has none).
    pub fn to_json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(s.clone()),
            Self::List(items) => Value::Array(items.iter().map(Self::to_json).collect()),
            Self::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(key, value)| (key.clone(), value.to_json()))
                    .collect(),
            ),
        }
    }

    /// A JSON value as a node (object keys in JSON's order).
    pub fn from_json(value: &Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.clone()),
            Value::String(s) => Self::String(s.clone()),
            Value::Array(items) => Self::List(items.iter().map(Self::from_json).collect()),
            Value::Object(map) => Self::Map(
                map.iter()
                    .map(|(key, value)| (key.clone(), Self::from_json(value)))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(Node::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        i64::try_from(v)
            .map(|v| Node::Number(v.into()))
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        u64::try_from(v)
            .map(|v| Node::Number(v.into()))
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Number::from_f64(v)
            .map(Node::Number)
            .ok_or_else(|| E::custom(format!("`{v}` is not a number JSON can hold")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        charge(v.len())?;
        Ok(Node::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        charge(v.len())?;
        Ok(Node::String(v))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Err(E::custom("binary values are not supported"))
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries: Mapping = Vec::new();
        let mut seen = HashSet::new();
        while let Some(Key(key)) = map.next_key()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("the key `{key}` appears twice")));
            }
            let value = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }
}

/// A mapping key: text, or a number or boolean written as a key (`2024: ...`), as text.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key written as text")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                charge(v.len())?;
                Ok(Key(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
                charge(v.len())?;
                Ok(Key(v))
            }

            fn visit_i64<E>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }

            fn visit_u64<E>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }

            fn visit_f64<E>(self, v: f64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }

            fn visit_bool<E>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        deserializer.deserialize_any(KeyVisitor)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Map(entries) => MapRef(entries).serialize(serializer),
        }
    }
}

struct MapRef<'a>(&'a [(String, Node)]);

impl Serialize for MapRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> Mapping {
        let read = parse_mapping(text).expect("parses");
        let written = emit_mapping(&read);
        let again = parse_mapping(&written)
            .unwrap_or_else(|e| panic!("re-reading {written:?} failed: {e}"));
        assert_eq!(read, again, "written as {written}");
        read
    }

    #[test]
    fn keys_keep_their_order_and_values_survive_writing() {
        let read = round_trip(
            "zeta: 1\nalpha: \"2.0\"\nmid: [b, a]\nnested:\n  z: yes\n  a: 'no'\nempty:\nflag: true\n",
        );
        let keys: Vec<&str> = read.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["zeta", "alpha", "mid", "nested", "empty", "flag"]);
        assert_eq!(read[1].1, Node::String("2.0".into()));
        assert_eq!(read[4].1, Node::Null);
    }

    #[test]
    fn awkward_strings_come_back_exactly() {
        let mapping: Mapping = [
            "null",
            "true",
            "no",
            "123",
            "1.0",
            "2024-01-01",
            "  leading spaces",
            "trailing spaces  ",
            "line one\nline two\n",
            "no final newline\nsecond",
            "\n\nstarts with blank lines",
            "ends with blank lines\n\n\n",
            "# not a comment",
            "key: value",
            "- dash",
            "tab\there",
            "quote \" and ' both",
            "",
            "üñíçødé ✓",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i}"), Node::String((*s).to_owned())))
        .collect();
        let written = emit_mapping(&mapping);
        assert_eq!(
            parse_mapping(&written).expect("re-reads"),
            mapping,
            "{written}"
        );
    }

    #[test]
    fn hostile_documents_are_refused_not_expanded() {
        let deep = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_mapping(&deep).is_err());
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, name) in ["b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
            let previous = ["a", "b", "c", "d", "e", "f", "g"][i];
            laughs.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{previous}"); 10].join(", ")
            ));
        }
        assert!(parse_mapping(&laughs).is_err());
        let mut copies = format!("a: &big \"{}\"\n", "x".repeat(64 * 1024));
        for i in 0..100 {
            copies.push_str(&format!("k{i}: *big\n"));
        }
        let error = parse_mapping(&copies).expect_err("copies past the text budget");
        assert!(
            error.message.contains("MiB") || error.message.contains("larger or deeper"),
            "{error}"
        );
        let error = parse_mapping("a: 1\na: 2\n").expect_err("duplicate");
        assert!(error.message.contains("twice") || error.message.contains("uplicate"));
        let error = parse_mapping("- a\n- b\n").expect_err("a list");
        assert!(error.message.contains("mapping"), "{error}");
        let error = parse_mapping("a: [1, 2\nb: 3\n").expect_err("unclosed");
        assert!(error.line.is_some(), "{error:?}");
    }
}
