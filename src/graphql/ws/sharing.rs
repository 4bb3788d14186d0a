//! Which subscriptions may share one run with identical ones, and the key they share it under.

use async_graphql::parser::types::{OperationDefinition, Selection};

use super::shared::GroupKey;
use crate::auth::Viewer;

/// Everything a subscription's results depend on: the viewer's access and the request; and,
/// unless it may share, a number of its own.
pub(super) fn group_key(
    viewer: &Viewer,
    via_cookie: bool,
    request: &async_graphql::Request,
    shareable: bool,
    exclusive: impl FnOnce() -> u64,
) -> GroupKey {
    let variables = serde_json::to_string(&request.variables).ok();
    let extensions = serde_json::to_string(&request.extensions).ok();
    let alone = !shareable || variables.is_none() || extensions.is_none();
    GroupKey {
        tenant_id: viewer.tenant_id,
        user_id: viewer.user_id,
        role: viewer.role,
        session_id: viewer.session_id,
        api_key_id: viewer.api_key_id,
        via_cookie,
        query: request.query.clone(),
        operation_name: request.operation_name.clone(),
        variables: variables.unwrap_or_default(),
        extensions: extensions.unwrap_or_default(),
        exclusive: alone.then(exclusive),
    }
}

/// Root fields whose streams keep no state and check nothing when they start beyond the viewer
/// (whom the group key pins): a member joining a running group hears exactly what a run of its
/// own would let it hear. `entityUpdated` qualifies without `entityId` only: following one
/// entity follows its renames, which a late joiner naming the old id must not inherit; and
/// `chatMessages` looks its world and room up when it starts. None qualifies with `since`: its
/// replay happens once, when its run starts.
const STATELESS_ROOT_FIELDS: [&str; 5] = [
    "entityUpdated",
    "memberUpdated",
    "presence",
    "assetProcessed",
    "brainbitsDeducted",
];

/// Whether a subscription may share a run with identical ones.
pub(super) fn shareable(operation: &OperationDefinition) -> bool {
    operation
        .selection_set
        .node
        .items
        .iter()
        .all(|selection| match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                let name = field.name.node.as_str();
                STATELESS_ROOT_FIELDS.contains(&name)
                    && field.get_argument("since").is_none()
                    && !(name == "entityUpdated" && field.get_argument("entityId").is_some())
            }
            // Fragments at the root: not worth reading through.
            _ => false,
        })
}
