//! Spans for slow resolvers, while traces are sent: a resolver that took at least the threshold
//! (`LOREGRAPH_OTEL_RESOLVER_THRESHOLD_MS`) gets a span `Parent.field` under its operation's.
//! The schema carries this extension only while tracing is on: with any extension,
//! async-graphql sends every field through the extension chain, which a server without traces
//! should not pay for.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};
use opentelemetry::KeyValue;
use opentelemetry::trace::SpanKind;

/// Makes the extension for each operation.
pub struct SlowResolverSpans {
    pub threshold: Duration,
}

impl ExtensionFactory for SlowResolverSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SlowResolverTimer {
            threshold: self.threshold,
        })
    }
}

struct SlowResolverTimer {
    threshold: Duration,
}

#[async_trait::async_trait]
impl Extension for SlowResolverTimer {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let (parent_type, field, path) = (info.parent_type, info.name, info.path_node);
        let began = SystemTime::now();
        let timer = Instant::now();
        let result = next.run(ctx, info).await;
        if timer.elapsed() >= self.threshold {
            crate::telemetry::finished_span(
                format!("{parent_type}.{field}"),
                SpanKind::Internal,
                began,
                SystemTime::now(),
                vec![KeyValue::new("graphql.field.path", path.to_string())],
                result.as_ref().err().map(|error| error.message.clone()),
            );
        }
        result
    }
}
