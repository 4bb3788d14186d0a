//! The two GraphQL-over-WebSocket protocols on the wire: what a client may send, and the
//! messages this server writes. graphql-transport-ws (the `graphql-ws` library's protocol) and
//! the legacy subscriptions-transport-ws protocol (subprotocol `graphql-ws`) differ only in a
//! few names and in how they report failures.
//!
//! Payloads arrive here already serialized: a subscription shared by many sockets is
//! serialized once, and each socket only wraps the bytes in its own envelope.

use std::sync::Arc;

use async_graphql::http::WebSocketProtocols;
use serde::Deserialize;
use serde_json::Value;

/// A message from the client. Both protocols' names are accepted (`subscribe` / `start`,
/// `complete` / `stop`), as clients of either are lenient about it too.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    ConnectionInit {
        #[serde(default)]
        payload: Option<Value>,
    },
    #[serde(alias = "start")]
    Subscribe {
        id: String,
        payload: Box<async_graphql::Request>,
    },
    #[serde(alias = "stop")]
    Complete {
        id: String,
    },
    ConnectionTerminate,
    Ping {
        #[serde(default)]
        payload: Option<Value>,
    },
    Pong {
        #[serde(default)]
        #[allow(dead_code)] // read only to accept the message
        payload: Option<Value>,
    },
}

/// What an operation produced, serialized.
#[derive(Clone, Debug)]
pub enum Outgoing {
    /// A result: the whole GraphQL response (`data`, `errors`, `extensions`).
    Next(Arc<str>),
    /// The operation failed before it ran (it did not parse or validate): the whole response,
    /// and its `errors` array on its own, since the two protocols report it differently.
    Failed {
        response: Arc<str>,
        errors: Arc<str>,
    },
}

impl Outgoing {
    /// The bytes it holds (shared by every member of a group, counted for each).
    pub fn size(&self) -> usize {
        match self {
            Self::Next(payload) => payload.len(),
            Self::Failed { response, errors } => response.len() + errors.len(),
        }
    }

    pub fn from_response(response: &async_graphql::Response) -> Self {
        let serialized = Arc::from(to_json(response));
        // Parse and validation errors have no path and leave no data; a resolver's error
        // (including a subscription refused by its resolver) has a path.
        let before_execution = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|error| error.path.is_empty());
        if before_execution {
            Outgoing::Failed {
                response: serialized,
                errors: Arc::from(to_json(&response.errors)),
            }
        } else {
            Outgoing::Next(serialized)
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|error| {
        tracing::error!(%error, "a GraphQL response did not serialize");
        r#"{"data":null,"errors":[{"message":"internal server error","extensions":{"code":"INTERNAL"}}]}"#
            .to_owned()
    })
}

/// Writes one protocol's server messages.
#[derive(Clone, Copy)]
pub struct Wire(pub WebSocketProtocols);

impl Wire {
    fn legacy(self) -> bool {
        matches!(self.0, WebSocketProtocols::SubscriptionsTransportWS)
    }

    /// Whether a client's `stop` is answered with `complete` (legacy only).
    pub fn confirms_stop(self) -> bool {
        self.legacy()
    }

    pub fn connection_ack(self) -> String {
        r#"{"type":"connection_ack"}"#.to_owned()
    }

    /// The legacy protocol says why it refuses a `connection_init` in a message before closing.
    pub fn connection_error(self, message: &str) -> Option<String> {
        self.legacy().then(|| {
            serde_json::json!({ "type": "connection_error", "payload": { "message": message } })
                .to_string()
        })
    }

    pub fn pong(self, payload: Option<Value>) -> String {
        match payload {
            Some(payload) => serde_json::json!({ "type": "pong", "payload": payload }).to_string(),
            None => r#"{"type":"pong"}"#.to_owned(),
        }
    }

    /// `id_json` is the operation's id already written as a JSON string.
    pub fn complete(self, id_json: &str) -> String {
        envelope("complete", id_json, None)
    }

