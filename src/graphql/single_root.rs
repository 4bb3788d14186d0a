//! The GraphQL spec's "single root field" rule (section 5.2.3.1), which async-graphql 7.2 does
//! not check: a subscription operation selects exactly one field at its root (through its
//! fragments too), and that field is not an introspection field. A document with two ran both
//! streams as one, and ended both when either ended.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};

use crate::error::{AppError, AppResult};

/// Fails with BAD_USER_INPUT for a subscription operation of `document` whose root selects
/// other than exactly one field. Runs after `document_limits::check_selections` (fragments
/// without cycles, bounded depth); stops at the second distinct response key.
pub fn check_subscriptions(document: &ExecutableDocument) -> AppResult<()> {
    for (name, operation) in document.operations.iter() {
        if operation.node.ty != OperationType::Subscription {
            continue;
        }
        let label = name.map_or_else(
            || "a subscription".to_owned(),
            |name| format!("the subscription `{name}`"),
        );
        let mut roots = Roots {
            document,
            fields: Vec::with_capacity(2),
            spread: HashSet::new(),
        };
        roots.collect(&operation.node.selection_set.node);
        match roots.fields.as_slice() {
            [(_, field)] if field.starts_with("__") => {
                return Err(AppError::bad_input(format!(
                    "{label} selects `{field}` at its root: a subscription's root field must be \
                     one of the subscription type's own"
                )));
            }
            [_] => {}
            _ => {
                return Err(AppError::bad_input(format!(
                    "{label} must select exactly one root field"
                )));
            }
        }
    }
    Ok(())
}

struct Roots<'d> {
    document: &'d ExecutableDocument,
    /// Distinct response keys with their field names, at most two.
    fields: Vec<(&'d str, &'d str)>,
    spread: HashSet<&'d str>,
}

impl<'d> Roots<'d> {
    fn collect(&mut self, set: &'d SelectionSet) {
        for item in &set.items {
            if self.fields.len() > 1 {
                return;
            }
            match &item.node {
                Selection::Field(field) => {
                    let key = field.node.response_key().node.as_str();
                    if !self.fields.iter().any(|(seen, _)| *seen == key) {
                        self.fields.push((key, field.node.name.node.as_str()));
                    }
                }
                Selection::InlineFragment(inline) => self.collect(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if self.spread.insert(name)
                        && let Some(fragment) = self.document.fragments.get(name)
                    {
                        self.collect(&fragment.node.selection_set.node);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn check(query: &str) -> AppResult<()> {
        check_subscriptions(&parse_query(query).expect("a valid document"))
    }

    #[test]
    fn one_root_field_passes_through_fragments_and_aliases_alike() {
        assert!(check("subscription { presence { kind } }").is_ok());
        assert!(check("subscription { a: presence { kind } a: presence { at } }").is_ok());
        assert!(
            check("subscription { ...F } fragment F on SubscriptionRoot { presence { kind } }")
                .is_ok()
        );
        // Queries and mutations may select as many as they like.
        assert!(check("query Q { a: __typename b: __typename } mutation M { x y }").is_ok());
    }

    #[test]
    fn two_root_fields_or_an_introspection_root_are_refused() {
        for query in [
            "subscription { presence { kind } memberUpdated { action } }",
            "subscription S { a: presence { kind } b: presence { kind } }",
            "subscription { presence { kind } ... on SubscriptionRoot { entityUpdated { entityId } } }",
            "subscription { ...F presence { kind } } fragment F on SubscriptionRoot { memberUpdated { action } }",
            "subscription { __typename }",
        ] {
            let refused = check(query).unwrap_err();
            assert_eq!(refused.code(), "BAD_USER_INPUT", "{query}");
        }
    }
}
