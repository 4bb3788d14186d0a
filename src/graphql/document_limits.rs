//! Bounds on a GraphQL document, checked before anything walks it recursively.
//!
//! Two shapes of a small document can take the server down, and neither is caught by
//! async-graphql's own limits:
//! - **Nesting.** The parser recurses once per level of a value literal (`[[[[…]]]]`, `{a:{a:…}}`)
//!   with no bound, and a few thousand levels, a few kilobytes, overflow a worker thread's stack
//!   and abort the process. [`check_nesting`] scans the text for brackets the way the lexer
//!   reads it (skipping strings and comments), before the parser sees it.
//! - **Fragment fan-out.** `fragment F0 on QueryRoot { ...F1 ...F1 } … fragment F24 …` is a
//!   kilobyte that selects 2^24 fields. async-graphql's depth, directive and complexity checks
//!   each walk the document with its fragments expanded, so they run for seconds before they
//!   could refuse it. [`check_selections`] counts the selections with one memo per fragment
//!   (linear in the document) and refuses any document over the bound, any fragment that spreads
//!   itself, and any selection nested deeper than async-graphql's recursion limit: after it, every
//!   expanding walk is bounded by the count.
//! - **Long lists of names.** Two validation rules compare lists pairwise: each use of a
//!   variable is looked up among the operation's definitions, and two fields of one name compare
//!   their arguments one by one. Forty thousand variables, or two fields with fifty thousand
//!   arguments, fit in a body and cost a billion comparisons; the same walk refuses more than
//!   [`MAX_VARIABLES`] definitions, [`MAX_ARGUMENTS`] arguments or [`MAX_DIRECTIVES`]
//!   directives in one place.

use std::collections::HashMap;

use async_graphql::parser::Positioned;
use async_graphql::parser::types::{Directive, ExecutableDocument, Selection, SelectionSet};

use crate::error::{AppError, AppResult};

/// How deep brackets (`{`, `[`, `(`) may nest in a document's text. Real operations stay far
/// below it (selection sets plus an argument's value); the parser's recursion at this depth is a
/// small fraction of a worker thread's stack.
pub const MAX_NESTING: usize = 128;

/// How deep selection sets may nest with fragments expanded (async-graphql's
/// `limit_recursive_depth`, which counts a fragment spread or an inline fragment as a level).
pub const MAX_RECURSIVE_DEPTH: usize = 64;

/// Most variables one operation may define.
pub const MAX_VARIABLES: usize = 100;

/// Most arguments one field or directive may take (the widest field of the schema takes a
/// dozen).
pub const MAX_ARGUMENTS: usize = 64;

/// Most directives in one place (async-graphql's own limit for fields, applied everywhere).
pub const MAX_DIRECTIVES: usize = 50;

/// Fails with BAD_USER_INPUT when brackets nest deeper than `max` in `query`. Brackets inside
/// strings, block strings and comments do not count, as the lexer does not read them as
/// punctuation. Linear in the text, with no recursion.
pub fn check_nesting(query: &str, max: usize) -> AppResult<()> {
    let text = query.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while at < text.len() {
        match text[at] {
            b'#' => at = end_of_comment(text, at),
            b'"' if text[at..].starts_with(b"\"\"\"") => at = end_of_block_string(text, at + 3),
            b'"' => at = end_of_string(text, at + 1),
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return Err(AppError::bad_input(format!(
                        "the document nests brackets deeper than {max} levels"
                    )));
                }
                at += 1;
            }
            b'}' | b']' | b')' => {
                // An unbalanced closing bracket is the parser's to report.
                depth = depth.saturating_sub(1);
                at += 1;
            }
            _ => at += 1,
        }
    }
    Ok(())
}

