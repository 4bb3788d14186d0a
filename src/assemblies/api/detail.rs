//! The GraphQL view of one assembly: its chain, groups, slots, locks, completeness and layers.

use async_graphql::Object;

use super::slots::{
    AssemblyCompleteness, AssemblyLayer, AssemblySlot, AssemblySlotGroup, AssemblyTier, SlotLock,
    groups_of, layers,
};
use crate::assemblies::chain::Resolved;
use crate::assemblies::validation::completeness;
use crate::entities::api::Entity;

/// An assembly with its slots resolved down its chain of parents.
pub struct AssemblyDetail(pub Resolved);

/// An assembly with its slots resolved down its chain of parents.
#[Object]
impl AssemblyDetail {
    /// The assembly entity.
    async fn assembly(&self) -> Entity {
        Entity::from(self.0.chain.subject().row.clone())
    }
    /// Its kind (`assembly_type`: character, prop, building).
    async fn assembly_type(&self) -> Option<&str> {
        self.0.chain.subject().assembly_type()
    }
    /// Its tier (`hierarchy_level`).
    async fn hierarchy_level(&self) -> &str {
        self.0.chain.subject().level()
    }
    /// How much it inherits from its parent (`inheritance_mode`).
    async fn inheritance_mode(&self) -> &str {
        self.0.chain.subject().mode()
    }
    /// Its chain: the root first, the assembly last.
    async fn chain(&self) -> Vec<AssemblyTier> {
        self.0
            .chain
            .nodes
            .iter()
            .cloned()
            .map(|node| AssemblyTier { node })
            .collect()
    }
    /// Why the chain stops before a template (a missing parent, a loop), when it does.
    async fn chain_broken(&self) -> Option<&str> {
        self.0.chain.broken.as_deref()
    }
    /// Its slot groups, each with its slots.
    async fn groups(&self) -> Vec<AssemblySlotGroup> {
        groups_of(&self.0.definitions.groups, Some(&self.0))
    }
    /// Its slots (of one group when given): the defined ones in their groups' order, then
    /// filled slots no definition names.
    async fn slots(
        &self,
        #[graphql(desc = "Only this group's.")] group: Option<String>,
    ) -> Vec<AssemblySlot> {
        self.0
            .slots
            .iter()
            .filter(|slot| group.as_ref().is_none_or(|g| slot.definition.group == *g))
            .cloned()
            .map(AssemblySlot)
            .collect()
    }
    /// The slots its ancestors lock (it cannot fill them).
    async fn ancestor_locks(&self) -> Vec<SlotLock> {
        self.0
            .chain
            .ancestor_locks()
            .into_iter()
            .map(|(path, locked_by)| SlotLock { path, locked_by })
            .collect()
    }
    /// The slots it locks for its descendants.
    async fn locked_slots(&self) -> Vec<String> {
        self.0.chain.subject().locks()
    }
    /// Whether its required slots are filled.
    async fn completeness(&self) -> AssemblyCompleteness {
        AssemblyCompleteness(completeness(&self.0))
    }
    /// The preview: its filled slots as drawn, bottom first (by z-index).
    async fn layers(&self) -> Vec<AssemblyLayer> {
        let slots: Vec<_> = self.0.slots.iter().collect();
        layers(&slots, None)
    }
}
