//! The HTTP surface: which browser origins may call the API (CORS), which responses are
//! compressed, and where `/metrics` is served.

use std::net::SocketAddr;

use anyhow::{Context as _, bail};
use clap::Args;

/// Browser origins allowed to call the API from another origin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Same-origin only (no CORS headers are sent).
    #[default]
    None,
    /// Any origin, without credentials: no cookies, and the browser shows the response only
    /// to requests that carry no credentials of their own.
    Any,
    /// These exact origins (`scheme://host[:port]`), with credentials (the session cookie).
    List(Vec<String>),
}

impl CorsOrigins {
    /// `*`, or a comma-separated list of exact origins; empty for none.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Self::None);
        }
        if text == "*" {
            return Ok(Self::Any);
        }
        let origins = text
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(exact_origin)
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self::List(origins))
    }
}

/// An origin as browsers send it: `http` or `https`, a host, an optional port, nothing else.
fn exact_origin(text: &str) -> anyhow::Result<String> {
    if text == "*" {
        bail!("`*` allows every origin and cannot be listed beside others");
    }
    let url = reqwest::Url::parse(text)
        .with_context(|| format!("`{text}` is not an origin (scheme://host[:port])"))?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || !bare
        || !url.username().is_empty()
        || text.ends_with('/')
    {
        bail!("`{text}` is not an origin: give scheme://host[:port], with no path");
    }
    Ok(url.origin().ascii_serialization())
}

/// The HTTP surface.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub cors_origins: CorsOrigins,
    /// Responses of at least this many bytes are compressed (gzip, br or zstd, as the client's
    /// `Accept-Encoding` prefers); images, which are compressed already, never are.
    pub compression_min_bytes: u64,
    /// Where `/metrics` (Prometheus) is served apart, and only there; `None`: on the main
    /// address, beside the API, to anyone who can reach it.
    pub metrics_bind: Option<SocketAddr>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cors_origins: CorsOrigins::None,
            compression_min_bytes: 1024,
            metrics_bind: None,
        }
    }
}

/// The command line's (and environment's) part of the HTTP section.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "HTTP")]
pub struct HttpArgs {
    /// Browser origins allowed to call the API: a comma-separated list of exact origins
    /// (`https://studio.example.com,http://localhost:5173`, with cookies), or `*` for any origin
    /// without credentials. Unset: same-origin only.
    #[arg(long, env = "LOREGRAPH_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Responses of at least this many bytes are compressed (gzip, br or zstd) for clients that
    /// accept it.
    #[arg(long, env = "LOREGRAPH_COMPRESSION_MIN_BYTES", default_value_t = 1024)]
    pub compression_min_bytes: u64,
    /// Serve the Prometheus metrics (`/metrics`) on this address only (`127.0.0.1:9464`), apart
    /// from the API; recommended in production, where the API's address is public. Unset:
    /// `/metrics` is served on the API's address.
    #[arg(long, env = "LOREGRAPH_METRICS_BIND", default_value = "")]
    pub metrics_bind: String,
}

impl HttpArgs {
    pub fn settings(self) -> anyhow::Result<HttpSettings> {
        Ok(HttpSettings {
            cors_origins: CorsOrigins::parse(&self.cors_origins)
                .context("LOREGRAPH_CORS_ORIGINS")?,
            compression_min_bytes: self.compression_min_bytes,
            metrics_bind: metrics_bind(&self.metrics_bind).context("LOREGRAPH_METRICS_BIND")?,
        })
    }
}

/// An address and port (`127.0.0.1:9464`, `[::1]:9464`), or none for an empty text.
fn metrics_bind(text: &str) -> anyhow::Result<Option<SocketAddr>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let address = text
        .parse::<SocketAddr>()
        .with_context(|| format!("`{text}` is not an address and port (127.0.0.1:9464)"))?;
    Ok(Some(address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact_and_wildcards_stand_alone() {
        assert_eq!(CorsOrigins::parse("").unwrap(), CorsOrigins::None);
        assert_eq!(CorsOrigins::parse(" * ").unwrap(), CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse("https://studio.example.com, http://localhost:5173").unwrap(),
            CorsOrigins::List(vec![
                "https://studio.example.com".into(),
                "http://localhost:5173".into()
            ])
        );
        for bad in [
            "https://studio.example.com/app",
            "https://studio.example.com/",
            "studio.example.com",
            "ftp://studio.example.com",
            "https://a.example.com,*",
            "https://user@studio.example.com",
        ] {
            assert!(CorsOrigins::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_metrics_address_is_an_address_and_port() {
        assert_eq!(metrics_bind(" ").unwrap(), None);
        assert_eq!(
            metrics_bind("127.0.0.1:9464").unwrap(),
            Some(SocketAddr::from(([127, 0, 0, 1], 9464)))
        );
        for bad in ["localhost", "127.0.0.1", "9464", "http://127.0.0.1:9464"] {
            assert!(metrics_bind(bad).is_err(), "{bad} was accepted");
        }
    }
}