/// The index after a comment that starts at `at` (it runs to the end of its line).
fn end_of_comment(text: &[u8], at: usize) -> usize {
    text[at..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(text.len(), |offset| at + offset + 1)
}

/// The index after a block string whose content starts at `at`: after the first `"""` not
/// escaped as `\"""`.
fn end_of_block_string(text: &[u8], mut at: usize) -> usize {
    while at < text.len() {
        if text[at..].starts_with(b"\\\"\"\"") {
            at += 4;
        } else if text[at..].starts_with(b"\"\"\"") {
            return at + 3;
        } else {
            at += 1;
        }
    }
    text.len()
}

/// The index after a string whose content starts at `at`. A string cannot span lines: at a line
/// break the parser fails, and the scan goes on reading the rest as punctuation (which only ever
/// counts more brackets than the parser would reach).
fn end_of_string(text: &[u8], mut at: usize) -> usize {
    while at < text.len() {
        match text[at] {
            b'\\' => at += 2,
            b'"' => return at + 1,
            b'\n' | b'\r' => return at,
            _ => at += 1,
        }
    }
    text.len()
}

/// What a selection set amounts to with its fragments expanded.
#[derive(Clone, Copy, Default)]
struct Shape {
    /// Fields, fragment spreads and inline fragments (saturating).
    selections: usize,
    /// How many levels of selection sets it holds below itself.
    height: usize,
}

enum Memo {
    /// Being counted: reaching it again is a cycle.
    Counting,
    Counted(Shape),
}

struct Counter<'d> {
    document: &'d ExecutableDocument,
    fragments: HashMap<&'d str, Memo>,
    max_selections: usize,
}

/// Fails with BAD_USER_INPUT when the document's operations select more than `max_selections`
/// fields, spreads and inline fragments with their fragments expanded, when one of its fragments
/// would (used or not), when a fragment spreads itself, when selections nest deeper than
/// [`MAX_RECURSIVE_DEPTH`], or when an operation, field or directive lists more variables,
/// arguments or directives than allowed. Each fragment is walked once; the recursion is bounded
/// by that depth.
pub fn check_selections(document: &ExecutableDocument, max_selections: usize) -> AppResult<()> {
    let mut counter = Counter {
        document,
        fragments: HashMap::with_capacity(document.fragments.len()),
        max_selections,
    };
    let mut total = 0usize;
    for (_, operation) in document.operations.iter() {
        let operation = &operation.node;
        if operation.variable_definitions.len() > MAX_VARIABLES {
            return Err(AppError::bad_input(format!(
                "an operation may define at most {MAX_VARIABLES} variables"
            )));
        }
        check_directives(&operation.directives)?;
        for variable in &operation.variable_definitions {
            check_directives(&variable.node.directives)?;
        }
        let shape = counter.selection_set(&operation.selection_set.node, 0)?;
        total = total.saturating_add(shape.selections);
        counter.within_bound(total)?;
    }
    // Fragments no operation uses are invalid anyway, but validation still walks them.
    for name in document.fragments.keys() {
        counter.fragment(name, 0)?;
    }
    Ok(())
}

impl<'d> Counter<'d> {
    /// The shape of `set`, which sits `depth` levels below its operation or fragment.
    fn selection_set(&mut self, set: &'d SelectionSet, depth: usize) -> AppResult<Shape> {
        if depth > MAX_RECURSIVE_DEPTH {
            return Err(too_deep());
        }
        let mut shape = Shape::default();
        for item in &set.items {
            check_directives(item.node.directives())?;
            let below = match &item.node {
                Selection::Field(field) if field.node.arguments.len() > MAX_ARGUMENTS => {
                    return Err(too_many_arguments());
                }
                Selection::Field(field) if field.node.selection_set.node.items.is_empty() => None,
                Selection::Field(field) => {
                    Some(self.selection_set(&field.node.selection_set.node, depth + 1)?)
                }
                Selection::InlineFragment(inline) => {
                    Some(self.selection_set(&inline.node.selection_set.node, depth + 1)?)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(&spread.node.fragment_name.node, depth + 1)?
                }
            };
            let below = below.map_or(Shape::default(), |inner| Shape {
                selections: inner.selections,
                height: inner.height + 1,
            });
            shape.selections = shape
                .selections
                .saturating_add(1)
                .saturating_add(below.selections);
            shape.height = shape.height.max(below.height);
            self.within_bound(shape.selections)?;
        }
        Ok(shape)
    }

