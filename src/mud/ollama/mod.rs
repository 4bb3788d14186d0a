//! Ollama commands for ADMIN (seed 002's OllamaCommandRequest and ClearOllamaContextRequest):
//! `list`, `ps`, `show` and `run` as the `ollama` CLI spells them, sent only to the servers named
//! in configuration, with each session's `run` conversation kept in PostgreSQL.
//!
//! - [`OllamaSettings`] and the parsing of commands and server URLs (this file);
//! - [`client`]: the HTTP calls to Ollama;
//! - `answers`: what Ollama answers and the text it becomes;
//! - [`service`]: running a command for an ADMIN, and `run`'s conversation turn;
//! - [`store`]: the conversations;
//! - [`api`]: the GraphQL fields.

mod answers;
pub mod api;
pub mod client;
pub mod service;
pub mod store;

use reqwest::Url;

pub use api::{OllamaMutation, OllamaQuery};
pub use client::Ollama;

use crate::error::{AppError, AppResult};

/// Which Ollama servers may be addressed (a section of the configuration).
pub use crate::config::OllamaSettings;

/// The longest prompt `run` sends, bytes.
pub const MAX_PROMPT_BYTES: usize = 16 * 1024;
/// The longest model name accepted, characters.
const MAX_MODEL_CHARS: usize = 200;

const USAGE: &str = "usage: `list`, `ps`, `show <model>` or `run <model> <prompt>`";

/// A command, as the `ollama` CLI would take it (a leading `ollama` is allowed and ignored).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OllamaCommand {
    /// The models the server has (`GET /api/tags`).
    List,
    /// The models loaded in memory (`GET /api/ps`).
    Ps,
    /// One model's details (`POST /api/show`).
    Show { model: String },
    /// One turn of a conversation with a model (`POST /api/chat`).
    Run { model: String, prompt: String },
}

/// The first word of `text` and what follows it (not trimmed), or None when only whitespace is
/// left.
fn next_word(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    if text.is_empty() {
        return None;
    }
    Some(text.split_at(text.find(char::is_whitespace).unwrap_or(text.len())))
}

fn bad_command(message: impl std::fmt::Display) -> AppError {
    AppError::bad_field("command", format!("{message}; {USAGE}"))
}

fn parse_model(model: &str) -> AppResult<String> {
    if model.chars().count() > MAX_MODEL_CHARS || model.chars().any(char::is_control) {
        return Err(bad_command(format!(
            "a model name has at most {MAX_MODEL_CHARS} printable characters"
        )));
    }
    Ok(model.to_owned())
}

impl OllamaCommand {
    /// Parses words separated by whitespace; the prompt of `run` is the rest of the text, its
    /// inner whitespace (new lines too) kept. Anything else is BAD_USER_INPUT on `command`.
    pub fn parse(command: &str) -> AppResult<Self> {
        let mut rest = command;
        let mut verb = next_word(rest);
        if let Some((word, after)) = verb
            && word.eq_ignore_ascii_case("ollama")
        {
            rest = after;
            verb = next_word(rest);
        }
        let Some((verb, rest)) = verb else {
            return Err(bad_command("the command is empty"));
        };
        let no_arguments = |parsed: Self| match next_word(rest) {
            None => Ok(parsed),
            Some(_) => Err(bad_command(format!(
                "`{}` takes no arguments",
                verb.to_ascii_lowercase()
            ))),
        };
        match verb.to_ascii_lowercase().as_str() {
            "list" | "ls" => no_arguments(Self::List),
            "ps" => no_arguments(Self::Ps),
            "show" => match next_word(rest) {
                Some((model, after)) if next_word(after).is_none() => Ok(Self::Show {
                    model: parse_model(model)?,
                }),
                Some(_) => Err(bad_command("`show` takes one model")),
                None => Err(bad_command("`show` needs a model")),
            },
            "run" => {
                let Some((model, prompt)) = next_word(rest) else {
                    return Err(bad_command("`run` needs a model and a prompt"));
                };
                let prompt = prompt.trim();
                if prompt.is_empty() {
                    return Err(bad_command("`run` needs a prompt after the model"));
                }
                if prompt.len() > MAX_PROMPT_BYTES {
                    return Err(AppError::bad_field(
                        "command",
                        format!("the prompt is longer than {} KiB", MAX_PROMPT_BYTES / 1024),
                    ));
                }
                Ok(Self::Run {
                    model: parse_model(model)?,
                    prompt: prompt.to_owned(),
                })
            }
            _ => {
                let shown: String = verb.chars().take(40).collect();
                Err(bad_command(format!("unknown command `{shown}`")))
            }
        }
    }
}

