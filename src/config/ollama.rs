//! The Ollama servers admins may address, and how long a call to one may take.

use std::time::Duration;

use clap::Args;

/// Which Ollama servers may be addressed, and how long a call to one may take.
#[derive(Clone, Debug)]
pub struct OllamaSettings {
    /// Base URLs (`http://gpu-box:11434`, or a path under a proxy: `https://gw.example/ollama`).
    /// None: Ollama commands are refused.
    pub servers: Vec<String>,
    /// The longest one call may take, connecting and reading the answer included.
    pub timeout: Duration,
}

impl Default for OllamaSettings {
    fn default() -> Self {
        Self {
            servers: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The command line's (and environment's) part of the Ollama section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Ollama")]
pub struct OllamaArgs {
    /// Ollama servers admins may address with `ollamaCommand` (comma-separated base URLs, such
    /// as http://localhost:11434); no other URL is ever contacted.
    #[arg(
        long = "ollama-server",
        env = "LOREGRAPH_OLLAMA_SERVERS",
        value_delimiter = ','
    )]
    pub ollama_servers: Vec<String>,
    /// Seconds one Ollama request may take.
    #[arg(long, env = "LOREGRAPH_OLLAMA_TIMEOUT", default_value_t = 60)]
    pub ollama_timeout: u64,
}

impl OllamaArgs {
    pub fn settings(self) -> OllamaSettings {
        OllamaSettings {
            servers: self.ollama_servers,
            timeout: Duration::from_secs(self.ollama_timeout.max(1)),
        }
    }
}