    /// The message carrying `outgoing`, and whether the operation ends with it (a failure ends
    /// it: graphql-transport-ws sends no `complete` after an `error`).
    pub fn result(self, id_json: &str, outgoing: &Outgoing) -> (String, bool) {
        match (outgoing, self.legacy()) {
            (Outgoing::Next(payload), false) => (envelope("next", id_json, Some(payload)), false),
            (Outgoing::Next(payload), true) => (envelope("data", id_json, Some(payload)), false),
            (Outgoing::Failed { errors, .. }, false) => {
                (envelope("error", id_json, Some(errors)), true)
            }
            // subscriptions-transport-ws reports errors in a `data` message, then completes.
            (Outgoing::Failed { response, .. }, true) => {
                (envelope("data", id_json, Some(response)), false)
            }
        }
    }
}

impl Wire {
    /// The messages reporting `failed` for an operation that never ran.
    pub fn failure(self, id_json: &str, failed: &Outgoing) -> Vec<String> {
        let (message, ends) = self.result(id_json, failed);
        if ends {
            vec![message]
        } else {
            vec![message, self.complete(id_json)]
        }
    }
}

/// `{"type":…,"id":…,"payload":…}` around already-serialized parts: the hot path of fan-out,
/// so it is one allocation and three copies.
fn envelope(kind: &str, id_json: &str, payload: Option<&str>) -> String {
    let payload_len = payload.map_or(0, |p| p.len() + 11);
    let mut message = String::with_capacity(24 + kind.len() + id_json.len() + payload_len);
    message.push_str(r#"{"type":""#);
    message.push_str(kind);
    message.push_str(r#"","id":"#);
    message.push_str(id_json);
    if let Some(payload) = payload {
        message.push_str(r#","payload":"#);
        message.push_str(payload);
    }
    message.push('}');
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport() -> Wire {
        Wire(WebSocketProtocols::GraphQLWS)
    }

    fn legacy() -> Wire {
        Wire(WebSocketProtocols::SubscriptionsTransportWS)
    }

    #[test]
    fn envelopes_are_json_with_the_payload_spliced_in() {
        let next = Outgoing::Next(r#"{"data":{"a":1}}"#.into());
        let (message, ends) = transport().result(r#""op\"1""#, &next);
        let parsed: Value = serde_json::from_str(&message).expect("json");
        assert_eq!(
            parsed,
            serde_json::json!({ "type": "next", "id": "op\"1", "payload": { "data": { "a": 1 } } })
        );
        assert!(!ends);
        let (message, _) = legacy().result(r#""1""#, &next);
        let parsed: Value = serde_json::from_str(&message).expect("json");
        assert_eq!(parsed["type"], "data");
        let complete: Value = serde_json::from_str(&transport().complete(r#""1""#)).expect("json");
        assert_eq!(
            complete,
            serde_json::json!({ "type": "complete", "id": "1" })
        );
    }

    #[test]
    fn failures_before_execution_are_errors_in_graphql_transport_ws_and_data_in_legacy() {
        let response = async_graphql::Response::from_errors(vec![async_graphql::ServerError::new(
            "Unknown field \"nope\"",
            None,
        )]);
        let failed = Outgoing::from_response(&response);
        let (message, ends) = transport().result(r#""7""#, &failed);
        let parsed: Value = serde_json::from_str(&message).expect("json");
        assert_eq!(parsed["type"], "error");
        assert_eq!(parsed["payload"][0]["message"], "Unknown field \"nope\"");
        assert!(ends);
        let (message, ends) = legacy().result(r#""7""#, &failed);
        let parsed: Value = serde_json::from_str(&message).expect("json");
        assert_eq!(parsed["type"], "data");
        assert_eq!(
            parsed["payload"]["errors"][0]["message"],
            "Unknown field \"nope\""
        );
        assert!(!ends);
    }

    #[test]
    fn a_resolver_error_is_a_result_not_a_failure() {
        let mut error = async_graphql::ServerError::new("no such room", None);
        error.path = vec![async_graphql::PathSegment::Field("chatMessages".into())];
        let response = async_graphql::Response::from_errors(vec![error]);
        assert!(matches!(
            Outgoing::from_response(&response),
            Outgoing::Next(_)
        ));
    }
}
