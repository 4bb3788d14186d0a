//! The language-model provider layer: one client for the three wire protocols studios use
//! (OpenAI-compatible chat completions, Anthropic's Messages API, Ollama's native chat), with
//! streaming, bounded retries, timeouts, cancellation and token usage. The story engine, the AI
//! helpers and the Ollama proxy call models only through here.
//!
//! - [`model`]: what a call takes and gives ([`Endpoint`], [`ChatRequest`], [`Completion`],
//!   [`LlmError`]);
//! - [`providers`]: each provider's requests and stream format;
//! - [`framing`]: bounded line and server-sent-event decoding;
//! - [`retry`]: when and how long to wait before trying again;
//! - [`network`]: which addresses calls may reach (public ones, unless the operator allows more);
//! - [`client`]: the HTTP client that puts them together, one attempt at a time (`attempt`).

mod attempt;
pub mod client;
pub mod framing;
pub mod model;
pub mod network;
pub mod providers;
pub mod retry;
pub mod service;

pub use client::{LlmClient, Timeouts};
pub use model::{
    ChatRequest, Completion, Endpoint, LlmError, Message, ModelInfo, Provider, Role, Usage,
};
pub use network::Reach;
pub use retry::RetryPolicy;
