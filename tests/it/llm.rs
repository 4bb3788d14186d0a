//! The LLM layer against providers speaking their real wire formats (scripted servers in
//! `llm_mock`): each streams an answer's text piece by piece, whatever the chunking, reports the
//! tokens it used and why it stopped, lists its models, and receives the call its API
//! documents (path, credentials, body).

use loregraph::llm::{
    ChatRequest, Completion, Endpoint, LlmClient, Message, Provider, Reach, RetryPolicy, Role,
    Timeouts, Usage,
};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::llm_mock::{MockProvider, Reply};

/// A client that may call the scripted providers on this machine.
pub fn client(policy: RetryPolicy, timeouts: Timeouts) -> LlmClient {
    LlmClient::new(policy, timeouts, Reach::Anywhere).expect("the LLM client")
}

pub fn endpoint_for(provider: Provider, mock: &MockProvider, key: Option<&str>) -> Endpoint {
    let base_url = match provider {
        Provider::OpenAiCompatible => format!("{}/v1", mock.url),
        Provider::Anthropic | Provider::Ollama => mock.url.clone(),
    };
    Endpoint {
        provider,
        base_url,
        api_key: key.map(str::to_owned),
        model: "story-model".into(),
    }
}

pub fn conversation(json: bool) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::new(Role::System, "You narrate."),
            Message::new(Role::User, "Open the door."),
        ],
        temperature: Some(0.5),
        max_tokens: None,
        json,
    }
}

/// Runs a chat call, collecting the pieces of text as they arrived.
pub async fn chat(
    client: &LlmClient,
    endpoint: &Endpoint,
    request: &ChatRequest,
) -> (Result<Completion, loregraph::llm::LlmError>, Vec<String>) {
    let mut pieces = Vec::new();
    let result = client
        .chat(endpoint, request, &CancellationToken::new(), |text| {
            pieces.push(text.to_owned())
        })
        .await;
    (result, pieces)
}

