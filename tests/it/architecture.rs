//! The layers of ARCHITECTURE.md, checked over the source: every `crate::` path in `src/` must
//! run from a module to one in its own layer or below, a domain may reach another only through
//! that one's `service` (and a domain's `api` may name another's GraphQL types, which is no
//! dependency), and no domains may depend on each other in a circle. Imports that break
//! a rule today are listed, one per line, in `tests/it/architecture_debts.txt`; the list may
//! only shrink: a new one fails, and so does an entry that no longer occurs (remove it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layer table of ARCHITECTURE.md: each module's layer, higher layers first.
struct Layers {
    rank: BTreeMap<String, (usize, String)>,
}

const LAYERS: [&str; 3] = ["edges", "domains", "platform"];

impl Layers {
    /// Reads the rows `| edges | `main`, `app` |` of the table.
    fn parse(markdown: &str) -> Self {
        let mut rank = BTreeMap::new();
        for line in markdown.lines() {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let Some(layer) = cells.get(1) else { continue };
            let Some(position) = LAYERS.iter().position(|l| l == layer) else {
                continue;
            };
            let modules = cells.get(2).copied().unwrap_or_default();
            for module in modules.split('`').skip(1).step_by(2) {
                rank.insert(module.to_owned(), (position, (*layer).to_owned()));
            }
        }
        Self { rank }
    }

    fn is_domain(&self, module: &str) -> bool {
        self.rank
            .get(module)
            .is_some_and(|(_, layer)| layer == "domains")
    }
}

/// One `crate::module::item` path a file names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Reference {
    module: String,
    item: Option<String>,
    /// The segment after `item` (`User` in `crate::accounts::api::User`).
    object: Option<String>,
}

impl Reference {
    /// Whether this names one of a domain's GraphQL object types (`crate::notes::api::Note`):
    /// the one thing of another domain's `api` that a domain's own `api` may use.
    fn is_api_type(&self) -> bool {
        self.item.as_deref() == Some("api")
            && self
                .object
                .as_deref()
                .and_then(|object| object.chars().next())
                .is_some_and(char::is_uppercase)
    }
}

/// Whether the file at `path` (under `src/`) is a domain's GraphQL layer: `api.rs`, or a file
/// under an `api/` folder.
fn is_api_file(path: &str) -> bool {
    path.split('/')
        .any(|part| part == "api" || part == "api.rs")
}

/// The `crate::` paths in `source`: comments, string and character literals left out.
fn references(source: &str) -> BTreeSet<Reference> {
    let code = code_only(source);
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        // A whole word: `foo_crate::` is not the crate.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        for path in paths(rest) {
            let mut path = path.into_iter();
            let Some(module) = path.next() else { continue };
            found.insert(Reference {
                module,
                item: path.next(),
                object: path.next(),
            });
        }
    }
    found
}

/// `source` with comments (line, nested block), string literals (plain, byte, raw) and
/// character literals blanked out, so that only code is searched.
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let at_ = |i: usize| chars.get(i).copied();
    let mut code = String::with_capacity(source.len());
    let mut at = 0;
    while let Some(c) = at_(at) {
        let next = at_(at + 1);
        if c == '/' && next == Some('/') {
            while at_(at).is_some_and(|c| c != '\n') {
                at += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0usize;
            while let Some(c) = at_(at) {
                if c == '/' && at_(at + 1) == Some('*') {
                    depth += 1;
                    at += 2;
                } else if c == '*' && at_(at + 1) == Some('/') {
                    depth -= 1;
                    at += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    at += 1;
                }
            }
            code.push(' ');
        } else if c == 'r' && matches!(next, Some('#' | '"')) && starts_raw_string(&chars, at) {
            // A raw string, r"…" or r#"…"#: closed by a quote and as many hashes.
            let mut open = at + 1;
            while at_(open) == Some('#') {
                open += 1;
            }
            let hashes = open - at - 1;
            if at_(open) != Some('"') {
                code.push(c);
                at += 1;
                continue;
            }
            at = open + 1;
            while let Some(c) = at_(at) {
                if c == '"' && (1..=hashes).all(|k| at_(at + k) == Some('#')) {
                    at += 1 + hashes;
                    break;
                }
                at += 1;
            }
            code.push_str("\"\"");
        } else if c == '"' {
            at += 1;
            while let Some(c) = at_(at) {
                if c == '"' {
                    break;
                }
                at += if c == '\\' { 2 } else { 1 };
            }
            at += 1;
            code.push_str("\"\"");
        } else if c == '\'' && next == Some('\\') {
            // An escaped character literal ('\n', '\'', '\u{…}').
            at += 2;
            while at_(at).is_some_and(|c| c != '\'') {
                at += 1;
            }
            at += 1;
        } else if c == '\'' && at_(at + 2) == Some('\'') {
            // A character literal ('x', '"'); a lifetime ('a) is code.
            at += 3;
        } else {
            code.push(c);
            at += 1;
        }
    }
    code
}

