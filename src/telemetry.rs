//! OpenTelemetry traces, sent over OTLP/HTTP (protobuf) to the collector the standard `OTEL_*`
//! variables name. Off unless `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (and `OTEL_SDK_DISABLED` is not `true`).
//!
//! Spans: each HTTP request (the `request` span of the request log, a SERVER span continuing
//! the caller's W3C `traceparent`, whose own `traceparent` goes back in the response), each
//! GraphQL operation (named by the operation), each resolver that took longer than
//! `LOREGRAPH_OTEL_RESOLVER_THRESHOLD_MS` (10 ms; a schema extension that exists only while
//! tracing is on, so a server without traces pays nothing), and each SQL statement (its text
//! without its bound values). The tracing spans reach OpenTelemetry through
//! `tracing-opentelemetry`; resolver and SQL spans are known only once they end, so they are
//! made with the OpenTelemetry API with their real start and end times. Calls to Stripe and to
//! Ollama carry the current span's `traceparent` ([`outgoing_headers`]).
//!
//! The exporter is ours (a few lines over `opentelemetry-proto`'s encoding and the reqwest client
//! the server already has): the SDK's batch processor calls it from its own thread, so each
//! export is sent from the runtime it was built on.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanData, SpanExporter};
use prost::Message as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// Resolvers faster than this get no span of their own.
const DEFAULT_RESOLVER_THRESHOLD: Duration = Duration::from_millis(10);
/// The longest SQL text a statement's span carries.
const MAX_STATEMENT_CHARS: usize = 2048;

/// What every part of the server needs once tracing is on: the tracer its explicit spans are
/// made with, and the resolver threshold. Unset while tracing is off.
struct Active {
    tracer: SdkTracer,
    resolver_threshold: Duration,
}

static ACTIVE: OnceLock<Active> = OnceLock::new();

/// Whether traces are being sent (spans cost nothing when they are not).
pub fn enabled() -> bool {
    ACTIVE.get().is_some()
}

/// The tracer provider, while traces are being sent: shut it down at exit to send what is left.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Telemetry {
    /// Tracing as the `OTEL_*` variables describe it, or `None` when they do not turn it on.
    /// Must run inside the tokio runtime the exports are to be sent from. A protocol other
    /// than `http/protobuf` is refused.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            return Ok(None);
        }
        let url = match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(url), _) => url,
            (None, Some(base)) => format!("{}/v1/traces", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        let protocol = var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .unwrap_or_else(|| "http/protobuf".into());
        if protocol != "http/protobuf" {
            bail!(
                "OTEL_EXPORTER_OTLP_PROTOCOL `{protocol}` is not supported: loregraph sends traces \
                 over OTLP/HTTP as protobuf (`http/protobuf`)"
            );
        }
        let timeout = var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .or_else(|| var("OTEL_EXPORTER_OTLP_TIMEOUT"))
            .map(|ms| {
                ms.parse::<u64>()
                    .context("OTEL_EXPORTER_OTLP_TIMEOUT is in milliseconds")
            })
            .transpose()?
            .map_or(Duration::from_secs(10), Duration::from_millis);
        let headers = var("OTEL_EXPORTER_OTLP_TRACES_HEADERS")
            .or_else(|| var("OTEL_EXPORTER_OTLP_HEADERS"))
            .map(|list| parse_headers(&list))
            .transpose()?
            .unwrap_or_default();
        let resolver_threshold = var("LOREGRAPH_OTEL_RESOLVER_THRESHOLD_MS")
            .map(|ms| {
                ms.parse::<u64>()
                    .context("LOREGRAPH_OTEL_RESOLVER_THRESHOLD_MS is in milliseconds")
            })
            .transpose()?
            .map_or(DEFAULT_RESOLVER_THRESHOLD, Duration::from_millis);
        let exporter = OtlpHttpExporter {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .context("building the OTLP client")?,
            url,
            headers,
            runtime: tokio::runtime::Handle::try_current()
                .context("traces are set up inside the runtime")?,
            resource: ResourceAttributesWithSchema::default(),
        };
        // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the resource's own
        // detectors; without them the service is `loregraph`, not `unknown_service`.
        let mut resource = Resource::builder();
        if var("OTEL_SERVICE_NAME").is_none()
            && !var("OTEL_RESOURCE_ATTRIBUTES").is_some_and(|a| a.contains("service.name="))
        {
            resource = resource.with_service_name("loregraph");
        }
        // The sampler (OTEL_TRACES_SAMPLER, _ARG) and the batching (OTEL_BSP_*) come from the
        // SDK's own reading of the environment.
        let provider = SdkTracerProvider::builder()
            .with_resource(resource.build())
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer("loregraph");
        let _ = ACTIVE.set(Active {
            tracer,
            resolver_threshold,
        });
        Ok(Some(Self { provider }))
    }

    /// The layer that turns the server's tracing spans (at INFO and above, whatever `RUST_LOG`
    /// lets into the log) into OpenTelemetry spans.
    pub fn layer<S>(&self) -> impl Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        let tracer = self.provider.tracer("loregraph");
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("loregraph", tracing::Level::INFO),
            )
    }

    /// Sends the spans still waiting and stops. Blocks: call it off the async workers, while
    /// the runtime still runs (the exports are sent from it).
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("warning: the last traces could not be sent: {error}");
        }
    }
}

/// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value` pairs separated by commas, values URL-encoded.
fn parse_headers(list: &str) -> anyhow::Result<reqwest::header::HeaderMap> {
    let mut headers = reqwest::header::HeaderMap::new();
    for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .with_context(|| format!("OTEL_EXPORTER_OTLP_HEADERS: `{pair}` is not key=value"))?;
        // Values are URL-encoded (the W3C baggage format the variable uses).
        let value = percent_encoding::percent_decode_str(value.trim()).decode_utf8_lossy();
        headers.insert(
            reqwest::header::HeaderName::from_bytes(key.trim().as_bytes())
                .with_context(|| format!("OTEL_EXPORTER_OTLP_HEADERS: bad header name `{key}`"))?,
            reqwest::header::HeaderValue::from_str(&value)
                .with_context(|| format!("OTEL_EXPORTER_OTLP_HEADERS: bad value for `{key}`"))?,
        );
    }
    Ok(headers)
}

/// Sends batches of spans as `ExportTraceServiceRequest`s to the collector's `/v1/traces`.
#[derive(Debug)]
struct OtlpHttpExporter {
    client: reqwest::Client,
    url: String,
    headers: reqwest::header::HeaderMap,
    runtime: tokio::runtime::Handle,
    resource: ResourceAttributesWithSchema,
}

impl SpanExporter for OtlpHttpExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        };
        let sending = self
            .client
            .post(&self.url)
            .headers(self.headers.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/x-protobuf")
            .body(request.encode_to_vec());
        // The batch processor runs this on its own thread, outside the runtime: the request
        // goes out from the runtime, and its answer comes back through the join handle.
        let sent = self.runtime.spawn(async move {
            let response = sending.send().await?;
            response.error_for_status().map(drop)
        });
        async move {
            match sent.await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(OTelSdkError::InternalFailure(format!(
                    "sending traces: {error}"
                ))),
                Err(error) => Err(OTelSdkError::InternalFailure(error.to_string())),
            }
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = ResourceAttributesWithSchema::from(resource);
    }
}

