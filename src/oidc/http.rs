//! The HTTP client every provider call goes through: timeouts, no redirects, public roots
//! besides the system's, and responses read within a size bound (a provider's document is a
//! few kilobytes; a hostile or broken one cannot make us buffer more).

use std::time::Duration;

use axum::http::{HeaderValue, header};
use serde::de::DeserializeOwned;

use super::OidcError;

/// Discovery documents, key sets and token responses are far smaller than this.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

pub struct OidcHttp {
    http: reqwest::Client,
}

impl OidcHttp {
    pub fn new(timeout: Duration) -> anyhow::Result<Self> {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok());
        let http = reqwest::Client::builder()
            .tls_certs_merge(roots)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!("loregraph/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http })
    }

    /// GETs `url` and reads its JSON body (a 2xx answer within the bound).
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| unreachable(url, &e))?;
        let status = response.status();
        let body = read_bounded(response).await?;
        if !status.is_success() {
            return Err(OidcError::Unreachable(format!(
                "{} answered {status}",
                host_of(url)
            )));
        }
        serde_json::from_slice(&body).map_err(|error| {
            // The parser's message may quote the body: the log may see it, the client not.
            tracing::warn!(host = %host_of(url), %error, "a provider sent a document we cannot read");
            OidcError::Malformed(format!("{} sent a document we cannot read", host_of(url)))
        })
    }

    /// Sends a request `oauth2` built and hands back the response, bounded.
    pub async fn execute(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, OidcError> {
        let url = request.uri().to_string();
        let (parts, body) = request.into_parts();
        let response = self
            .http
            .request(parts.method, &url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| unreachable(&url, &e))?;
        let status = response.status();
        let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
        let body = read_bounded(response).await?;
        let mut answer = oauth2::HttpResponse::new(body);
        *answer.status_mut() = status;
        answer.headers_mut().insert(
            header::CONTENT_TYPE,
            content_type.unwrap_or(HeaderValue::from_static("application/json")),
        );
        Ok(answer)
    }

    /// The underlying client, for calls that are not OpenID's (Drive).
    pub fn client(&self) -> &reqwest::Client {
        &self.http
    }
}

/// `oauth2` sends its requests through the same client (a named future, so the flows that await
/// it stay `Send` whatever lifetimes they borrow).
impl<'c> oauth2::AsyncHttpClient<'c> for OidcHttp {
    type Error = OidcError;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, OidcError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

/// The body, refused once it passes [`MAX_RESPONSE_BYTES`].
pub async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, OidcError> {
    let url = response.url().clone();
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large(url.as_str()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unreachable(url.as_str(), &e))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large(url.as_str()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(url: &str) -> OidcError {
    OidcError::Malformed(format!(
        "{} sent more than {} KiB",
        host_of(url),
        MAX_RESPONSE_BYTES / 1024
    ))
}

fn unreachable(url: &str, error: &reqwest::Error) -> OidcError {
    let what = if error.is_timeout() {
        "did not answer in time"
    } else {
        "could not be reached"
    };
    OidcError::Unreachable(format!("{} {what}", host_of(url)))
}

/// The host of a URL, for messages (never its path or query, which may carry secrets).
pub fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "the provider".into())
}