/// Whether the character before `at` continues an identifier (an `r` there starts no string).
fn continues_ident(chars: &[char], at: usize) -> bool {
    at > 0 && (chars[at - 1].is_alphanumeric() || chars[at - 1] == '_')
}

/// Whether the `r` at `at` opens a raw string: `r"…"`, or a raw byte string `br"…"`.
fn starts_raw_string(chars: &[char], at: usize) -> bool {
    !continues_ident(chars, at) || (chars[at - 1] == 'b' && !continues_ident(chars, at - 1))
}

/// The first three segments of the path (or of each path of the group) at the start of `text`.
fn paths(text: &str) -> Vec<Vec<String>> {
    segments(text, 3)
}

/// Up to `depth` segments of each path at the start of `text`, following `{…}` groups.
fn segments(text: &str, depth: usize) -> Vec<Vec<String>> {
    if depth == 0 {
        return vec![Vec::new()];
    }
    if let Some(group) = text.strip_prefix('{') {
        // A trailing comma leaves an empty member: not a path.
        let members: Vec<Vec<String>> = split_group(group)
            .into_iter()
            .flat_map(|member| segments(member.trim(), depth))
            .filter(|path| !path.is_empty())
            .collect();
        // A group of nothing nameable (`{*}`) still names the path before it.
        return if members.is_empty() {
            vec![Vec::new()]
        } else {
            members
        };
    }
    let first = ident(text);
    if first.is_empty() {
        return vec![Vec::new()];
    }
    let rest = text[first.len()..]
        .strip_prefix("::")
        .map(|rest| segments(rest, depth - 1))
        .unwrap_or_else(|| vec![Vec::new()]);
    rest.into_iter()
        .map(|tail| {
            let mut path = vec![first.to_owned()];
            path.extend(tail);
            path
        })
        .collect()
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level members of a `{…}` group whose opening brace is already consumed.
fn split_group(text: &str) -> Vec<&str> {
    let mut members = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                members.push(&text[start..at]);
                return members;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                members.push(&text[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    members
}

/// What breaks the rules in `files` (path under `src/`, source): one line per offending import
/// (`path -> module::item`) and per circle of domains (`cycle: a, b`).
fn violations(layers: &Layers, files: &[(String, String)]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut domain_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, source) in files {
        let from = path
            .split('/')
            .next()
            .unwrap_or(path)
            .trim_end_matches(".rs");
        let Some((from_rank, _)) = layers.rank.get(from) else {
            found.insert(format!("{path}: module `{from}` is in no layer"));
            continue;
        };
        for reference in references(source) {
            let to = reference.module.as_str();
            if to == from {
                continue;
            }
            let Some((to_rank, _)) = layers.rank.get(to) else {
                continue;
            };
            let shown = match &reference.item {
                Some(item) => format!("{path} -> {to}::{item}"),
                None => format!("{path} -> {to}"),
            };
            if to_rank < from_rank {
                found.insert(shown);
            } else if layers.is_domain(from) && layers.is_domain(to) {
                // The schema is a graph, so its types may point at each other in a circle: a
                // link between two domains' GraphQL types is neither a breach nor a cycle.
                if is_api_file(path) && reference.is_api_type() {
                    continue;
                }
                domain_edges
                    .entry(from.to_owned())
                    .or_default()
                    .insert(to.to_owned());
                if reference.item.as_deref() != Some("service") {
                    found.insert(shown);
                }
            }
        }
    }
    for cycle in cycles(&domain_edges) {
        found.insert(format!("cycle: {}", cycle.join(", ")));
    }
    found
}

/// The strongly connected groups of more than one domain (Tarjan's algorithm), each sorted.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        groups: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let at = self.index.len();
            self.index.insert(node, at);
            self.low.insert(node, at);
            self.stack.push(node);
            for next in self.edges.get(node).into_iter().flatten() {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    group.push(member.to_owned());
                    if member == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.groups.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        groups: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.groups.sort();
    walk.groups
}

fn source_files(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut directories = vec![root.to_path_buf()];
    while let Some(directory) = directories.pop() {
        for entry in std::fs::read_dir(&directory).expect("read src/") {
            let path = entry.expect("an entry of src/").path();
            if path.is_dir() {
                directories.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(root)
                    .expect("under src/")
                    .to_string_lossy()
                    .replace('\\', "/");
                let source = std::fs::read_to_string(&path).expect("read a source file");
                files.push((relative, source));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_source_keeps_to_its_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let layers = Layers::parse(
        &std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md"),
    );
    let found = violations(&layers, &source_files(&root.join("src")));
    let unlayered: Vec<&String> = found
        .iter()
        .filter(|v| v.ends_with("is in no layer"))
        .collect();
    assert!(
        unlayered.is_empty(),
        "every module of src/ needs a row in ARCHITECTURE.md's layer table (no debt can excuse \
         it):\n{unlayered:#?}"
    );
    let listed: Vec<String> = std::fs::read_to_string(root.join("tests/it/architecture_debts.txt"))
        .expect("the list of known debts")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect();
    assert!(
        listed.windows(2).all(|pair| pair[0] < pair[1]),
        "tests/it/architecture_debts.txt must be sorted, each line once"
    );
    let debts: BTreeSet<String> = listed.into_iter().collect();
    let new: Vec<&String> = found.difference(&debts).collect();
    let paid: Vec<&String> = debts.difference(&found).collect();
    assert!(
        new.is_empty(),
        "imports against the layers of ARCHITECTURE.md (go through the other domain's service, \
         or move the code down a layer):\n{}",
        new.iter()
            .map(|v| format!("  {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        paid.is_empty(),
        "debts paid off: remove them from tests/it/architecture_debts.txt:\n{}",
        paid.iter()
            .map(|v| format!("  {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_checker_catches_an_upward_import_a_store_reached_into_and_a_circle() {
    let layers = Layers::parse(
        "| layer | modules |\n|---|---|\n| edges | `graphql` |\n\
         | domains | `notes`, `rolls` |\n| platform | `db` |\n",
    );
    let files = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(path, source)| ((*path).to_owned(), (*source).to_owned()))
            .collect()
    };
    let clean = files(&[
        ("graphql/mod.rs", "use crate::notes::api::NoteQuery;"),
        (
            "notes/service.rs",
            "use crate::{db::DbPool, rolls::service::roll};",
        ),
        (
            "rolls/service.rs",
            "// crate::notes::store in a comment is no import",
        ),
        // GraphQL types link both ways: no cycle.
        ("rolls/api.rs", "use crate::notes::api::{Note, NoteKind};"),
        ("notes/api/object.rs", "fn f(r: crate::rolls::api::Roll) {}"),
        (
            "rolls/model.rs",
            r###"const A: &str = r#"crate::notes::store"#; /* crate::notes::store /* nested */ */
                 fn f<'a>(c: char) -> bool { c == '"' || c == '\'' }
                 fn g(x: my_crate::Notes) {} const B: &str = "crate::notes::store";
                 const C: &[u8] = br#"a " crate::notes::store"#;"###,
        ),
    ]);
    assert_eq!(violations(&layers, &clean), BTreeSet::new());

    let bad = files(&[
        ("db/pool.rs", "fn f() { crate::graphql::context::app(); }"),
        (
            "notes/service.rs",
            "use crate::rolls::{store::Row, service};",
        ),
        (
            "notes/api.rs",
            "const U: &str = \"http://x\"; use crate::graphql::{\n    subscriptions::{a, b},\n};",
        ),
        ("rolls/service.rs", "use crate::notes::service::Note;"),
        // Only a domain's `api` may name another's GraphQL types, and only types.
        ("rolls/store.rs", "use crate::notes::api::Note;"),
        ("notes/store.rs", "use crate::rolls::store::{*};"),
        ("rolls/api.rs", "use crate::notes::api::{Note, note_of};"),
        ("extra.rs", "fn main() {}"),
    ]);
    let found: Vec<String> = violations(&layers, &bad).into_iter().collect();
    assert_eq!(
        found,
        [
            "cycle: notes, rolls",
            "db/pool.rs -> graphql::context",
            "extra.rs: module `extra` is in no layer",
            "notes/api.rs -> graphql::subscriptions",
            "notes/service.rs -> rolls::store",
            "notes/store.rs -> rolls::store",
            "rolls/api.rs -> notes::api",
            "rolls/store.rs -> notes::api",
        ]
    );
}
