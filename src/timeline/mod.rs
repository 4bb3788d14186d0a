//! The timeline (seed "Timeline"): events derived from the tenant's entities — EVENT and
//! TIMELINE entities, births, deaths, foundings and other dated fields — placed on one scale
//! whatever calendar the world writes its dates in, read in time order, checked for what
//! cannot be true, and exported.

pub mod api;
pub mod conflicts;
pub mod dates;
pub mod derive;
pub mod export;
pub mod service;
pub mod store;
