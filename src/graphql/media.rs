//! GraphQL over HTTP's media types and status codes (the GraphQL-over-HTTP specification):
//! which type a client gets from its `Accept`, and the status that goes with an answer.
//!
//! - `application/json` (asked for, `*/*`, or no `Accept`): 200 for every well-formed request,
//!   whatever GraphQL errors it raised, as legacy clients expect.
//! - `application/graphql-response+json` (asked for; preferred when both are listed): a request
//!   that never ran (its document does not parse or validate, its variables cannot be coerced,
//!   its operation is unknown) is 400, with no `data` entry; one that ran is 200.
//!
//! A request that is not well-formed GraphQL over HTTP (no `query`, a body that is not JSON, a
//! `variables` that is not an object) is 4xx under either type.

use async_graphql::{BatchResponse, Response as GraphQLAnswer};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

/// The media type of an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    Json,
    GraphQLResponseJson,
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

impl MediaType {
    /// What the client's `Accept` asks for.
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let mut graphql_response = 0.0_f32;
        let mut json = 0.0_f32;
        let ranges = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','));
        for range in ranges {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|param| param.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match essence.as_str() {
                GRAPHQL_RESPONSE_JSON => graphql_response = graphql_response.max(quality),
                "application/json" | "application/*" | "*/*" => json = json.max(quality),
                _ => {}
            }
        }
        if graphql_response > 0.0 && graphql_response >= json {
            Self::GraphQLResponseJson
        } else {
            Self::Json
        }
    }

    pub fn content_type(self) -> HeaderValue {
        match self {
            Self::Json => HeaderValue::from_static("application/json"),
            Self::GraphQLResponseJson => HeaderValue::from_static(GRAPHQL_RESPONSE_JSON),
        }
    }

    /// The HTTP response of GraphQL answers: its status, its body (a request that never ran
    /// has no `data` under `application/graphql-response+json`), its headers.
    pub fn respond(self, answers: BatchResponse) -> Response {
        let (status, body) = match &answers {
            BatchResponse::Single(answer)
                if self == Self::GraphQLResponseJson && never_ran(answer) =>
            {
                let body = serde_json::json!({ "errors": answer.errors });
                (StatusCode::BAD_REQUEST, serde_json::to_vec(&body))
            }
            _ => (StatusCode::OK, serde_json::to_vec(&answers)),
        };
        let body = body
            .unwrap_or_else(|_| br#"{"errors":[{"message":"internal server error"}]}"#.to_vec());
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type());
        if answers.is_ok()
            && let Some(cache_control) = answers.cache_control().value()
            && let Ok(value) = HeaderValue::from_str(&cache_control)
        {
            response.headers_mut().insert(header::CACHE_CONTROL, value);
        }
        response.headers_mut().extend(answers.http_headers());
        response
    }
}

/// Whether an answer is a request error: nothing ran, so there is no data and no error belongs
/// to a field (every field error has a path).
pub(crate) fn never_ran(answer: &GraphQLAnswer) -> bool {
    answer.data == async_graphql::Value::Null
        && !answer.errors.is_empty()
        && answer.errors.iter().all(|error| error.path.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: &str) -> MediaType {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        MediaType::negotiate(&headers)
    }

    #[test]
    fn the_client_gets_the_type_it_prefers_and_json_by_default() {
        assert_eq!(MediaType::negotiate(&HeaderMap::new()), MediaType::Json);
        assert_eq!(accepting("*/*"), MediaType::Json);
        assert_eq!(accepting("application/json"), MediaType::Json);
        assert_eq!(accepting("text/html"), MediaType::Json);
        assert_eq!(
            accepting("application/graphql-response+json"),
            MediaType::GraphQLResponseJson
        );
        assert_eq!(
            accepting("application/graphql-response+json, application/json;q=0.9"),
            MediaType::GraphQLResponseJson
        );
        assert_eq!(
            accepting("application/json, application/graphql-response+json"),
            MediaType::GraphQLResponseJson
        );
        assert_eq!(
            accepting("application/json, application/graphql-response+json;q=0.5"),
            MediaType::Json
        );
        assert_eq!(
            accepting("application/graphql-response+json;q=0"),
            MediaType::Json
        );
    }
}
