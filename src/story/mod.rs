//! The interactive-story engine (seed 003). Part one: its library — API connections and the
//! groups that bind one to each agent role, presets (each agent's settings and prompt), state
//! schemas, lorebooks, player profiles,
//! character cards and story resources — kept per tenant as validated documents whose
//! references to each other are foreign keys ([`library`]), and the tenant's defaults.
//!
//! - [`model`]: the kinds of document, their rows and links;
//! - [`store`]: the SQL of documents, links, sealed keys and settings;
//! - [`library`]: the rules every kind shares (roles, names, sizes, references, versions);
//! - one module per kind with its body's rules and its GraphQL ([`connections`], [`groups`],
//!   [`presets`], [`schemas`], [`lorebooks`], [`profiles`], [`characters`], [`resources`]);
//! - [`cards`]: character covers and `.chr` archives (`crate::archive`: bounded ZIP reading);
//! - [`planning`]: the planner's outline of a resource;
//! - [`stories`]: stories and their versioned graphs; [`sessions`]: playing them;
//! - [`packages`]: data packages out of and into a tenant, whole or not at all;
//! - [`settings`]: the tenant's default API group and preset; [`dashboard`]: it all at a
//!   glance;
//! - [`api`]: the GraphQL roots.

pub mod api;
pub mod cards;
pub mod characters;
pub mod connections;
pub mod dashboard;
pub mod drafts;
pub mod groups;
pub mod library;
pub mod loaders;
pub mod lore;
pub mod lorebooks;
pub mod model;
pub mod packages;
pub mod planning;
pub mod presets;
pub mod profiles;
pub mod resources;
pub mod schemas;
pub mod service;
pub mod sessions;
pub mod settings;
pub mod store;
pub mod stories;