/// The caller's trace context from a request's `traceparent` (and `tracestate`).
pub fn continue_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    struct Headers<'h>(&'h axum::http::HeaderMap);
    impl Extractor for Headers<'_> {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).and_then(|value| value.to_str().ok())
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(|name| name.as_str()).collect()
        }
    }
    if !enabled() {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

/// Writes `span`'s own `traceparent` into a response's headers, so a caller can find its
/// request's trace.
pub fn answer_with_trace(span: &tracing::Span, headers: &mut axum::http::HeaderMap) {
    if enabled() {
        let mut injector = HeaderInjector(headers);
        TraceContextPropagator::new().inject_context(&span.context(), &mut injector);
    }
}

/// The headers that carry the current span's trace to a service we call (Stripe, Ollama):
/// its `traceparent`, while tracing is on; none otherwise.
pub fn outgoing_headers() -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    if enabled() {
        let current = tracing::Span::current().context();
        TraceContextPropagator::new().inject_context(&current, &mut HeaderInjector(&mut headers));
    }
    headers
}

/// Writes propagation fields into HTTP headers.
struct HeaderInjector<'h>(&'h mut axum::http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(key.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The span a GraphQL operation runs in (`query WhoAmI`), while tracing is on.
pub fn operation_span(
    kind: Option<async_graphql::parser::types::OperationType>,
    name: Option<&str>,
) -> tracing::Span {
    if !enabled() {
        return tracing::Span::none();
    }
    let kind = kind.map_or("operation", |kind| match kind {
        async_graphql::parser::types::OperationType::Query => "query",
        async_graphql::parser::types::OperationType::Mutation => "mutation",
        async_graphql::parser::types::OperationType::Subscription => "subscription",
    });
    let name = name.unwrap_or("");
    let title = if name.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind} {name}")
    };
    tracing::info_span!(
        "graphql",
        otel.name = %title,
        graphql.operation.type = kind,
        graphql.operation.name = name,
    )
}

/// The threshold above which a resolver gets a span, while tracing is on.
pub fn resolver_threshold() -> Option<Duration> {
    ACTIVE.get().map(|active| active.resolver_threshold)
}

/// A span that ended already (a slow resolver, an SQL statement), under the current tracing
/// span.
pub fn finished_span(
    name: String,
    kind: SpanKind,
    started: SystemTime,
    ended: SystemTime,
    attributes: Vec<KeyValue>,
    failed: Option<String>,
) {
    let Some(active) = ACTIVE.get() else {
        return;
    };
    let parent: Context = tracing::Span::current().context();
    // Only inside a traced request: the statements of background work (sweeps, the asset
    // queue, health probes) would each be a trace of one span, forever.
    if !parent.span().span_context().is_valid() {
        return;
    }
    let mut span = active
        .tracer
        .span_builder(name)
        .with_kind(kind)
        .with_start_time(started)
        .with_attributes(attributes)
        .start_with_context(&active.tracer, &parent);
    if let Some(message) = failed {
        span.set_status(Status::error(message));
    }
    span.end_with_timestamp(ended);
}

/// An SQL statement's span: named by its first word (SELECT, INSERT...), with its text up to
/// the bound values (which diesel's debug form appends after `-- binds:`; they are data, never
/// sent).
pub fn sql_statement(text: &str, started: SystemTime, ended: SystemTime, failed: Option<String>) {
    let statement = text
        .split_once("-- binds:")
        .map_or(text, |(sql, _)| sql)
        .trim();
    let statement: String = statement.chars().take(MAX_STATEMENT_CHARS).collect();
    let verb = statement
        .split_whitespace()
        .next()
        .unwrap_or("SQL")
        .to_ascii_uppercase();
    finished_span(
        verb,
        SpanKind::Client,
        started,
        ended,
        vec![
            KeyValue::new("db.system.name", "postgresql"),
            KeyValue::new("db.query.text", statement),
        ],
        failed,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otlp_headers_are_read_as_the_specification_writes_them() {
        let headers = parse_headers("api-key=secret%20one, x-tenant = a%3Db").unwrap();
        assert_eq!(headers["api-key"], "secret one");
        assert_eq!(headers["x-tenant"], "a=b");
        assert!(parse_headers("no-equals-sign").is_err());
    }
}