    /// The shape of the fragment `name` spread `depth` levels down; None for an unknown one
    /// (validation reports it).
    fn fragment(&mut self, name: &'d str, depth: usize) -> AppResult<Option<Shape>> {
        let shape = match self.fragments.get(name) {
            Some(Memo::Counting) => {
                return Err(AppError::bad_input(format!(
                    "the fragment `{name}` spreads itself"
                )));
            }
            Some(Memo::Counted(shape)) => *shape,
            None => {
                let Some(fragment) = self.document.fragments.get(name) else {
                    return Ok(None);
                };
                check_directives(&fragment.node.directives)?;
                self.fragments.insert(name, Memo::Counting);
                let shape = self.selection_set(&fragment.node.selection_set.node, depth)?;
                self.fragments.insert(name, Memo::Counted(shape));
                shape
            }
        };
        if depth + shape.height > MAX_RECURSIVE_DEPTH {
            return Err(too_deep());
        }
        Ok(Some(shape))
    }

    fn within_bound(&self, selections: usize) -> AppResult<()> {
        if selections > self.max_selections {
            return Err(AppError::bad_input(format!(
                "the document selects more than {} fields once its fragments are expanded \
                 (the server's limit, LOREGRAPH_MAX_QUERY_FIELDS)",
                self.max_selections
            )));
        }
        Ok(())
    }
}

fn check_directives(directives: &[Positioned<Directive>]) -> AppResult<()> {
    if directives.len() > MAX_DIRECTIVES {
        return Err(AppError::bad_input(format!(
            "at most {MAX_DIRECTIVES} directives may stand in one place"
        )));
    }
    if directives
        .iter()
        .any(|directive| directive.node.arguments.len() > MAX_ARGUMENTS)
    {
        return Err(too_many_arguments());
    }
    Ok(())
}

fn too_many_arguments() -> AppError {
    AppError::bad_input(format!(
        "a field or directive may take at most {MAX_ARGUMENTS} arguments"
    ))
}

