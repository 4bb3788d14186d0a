//! API groups: one API connection for each of the seven agent roles a story runs on. All
//! seven are required and must be API connections of the tenant; a connection a group uses
//! cannot be deleted.

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, SimpleObject};
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::api::library::{library_api, library_writes, linked, linked_many};
use super::connections::{ApiConnection, ApiConnectionBody};
use super::library::{Body, checked_id, uuids};
use super::model::{Kind, Link};
use crate::auth::Role;
use crate::error::AppResult;

/// The agents a story runs on, each calling its own model.
#[derive(Enum, Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    /// Turns a concept and a cast into a plain-text outline.
    Planner,
    /// Turns an outline into the story graph, state schemas and introduction.
    Architect,
    /// Plans each turn's response.
    Director,
    /// Speaks and acts as a character.
    Actor,
    /// Narrates.
    Narrator,
    /// Keeps the state: applies what happened.
    Keeper,
    /// Suggests the player's replies.
    Replyer,
}

pub const AGENT_ROLES: [AgentRole; 7] = [
    AgentRole::Planner,
    AgentRole::Architect,
    AgentRole::Director,
    AgentRole::Actor,
    AgentRole::Narrator,
    AgentRole::Keeper,
    AgentRole::Replyer,
];

/// An API group's content: a connection id per role.
#[derive(SimpleObject, InputObject, Serialize, Deserialize, Clone, Debug)]
#[graphql(input_name = "ApiGroupInput")]
pub struct ApiGroupBody {
    /// The planner's connection.
    pub planner_id: ID,
    /// The architect's connection.
    pub architect_id: ID,
    /// The director's connection.
    pub director_id: ID,
    /// The actors' connection.
    pub actor_id: ID,
    /// The narrator's connection.
    pub narrator_id: ID,
    /// The keeper's connection.
    pub keeper_id: ID,
    /// The replyer's connection.
    pub replyer_id: ID,
}

impl ApiGroupBody {
    /// The connection id bound to `role`.
    pub fn connection_id(&self, role: AgentRole) -> &ID {
        match role {
            AgentRole::Planner => &self.planner_id,
            AgentRole::Architect => &self.architect_id,
            AgentRole::Director => &self.director_id,
            AgentRole::Actor => &self.actor_id,
            AgentRole::Narrator => &self.narrator_id,
            AgentRole::Keeper => &self.keeper_id,
            AgentRole::Replyer => &self.replyer_id,
        }
    }

    fn slots(&mut self) -> [(&'static str, &mut ID); 7] {
        [
            ("plannerId", &mut self.planner_id),
            ("architectId", &mut self.architect_id),
            ("directorId", &mut self.director_id),
            ("actorId", &mut self.actor_id),
            ("narratorId", &mut self.narrator_id),
            ("keeperId", &mut self.keeper_id),
            ("replyerId", &mut self.replyer_id),
        ]
    }
}

impl Body for ApiGroupBody {
    const KIND: Kind = Kind::ApiGroup;
    const READ_ROLE: Role = Role::Worldbuilder;

    fn check(&mut self) -> AppResult<()> {
        for (field, id) in self.slots() {
            *id = checked_id(field, id)?;
        }
        Ok(())
    }

    fn links(&self) -> Vec<Link> {
        let mut body = self.clone();
        body.slots()
            .into_iter()
            .flat_map(|(slot, id)| {
                Link::each(slot, Kind::ApiConnection, &uuids(std::slice::from_ref(id)))
            })
            .collect()
    }
}

library_api! {
    body: ApiGroupBody, node: ApiGroup,
    node_doc: "An API group: the API connection each agent role calls (read and written by \
               WORLDBUILDER and above).",
    query: ApiGroupQuery { one: api_group, many: api_groups },
    mutation: ApiGroupDeletion { delete: delete_api_group },
    connection: ApiGroupConnection, ApiGroupEdge,
    docs: "One API group of the viewer's tenant; null when there is none.",
        "The tenant's API groups by name, a page at a time (WORLDBUILDER and above).",
        "API groups, a page at a time by cursor.",
        "An API group and its cursor.",
}

library_writes! {
    body: ApiGroupBody, node: ApiGroup,
    mutation: ApiGroupWrites { create: create_api_group, update: update_api_group },
    docs: "Creates an API group (WORLDBUILDER and above): every role needs one of the \
           tenant's API connections.",
        "Changes an API group (WORLDBUILDER and above).",
}

/// An agent role and the connection it calls.
#[derive(SimpleObject)]
pub struct AgentConnection {
    /// The role.
    pub role: AgentRole,
    /// Its connection.
    pub connection: ApiConnection,
}

#[ComplexObject]
impl ApiGroup {
    /// Each role's connection, in the order of the roles.
    async fn connections(&self, ctx: &Context<'_>) -> AppResult<Vec<AgentConnection>> {
        let ids: Vec<ID> = AGENT_ROLES
            .iter()
            .map(|role| self.body.connection_id(*role).clone())
            .collect();
        let found = linked_many::<ApiConnectionBody>(ctx, &ids).await?;
        Ok(AGENT_ROLES
            .into_iter()
            .filter_map(|role| {
                let id = Uuid::parse_str(self.body.connection_id(role)).ok()?;
                let connection = found.get(&id)?.clone();
                Some(AgentConnection {
                    role,
                    connection: connection.into(),
                })
            })
            .collect())
    }

    /// The connection one role calls.
    async fn connection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The role.")] role: AgentRole,
    ) -> AppResult<Option<ApiConnection>> {
        Ok(
            linked::<ApiConnectionBody>(ctx, self.body.connection_id(role))
                .await?
                .map(ApiConnection::from),
        )
    }
}
