//! DataLoaders of the MUD domain, per request and scoped to the viewer's tenant: worlds, rooms
//! and characters by id, one statement per kind for a whole page.

use uuid::Uuid;

use super::characters::store as character_store;
use super::model::{CharacterRow, RoomRow, WorldRow};
use super::worlds::store as world_store;
use crate::context::LoaderSet;
use crate::db::loading::{Cached, LoaderScope, RowsById, tenant_row};

tenant_row!(WorldRow, world_store::worlds_by_ids);
tenant_row!(RoomRow, world_store::rooms_by_ids);
tenant_row!(CharacterRow, character_store::characters_by_ids);

pub struct MudLoaders {
    pub worlds: Cached<RowsById<WorldRow>>,
    pub rooms: Cached<RowsById<RoomRow>>,
    pub characters: Cached<RowsById<CharacterRow>>,
}

impl LoaderSet for MudLoaders {
    fn build(scope: &LoaderScope) -> Self {
        Self {
            worlds: scope.cached(RowsById::new(scope.tenant())),
            rooms: scope.cached(RowsById::new(scope.tenant())),
            characters: scope.cached(RowsById::new(scope.tenant())),
        }
    }
}

impl MudLoaders {
    /// Drops everything cached, after a write.
    pub fn forget(&self) {
        self.worlds.clear::<Uuid>();
        self.rooms.clear::<Uuid>();
        self.characters.clear::<Uuid>();
    }
}
