//! Integration tests: the real server over real HTTP and WebSockets on a real PostgreSQL.
//! One test binary, so the whole run shares one cluster (see `harness`).

#![recursion_limit = "256"]

mod harness;

mod accounts;
mod admin;
mod architecture;
mod assets;
mod billing;
mod billing_checkout;
mod billing_webhooks;
mod binary;
mod catch_up;
mod cloud_sync;
mod connections;
mod connections_mud;
mod cursors;
mod entities;
mod entity_events;
mod fuzz;
mod graph;
mod graphql_over_http;
mod hardening;
mod health;
mod history;
mod http_surface;
mod introspection;
mod limits;
mod llm;
mod llm_failures;
mod llm_mock;
mod markdown_archive;
mod markdown_files;
mod metrics;
mod mud;
mod notes;
mod oauth;
mod oidc_mock;
mod ollama;
mod password_reset;
mod persisted_queries;
mod play;
mod project_folder;
mod readme;
mod realtime;
mod retention;
mod rolls;
mod schema;
mod search;
mod smtp_mock;
mod statements;
mod story_connections;
mod story_drafts;
mod story_files;
mod story_library;
mod story_presets;
mod story_stories;
mod story_turns;
mod telemetry;
mod templates;
mod tenant_keys;
mod web;
mod ws;
mod ws_protocol;
