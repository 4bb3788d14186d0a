//! The LLM layer when providers fail: rate limits and server errors are retried within the
//! bound (and `Retry-After` is honoured), a refusal is not, a stream that breaks after part of
//! the answer is reported rather than repeated, a provider that never starts answering times
//! out, and a cancelled call hangs up on the provider.

use std::time::{Duration, Instant};

use loregraph::llm::{LlmError, Provider, RetryPolicy, Timeouts};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::llm::{OPENAI_STREAM, chat, client, conversation, endpoint_for};
use crate::llm_mock::{MockProvider, Reply};

/// Three attempts, short waits: the bound is what is tested, not the waiting.
fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(2),
        max_total_wait: Duration::from_secs(5),
    }
}

fn rate_limited(retry_after: &str) -> Reply {
    Reply::json(
        429,
        json!({ "error": { "message": "Rate limit reached", "type": "requests" } }),
    )
    .header("retry-after", retry_after)
}

fn answer() -> Reply {
    Reply::stream("text/event-stream", OPENAI_STREAM, 64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_server_errors_are_retried_until_an_answer_comes() {
    let client = client(quick_policy(), Timeouts::default());
    let mock = MockProvider::start(vec![
        rate_limited("1"),
        Reply::json(502, json!({ "error": { "message": "upstream hiccup" } })),
        answer(),
    ])
    .await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, Some("key"));
    let started = Instant::now();
    let (result, pieces) = chat(&client, &endpoint, &conversation(false)).await;
    let completion = result.expect("an answer on the third attempt");
    assert_eq!(completion.attempts, 3);
    assert_eq!(completion.text, "The door creaks — open.");
    // Nothing of the failed attempts reached the caller.
    assert_eq!(pieces.concat(), completion.text);
    assert_eq!(mock.received().len(), 3);
    // The provider asked for a second's patience after the 429, and got it.
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_stop_at_the_bound() {
    let client = client(quick_policy(), Timeouts::default());

    let mock = MockProvider::start(vec![rate_limited("0")]).await;
    let endpoint = endpoint_for(Provider::Anthropic, &mock, Some("key"));
    let (result, pieces) = chat(&client, &endpoint, &conversation(false)).await;
    assert!(
        matches!(&result, Err(LlmError::RateLimited { attempts: 3, message }) if message == "Rate limit reached"),
        "{result:?}"
    );
    assert!(pieces.is_empty());
    assert_eq!(mock.received().len(), 3);

    let mock = MockProvider::start(vec![Reply::json(503, json!({ "error": "overloaded" }))]).await;
    let endpoint = endpoint_for(Provider::Ollama, &mock, None);
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    assert_eq!(
        result,
        Err(LlmError::Refused {
            status: 503,
            message: "overloaded".into()
        })
    );
    assert_eq!(mock.received().len(), 3);

    // A wait longer than the policy allows ends the retries at once.
    let mock = MockProvider::start(vec![rate_limited("3600")]).await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, Some("key"));
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    assert!(
        matches!(&result, Err(LlmError::RateLimited { attempts: 1, .. })),
        "{result:?}"
    );
    assert_eq!(mock.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_is_not_retried_and_says_why() {
    let client = client(quick_policy(), Timeouts::default());
    let mock = MockProvider::start(vec![Reply::json(
        401,
        json!({ "type": "error", "error": { "type": "authentication_error", "message": "invalid x-api-key" } }),
    )])
    .await;
    let endpoint = endpoint_for(Provider::Anthropic, &mock, Some("wrong"));
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    assert_eq!(
        result,
        Err(LlmError::Refused {
            status: 401,
            message: "invalid x-api-key".into()
        })
    );
    assert_eq!(mock.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_dropped_midway_is_reported_not_repeated() {
    let client = client(quick_policy(), Timeouts::default());
    // The first two events, then the connection ends: no finish reason, no [DONE].
    let cut = OPENAI_STREAM.find("creaks").expect("the second piece");
    let partial = &OPENAI_STREAM[..cut - 60];
    let mock = MockProvider::start(vec![Reply::stream("text/event-stream", partial, 32)]).await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let (result, pieces) = chat(&client, &endpoint, &conversation(false)).await;
    assert_eq!(pieces, ["The door "]);
    assert!(
        matches!(result, Err(LlmError::Interrupted { received: 9, .. })),
        "{result:?}"
    );
    assert_eq!(
        mock.received().len(),
        1,
        "the caller already had part of it"
    );

    // Dropped before any of the answer: nothing was lost, so it is tried again.
    let mock = MockProvider::start(vec![
        Reply::stream("text/event-stream", ": warming up\n\n", 64),
        answer(),
    ])
    .await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    assert_eq!(result.expect("the second attempt").attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_never_starts_answering_times_out() {
    let timeouts = Timeouts {
        first_piece: Duration::from_millis(300),
        ..Timeouts::default()
    };
    let policy = RetryPolicy {
        max_attempts: 2,
        ..quick_policy()
    };
    let client = client(policy, timeouts);
    let slow = answer().after(Duration::from_secs(30));
    let mock = MockProvider::start(vec![slow]).await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let (result, pieces) = chat(&client, &endpoint, &conversation(false)).await;
    assert_eq!(result, Err(LlmError::Timeout(Duration::from_millis(300))));
    assert!(pieces.is_empty());
    assert_eq!(
        mock.received().len(),
        2,
        "a slow first token is retried once, then given up"
    );
    assert!(
        mock.client_hung_up().await,
        "the waiting connection was closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_call_hangs_up_on_the_provider() {
    let client = client(quick_policy(), Timeouts::default());
    let first_piece = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Once upon\"},\"finish_reason\":null}]}\n\n";
    let mock = MockProvider::start(vec![
        Reply::stream("text/event-stream", first_piece, 1024).then_hang(),
    ])
    .await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let cancel = CancellationToken::new();
    let mut heard = Vec::new();
    let result = client
        .chat(&endpoint, &conversation(false), &cancel, |text| {
            heard.push(text.to_owned());
            // The reader has seen enough: stop the call while the provider is still talking.
            cancel.cancel();
        })
        .await;
    assert_eq!(result, Err(LlmError::Cancelled));
    assert_eq!(heard, ["Once upon"]);
    assert!(
        mock.client_hung_up().await,
        "the provider's stream was cut off"
    );
    assert_eq!(mock.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_provider_is_tried_again_and_a_web_page_is_not_a_stream() {
    let client = client(quick_policy(), Timeouts::default());
    // Anthropic's in-stream form of a 529, before any text: nothing was lost, so again.
    let overloaded = concat!(
        "event: error\n",
        "data: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    );
    let answer_events = concat!(
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Again.\"}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n",
    );
    let mock = MockProvider::start(vec![
        Reply::stream("text/event-stream", overloaded, 64),
        Reply::stream("text/event-stream", answer_events, 64),
    ])
    .await;
    let endpoint = endpoint_for(Provider::Anthropic, &mock, Some("key"));
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    let completion = result.expect("the second attempt");
    // A stream that ends after its stop reason, without message_stop, is whole.
    assert_eq!(
        (completion.text.as_str(), completion.attempts),
        ("Again.", 2)
    );

    // A 200 that is a web page (a base URL pointing at a site): said, and not tried again.
    let mock = MockProvider::start(vec![Reply::stream(
        "text/html; charset=utf-8",
        "<!doctype html><title>Welcome</title>",
        64,
    )])
    .await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let (result, _) = chat(&client, &endpoint, &conversation(false)).await;
    assert!(
        matches!(&result, Err(LlmError::Malformed(reason)) if reason.contains("text/html")),
        "{result:?}"
    );
    assert_eq!(mock.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_goes_silent_midway_is_interrupted() {
    let timeouts = Timeouts {
        idle: Duration::from_millis(300),
        ..Timeouts::default()
    };
    let client = client(quick_policy(), timeouts);
    let first_piece = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"It was\"},\"finish_reason\":null}]}\n\n";
    let mock = MockProvider::start(vec![
        Reply::stream("text/event-stream", first_piece, 1024).then_hang(),
    ])
    .await;
    let endpoint = endpoint_for(Provider::OpenAiCompatible, &mock, None);
    let (result, pieces) = chat(&client, &endpoint, &conversation(false)).await;
    assert_eq!(pieces, ["It was"]);
    assert!(
        matches!(result, Err(LlmError::Interrupted { received: 6, .. })),
        "{result:?}"
    );
    assert_eq!(mock.received().len(), 1);
    assert!(mock.client_hung_up().await);
}