/// The one spelling of a server's base URL, so that equal servers compare equal: `http` or
/// `https` only; scheme and host lower-case; the scheme's default port left out (`:80` for
/// http, `:443` for https; any other port, Ollama's 11434 included, stays); trailing `/`
/// stripped; no user name or password, query or fragment. Host names are compared as written:
/// `localhost` and `127.0.0.1` are different servers, and nothing is resolved.
pub fn normalize_server_url(url: &str) -> Result<String, String> {
    let parsed = Url::parse(url.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("only http and https URLs are allowed".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("a user name or password is not allowed in the URL".into());
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("a query or fragment is not allowed in the URL".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    // `Url` has already lower-cased scheme and host, dropped the default port and made the
    // path at least `/`.
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::{OllamaCommand, normalize_server_url};

    fn parse(command: &str) -> Result<OllamaCommand, String> {
        OllamaCommand::parse(command).map_err(|e| e.message())
    }

    #[test]
    fn commands_parse_like_the_ollama_cli() {
        assert_eq!(parse("list"), Ok(OllamaCommand::List));
        assert_eq!(parse("  LS "), Ok(OllamaCommand::List));
        assert_eq!(parse("ollama ps"), Ok(OllamaCommand::Ps));
        assert_eq!(
            parse("show llama3.2:latest"),
            Ok(OllamaCommand::Show {
                model: "llama3.2:latest".into()
            })
        );
        assert_eq!(
            parse("run llama3.2  Why is the sky blue?\n  Be brief. "),
            Ok(OllamaCommand::Run {
                model: "llama3.2".into(),
                prompt: "Why is the sky blue?\n  Be brief.".into()
            })
        );
    }

    #[test]
    fn bad_commands_say_how_to_use_them() {
        for (command, says) in [
            ("", "empty"),
            ("   ", "empty"),
            ("ollama", "empty"),
            ("dance", "unknown command `dance`"),
            ("list everything", "takes no arguments"),
            ("ps now", "takes no arguments"),
            ("show", "needs a model"),
            ("show a b", "one model"),
            ("run", "needs a model and a prompt"),
            ("run llama3.2", "needs a prompt"),
            ("run llama3.2   ", "needs a prompt"),
        ] {
            let message = parse(command).expect_err(command);
            assert!(message.contains(says), "{command:?}: {message}");
            assert!(message.contains("usage"), "{command:?}: {message}");
        }
        let long = format!("run m {}", "x".repeat(super::MAX_PROMPT_BYTES + 1));
        assert!(parse(&long).expect_err("long").contains("16 KiB"));
        let exact = format!("run m {}", "x".repeat(super::MAX_PROMPT_BYTES));
        assert!(parse(&exact).is_ok());
        let model = format!("show {}", "m".repeat(201));
        assert!(parse(&model).is_err());
    }

    #[test]
    fn server_urls_compare_in_one_spelling() {
        for (url, normal) in [
            ("http://gpu-box:11434", "http://gpu-box:11434"),
            ("HTTP://GPU-Box:11434/", "http://gpu-box:11434"),
            ("  http://gpu-box:11434//  ", "http://gpu-box:11434"),
            ("http://gpu-box:80/", "http://gpu-box"),
            (
                "https://gw.example:443/ollama/",
                "https://gw.example/ollama",
            ),
            (
                "https://gw.example:8443/Ollama",
                "https://gw.example:8443/Ollama",
            ),
            ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
            ("http://[::1]:11434/", "http://[::1]:11434"),
        ] {
            assert_eq!(normalize_server_url(url).as_deref(), Ok(normal), "{url}");
        }
    }

    #[test]
    fn server_urls_with_anything_else_are_refused() {
        for url in [
            "",
            "gpu-box:11434",
            "/api/tags",
            "file:///etc/passwd",
            "ftp://gpu-box/",
            "gopher://gpu-box:11434",
            "http://user@gpu-box:11434",
            "http://user:secret@gpu-box:11434",
            "http://gpu-box:11434/?x=1",
            "http://gpu-box:11434/?",
            "http://gpu-box:11434/#top",
            "http://",
        ] {
            assert!(normalize_server_url(url).is_err(), "{url}");
        }
    }
}