pub const OPENAI_STREAM: &str = concat!(
    ": OPENROUTER PROCESSING\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"The door \"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"creaks — open.\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":6,\"total_tokens\":27}}\n\n",
    "data: [DONE]\n\n",
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_compatible_server_streams_the_answer_and_its_usage() {
    let client = client(RetryPolicy::default(), Timeouts::default());
    // Cut every 7 bytes: events, lines and the em dash's bytes all split across chunks.
    let mock =
        MockProvider::start(vec![Reply::stream("text/event-stream", OPENAI_STREAM, 7)]).await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, Some("sk-test"));

    let (result, pieces) = chat(&client, &endpoint, &conversation(true)).await;
    let completion = result.expect("the answer");
    assert_eq!(pieces, ["The door ", "creaks — open."]);
    assert_eq!(completion.text, "The door creaks — open.");
    assert_eq!(
        completion.usage,
        Some(Usage {
            prompt_tokens: 21,
            completion_tokens: 6
        })
    );
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));
    assert_eq!(completion.attempts, 1);

    let sent = &mock.received()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(sent.headers["authorization"], "Bearer sk-test");
    assert_eq!(sent.body["model"], "story-model");
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
    assert_eq!(sent.body["response_format"]["type"], "json_object");
    assert_eq!(sent.body["temperature"], 0.5);
    // OpenAI refuses JSON mode unless a message asks for JSON: the call asks, first.
    assert_eq!(
        sent.body["messages"],
        json!([{ "role": "system", "content": loregraph::llm::providers::JSON_INSTRUCTION },
               { "role": "system", "content": "You narrate." },
               { "role": "user", "content": "Open the door." }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_streams_its_events_and_counts_both_sides() {
    let stream = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"story-model\",\"stop_reason\":null,\"usage\":{\"input_tokens\":34,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\n",
        "data: {\"type\": \"ping\"}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"{\\\"door\\\": \"}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\\\"open\\\"}\"}}\n\n",
        "event: content_block_stop\n",
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":9}}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    let client = client(RetryPolicy::default(), Timeouts::default());
    let mock = MockProvider::start(vec![Reply::stream("text/event-stream", stream, 11)]).await;
    let endpoint = endpoint_for(Provider::Anthropic, &mock, Some("sk-ant-test"));

    let (result, pieces) = chat(&client, &endpoint, &conversation(true)).await;
    let completion = result.expect("the answer");
    assert_eq!(pieces, ["{\"door\": ", "\"open\"}"]);
    assert_eq!(completion.text, "{\"door\": \"open\"}");
    assert_eq!(
        completion.usage,
        Some(Usage {
            prompt_tokens: 34,
            completion_tokens: 9
        })
    );
    assert_eq!(completion.finish_reason.as_deref(), Some("end_turn"));

    let sent = &mock.received()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.headers["x-api-key"], "sk-ant-test");
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert_eq!(sent.body["max_tokens"], 1024);
    assert!(
        sent.body["system"]
            .as_str()
            .is_some_and(|system| system.starts_with("You narrate.") && system.contains("JSON")),
        "{}",
        sent.body
    );
    // No prefilled answer: the newest models refuse a conversation ending with the assistant.
    assert_eq!(
        sent.body["messages"],
        json!([{ "role": "user", "content": "Open the door." }])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ollama_streams_lines_and_reports_its_counts() {
    let stream = concat!(
        "{\"model\":\"story-model\",\"created_at\":\"2026-12-06T10:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"Dust \"},\"done\":false}\n",
        "{\"model\":\"story-model\",\"created_at\":\"2026-12-06T10:00:01Z\",\"message\":{\"role\":\"assistant\",\"content\":\"settles.\"},\"done\":false}\n",
        "{\"model\":\"story-model\",\"created_at\":\"2026-12-06T10:00:02Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":1200000,\"prompt_eval_count\":18,\"eval_count\":4}",
    );
    let client = client(RetryPolicy::default(), Timeouts::default());
    let mock = MockProvider::start(vec![Reply::stream("application/x-ndjson", stream, 13)]).await;
    let endpoint = endpoint_for(Provider::Ollama, &mock, None);
    let mut request = conversation(true);
    request.max_tokens = Some(200);

    let (result, pieces) = chat(&client, &endpoint, &request).await;
    let completion = result.expect("the answer");
    assert_eq!(pieces, ["Dust ", "settles."]);
    assert_eq!(
        completion.usage,
        Some(Usage {
            prompt_tokens: 18,
            completion_tokens: 4
        })
    );
    assert_eq!(completion.finish_reason.as_deref(), Some("stop"));

    let sent = &mock.received()[0];
    assert_eq!(sent.path, "/api/chat");
    assert!(sent.headers.get("authorization").is_none());
    assert_eq!(sent.body["format"], "json");
    assert_eq!(sent.body["options"]["num_predict"], 200);
    assert_eq!(sent.body["stream"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_provider_lists_its_models() {
    let client = client(RetryPolicy::default(), Timeouts::default());
    let cases = [
        (
            Provider::OpenAiCompatible,
            json!({ "object": "list", "data": [{ "id": "gpt-4o-mini", "object": "model" },
                                                { "id": "meta/llama", "name": "Llama" }] }),
            "/v1/models",
            vec![("gpt-4o-mini", None), ("meta/llama", Some("Llama"))],
        ),
        (
            Provider::Anthropic,
            json!({ "data": [{ "type": "model", "id": "claude-x", "display_name": "Claude X" }],
                    "has_more": false }),
            "/v1/models",
            vec![("claude-x", Some("Claude X"))],
        ),
        (
            Provider::Ollama,
            json!({ "models": [{ "name": "llama3.2:latest", "size": 2019393189 }] }),
            "/api/tags",
            vec![("llama3.2:latest", None)],
        ),
    ];
    for (provider, listing, path, expected) in cases {
        let mock = MockProvider::start(vec![Reply::json(200, listing)]).await;
        let endpoint = endpoint_for(provider, &mock, Some("key"));
        let models = client
            .list_models(&endpoint, &CancellationToken::new())
            .await
            .expect("the models");
        let got: Vec<(&str, Option<&str>)> = models
            .iter()
            .map(|m| (m.id.as_str(), m.display_name.as_deref()))
            .collect();
        assert_eq!(got, expected, "{provider:?}");
        let sent = &mock.received()[0];
        assert_eq!((sent.method.as_str(), sent.path.as_str()), ("GET", path));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_that_is_not_the_format_is_refused_not_guessed_at() {
    let client = client(RetryPolicy::default(), Timeouts::default());
    let broken = "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {not json}\n\n";
    let mock = MockProvider::start(vec![Reply::stream("text/event-stream", broken, 64)]).await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    assert!(
        matches!(result, Err(loregraph::llm::LlmError::Malformed(_))),
        "{result:?}"
    );

    // One line longer than a megabyte: refused once it passes the bound.
    let endless = format!("data: \"{}", "x".repeat(2 * 1024 * 1024));
    let mock = MockProvider::start(vec![Reply::stream(
        "text/event-stream",
        &endless,
        64 * 1024,
    )])
    .await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    assert!(
        matches!(result, Err(loregraph::llm::LlmError::Malformed(_))),
        "{result:?}"
    );
    assert_eq!(
        mock.received().len(),
        1,
        "a malformed answer is not retried"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_limited_to_public_addresses_never_calls_a_private_one() {
    let client = LlmClient::new(
        RetryPolicy::default(),
        Timeouts::default(),
        Reach::PublicOnly,
    )
    .expect("the LLM client");
    let mock =
        MockProvider::start(vec![Reply::stream("text/event-stream", OPENAI_STREAM, 64)]).await;
    let port = mock.url.rsplit(':').next().expect("a port");
    // The address written out, a name that resolves to it, and the IPv6 loopback.
    for base in [
        format!("http://127.0.0.1:{port}/v1"),
        format!("http://localhost:{port}/v1"),
        format!("http://[::1]:{port}/v1"),
    ] {
        let endpoint = Endpoint {
            base_url: base.clone(),
            ..endpoint_for(Provider::OpenAiCompatible, &mock, None)
        };
        let (result, pieces) = chat(&client, &endpoint, &conversation(false)).await;
        assert!(
            matches!(&result, Err(loregraph::llm::LlmError::Misconfigured(reason)) if reason.contains("private")),
            "{base}: {result:?}"
        );
        assert!(pieces.is_empty());
        let listed = client
            .list_models(&endpoint, &CancellationToken::new())
            .await;
        assert!(
            matches!(listed, Err(loregraph::llm::LlmError::Misconfigured(_))),
            "{base}: {listed:?}"
        );
    }
    assert!(
        mock.received().is_empty(),
        "no request reached the private address"
    );

    let ftp = Endpoint {
        base_url: "ftp://models.example.com".into(),
        ..endpoint_for(Provider::Ollama, &mock, None)
    };
    let (result, _) = chat(&client, &ftp, &conversation(false)).await;
    assert!(
        matches!(&result, Err(loregraph::llm::LlmError::Misconfigured(_))),
        "{result:?}"
    );
}
