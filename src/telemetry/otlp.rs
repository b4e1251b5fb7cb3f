//! Span export over OTLP/HTTP (protobuf) to an OpenTelemetry collector,
//! when `tracing.otlp_endpoint` is set. tracing-opentelemetry turns every
//! span the filter `tracing.filter` lets through into an OpenTelemetry span;
//! the SDK batches them on a thread of its own and exports them through
//! [`ExportClient`]. Spans are dropped, never queued without bound, when the
//! collector cannot keep up (the SDK's batch queue is bounded).

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use std::time::Duration;

/// How long one export may take.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// The collector's traces URL: `endpoint` as given when it has a path, else
/// with OTLP's `/v1/traces` added.
pub(super) fn traces_url(endpoint: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(endpoint)
        .map_err(|e| format!("tracing.otlp_endpoint {endpoint:?} is no URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "tracing.otlp_endpoint {endpoint:?}: OTLP/HTTP needs an http:// or https:// URL"
        ));
    }
    Ok(match url.path() {
        "" | "/" => format!("{}/v1/traces", endpoint.trim_end_matches('/')),
        _ => endpoint.to_owned(),
    })
}

/// The provider exporting to `endpoint` as `service_name`; spans from its
/// tracer go out in batches until [`SdkTracerProvider::shutdown`].
pub(super) fn provider(endpoint: &str, service_name: &str) -> Result<SdkTracerProvider, String> {
    let url = traces_url(endpoint)?;
    let client = ExportClient::new().map_err(|e| format!("OTLP export: {e}"))?;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_endpoint(url)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| format!("OTLP export: {e}"))?;
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build())
}

/// The tracer of `provider`, for the tracing layer.
pub(super) fn tracer(provider: &SdkTracerProvider) -> opentelemetry_sdk::trace::Tracer {
    provider.tracer("tarn")
}

/// The exporter's HTTP client: the binary's reqwest, driven by a runtime of
/// its own (the SDK exports from its own thread, outside the server's
/// runtime, and waits on each export).
#[derive(Debug)]
pub(super) struct ExportClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl ExportClient {
    fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let http = reqwest::Client::builder()
            .timeout(EXPORT_TIMEOUT)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self { http, runtime })
    }
}

#[async_trait::async_trait]
impl HttpClient for ExportClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let http = self.http.clone();
        self.runtime.block_on(async move {
            let answer = http.execute(request).await?;
            let mut response = Response::builder().status(answer.status());
            if let Some(headers) = response.headers_mut() {
                *headers = answer.headers().clone();
            }
            let body = answer.bytes().await?;
            Ok(response.body(body)?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    #[test]
    fn the_traces_path_is_added_to_a_bare_endpoint_only() {
        let url = |e: &str| traces_url(e).unwrap();
        assert_eq!(
            url("http://127.0.0.1:4318"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            url("http://127.0.0.1:4318/"),
            "http://127.0.0.1:4318/v1/traces"
        );
        assert_eq!(
            url("https://c.example/otlp/v1/traces"),
            "https://c.example/otlp/v1/traces"
        );
        assert!(traces_url("127.0.0.1:4318").is_err());
        assert!(traces_url("grpc://127.0.0.1:4317")
            .unwrap_err()
            .contains("http://"));
    }
}
