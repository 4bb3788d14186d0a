//! loregraph: one GraphQL API server for studios that build worlds and run games in them.
//!
//! `main.rs` is the command line; everything else lives here so the integration tests can build
//! the same application (see `app::serve` and `runtime::Runtime`).

// The merged GraphQL roots nest deeply enough to pass the compiler's default query depth.
#![recursion_limit = "256"]

pub mod accounts;
pub mod activity;
pub mod admin;
pub mod api_keys;
pub mod app;
pub mod archive;
pub mod assemblies;
pub mod assets;
pub mod auth;
pub mod beta;
pub mod billing;
pub mod config;
pub mod context;
pub mod db;
pub mod drive;
pub mod entities;
pub mod error;
pub mod events;
pub mod graphql;
pub mod health;
pub mod http;
pub mod inventory;
pub mod invites;
pub mod llm;
pub mod logging;
pub mod mail;
pub mod markdown;
pub mod metrics;
pub mod mud;
pub mod notes;
pub mod oidc;
pub mod presets;
pub mod prompts;
pub mod realtime;
pub mod retention;
pub mod rolls;
pub mod rules;
pub mod runtime;
pub mod sealing;
pub mod settings;
pub mod shares;
pub mod state;
pub mod story;
pub mod studio_archive;
pub mod sync;
pub mod teams;
pub mod telemetry;
pub mod tenants;
pub mod timeline;
