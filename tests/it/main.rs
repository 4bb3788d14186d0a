//! Integration tests: the real server over real HTTP and WebSockets on a real PostgreSQL.
//! One test binary, so the whole run shares one cluster (see `harness`).

mod harness;

mod accounts;
mod admin;
mod binary;
mod health;
mod limits;
mod schema;
mod web;
mod ws;