fn too_deep() -> AppError {
    AppError::bad_input(format!(
        "the document nests selections deeper than {MAX_RECURSIVE_DEPTH} levels once its \
         fragments are expanded"
    ))
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn selections(query: &str, max: usize) -> AppResult<()> {
        check_selections(&parse_query(query).expect("a valid document"), max)
    }

    fn fan_out(levels: usize) -> String {
        let mut query = String::from("query { ...F0 }\n");
        for level in 0..levels {
            query.push_str(&format!(
                "fragment F{level} on QueryRoot {{ ...F{next} ...F{next} }}\n",
                next = level + 1
            ));
        }
        query.push_str(&format!(
            "fragment F{levels} on QueryRoot {{ __typename }}\n"
        ));
        query
    }

    #[test]
    fn brackets_count_outside_strings_and_comments_only() {
        let deep = |n: usize| format!("{{ f(x: {}{}) }}", "[".repeat(n), "]".repeat(n));
        assert!(check_nesting(&deep(100), MAX_NESTING).is_ok());
        assert!(check_nesting(&deep(3_000), MAX_NESTING).is_err());
        let hidden = "[".repeat(5_000);
        for quoted in [
            format!("{{ f(x: \"{hidden}\") }}"),
            format!("{{ f(x: \"\"\"{hidden} \\\"\"\" {hidden}\"\"\") }}"),
            format!("# {hidden}\n{{ f }}"),
            format!("{{ f(x: \"a \\\" {hidden}\") }}"),
        ] {
            assert!(check_nesting(&quoted, MAX_NESTING).is_ok(), "{quoted}");
        }
        // A string cut by a line break ends there: what follows counts.
        let broken = format!("{{ f(x: \"a\n{hidden}) }}");
        assert!(check_nesting(&broken, MAX_NESTING).is_err());
        // Objects in a variable default and lists in a directive argument count alike.
        let object = format!(
            "query($v: JSON = {}1{}) {{ f }}",
            "{a:".repeat(200),
            "}".repeat(200)
        );
        assert!(check_nesting(&object, MAX_NESTING).is_err());
        let closes_first = format!("{}{{ f }}", "]".repeat(500));
        assert!(check_nesting(&closes_first, 2).is_ok());
    }

    #[test]
    fn fan_out_is_counted_once_per_fragment() {
        // F8 is 1 selection, F(k) is 2 spreads of F(k+1): 766 for F0, 767 with the spread.
        assert!(selections(&fan_out(8), 767).is_ok());
        assert!(selections(&fan_out(8), 766).is_err());
        let refused = selections(&fan_out(24), 5_000).unwrap_err();
        assert_eq!(refused.code(), "BAD_USER_INPUT");
    }

    #[test]
    fn aliases_fields_and_inline_fragments_count() {
        let fields: String = (0..50).map(|i| format!("a{i}: __typename ")).collect();
        let query = format!("{{ {fields} ... on QueryRoot {{ {fields} }} }}");
        assert!(selections(&query, 101).is_ok());
        assert!(selections(&query, 100).is_err());
    }

    #[test]
    fn long_lists_of_variables_arguments_and_directives_are_refused() {
        let variables = |n: usize| {
            let defined: String = (0..n).map(|i| format!("$v{i}: Int ")).collect();
            let used: String = (0..n).map(|i| format!("$v{i} ")).collect();
            format!("query({defined}) {{ f(a: [{used}]) }}")
        };
        assert!(selections(&variables(MAX_VARIABLES), 5_000).is_ok());
        assert!(selections(&variables(MAX_VARIABLES + 1), 5_000).is_err());
        let arguments = |n: usize| {
            let listed: String = (0..n).map(|i| format!("a{i}: 1 ")).collect();
            format!("{{ f({listed}) g @include({listed}) }}")
        };
        assert!(selections(&arguments(MAX_ARGUMENTS), 5_000).is_ok());
        assert!(selections(&arguments(MAX_ARGUMENTS + 1), 5_000).is_err());
        let directives = |n: usize| {
            let listed: String = (0..n).map(|i| format!("@d{i} ")).collect();
            format!("{{ ...F }} fragment F on QueryRoot {listed} {{ f }}")
        };
        assert!(selections(&directives(MAX_DIRECTIVES), 5_000).is_ok());
        assert!(selections(&directives(MAX_DIRECTIVES + 1), 5_000).is_err());
    }

    #[test]
    fn cycles_and_deep_chains_are_refused() {
        let cycle =
            "query { ...A } fragment A on QueryRoot { ...B } fragment B on QueryRoot { ...A }";
        assert!(selections(cycle, 5_000).is_err());
        let unused_cycle = "query { __typename } fragment A on QueryRoot { x { ...A } }";
        assert!(selections(unused_cycle, 5_000).is_err());
        let chain = |n: usize| {
            let mut query = String::from("query { __typename }\n");
            for i in 0..n {
                query.push_str(&format!("fragment F{i} on QueryRoot {{ ...F{} }}\n", i + 1));
            }
            query.push_str(&format!("fragment F{n} on QueryRoot {{ __typename }}\n"));
            query
        };
        assert!(selections(&chain(60), 5_000).is_ok());
        // Unused, and far deeper than the recursion limit: refused without recursing that deep.
        assert!(selections(&chain(20_000), 5_000).is_err());
    }

    #[test]
    fn a_memoised_fragment_is_checked_for_depth_where_it_is_spread() {
        let nested = |levels: usize, inner: &str| {
            format!("{}{inner}{}", "f { ".repeat(levels), " }".repeat(levels))
        };
        let query = format!(
            "query {{ ...Shallow {} }} fragment Shallow on QueryRoot {{ {} }}",
            nested(40, "...Shallow"),
            nested(30, "g")
        );
        assert!(selections(&query, 5_000).is_err());
    }
}
