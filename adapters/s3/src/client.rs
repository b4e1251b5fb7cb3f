//! The SDK client: endpoint, region, credentials, TLS, retries.

use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use std::fmt;
use std::time::Duration;
use tarn_ports::{PortError, PortResult};

/// Smallest part S3 accepts (but for the last one).
const MIN_PART_SIZE: u64 = 5 << 20;
/// Part size of `put`s of unknown length, unless configured.
const DEFAULT_PART_SIZE: u64 = 8 << 20;

/// How to reach the S3 endpoint.
#[derive(Clone, Default)]
pub struct S3Settings {
    /// The endpoint URL of an S3-compatible store (`http://127.0.0.1:9000`);
    /// `None` for AWS's regional endpoints.
    pub endpoint: Option<String>,
    /// The region to sign for (`us-east-1` when empty).
    pub region: String,
    /// Address buckets in the path (`endpoint/bucket/key`) instead of as a
    /// subdomain; most S3-compatible stores need it.
    pub force_path_style: bool,
    /// A static key pair; when `None`, the standard AWS chain (environment,
    /// profile, web identity, container and instance metadata) provides one.
    pub access_key_id: Option<String>,
    /// The secret of `access_key_id`.
    pub secret_access_key: Option<String>,
    /// A session token going with a temporary key pair.
    pub session_token: Option<String>,
    /// PEM certificates to trust for TLS besides the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    /// Attempts per request, retries included (3 when 0).
    pub max_attempts: u32,
    /// Part size of uploads of unknown length (8 MiB when 0; at least 5 MiB).
    pub part_size: u64,
    /// Refuse to presign URLs (`supports_presign` is then false).
    pub disable_presign: bool,
}

impl S3Settings {
    /// The part size to use, within S3's limits.
    pub fn part_size(&self) -> u64 {
        match self.part_size {
            0 => DEFAULT_PART_SIZE,
            n => n.clamp(MIN_PART_SIZE, crate::MAX_SINGLE_REQUEST),
        }
    }
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("force_path_style", &self.force_path_style)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .field("session_token", &self.session_token.as_ref().map(|_| "***"))
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .field("max_attempts", &self.max_attempts)
            .field("part_size", &self.part_size)
            .field("disable_presign", &self.disable_presign)
            .finish()
    }
}

/// An SDK client for `settings`.
pub(crate) async fn build(settings: &S3Settings) -> PortResult<Client> {
    let mut trust = TrustStore::default();
    if let Some(pem) = &settings.ca_pem {
        trust.add_pem_certificate(pem.clone());
    }
    let tls_context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .map_err(|e| PortError::invalid_input(format!("S3 TLS settings: {e}")))?;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .tls_context(tls_context)
        .build_https();
    let region = match settings.region.as_str() {
        "" => "us-east-1".to_owned(),
        r => r.to_owned(),
    };
    let attempts = match settings.max_attempts {
        0 => 3,
        n => n,
    };
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .region(Region::new(region))
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(100)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .build(),
        )
        // A slow client of Tarn's slows the upload it streams to S3; that is
        // not a stalled connection to give up on. A download that stalls is.
        .stalled_stream_protection(
            StalledStreamProtectionConfig::enabled()
                .upload_enabled(false)
                .grace_period(Duration::from_secs(30))
                .build(),
        )
        // Checksums only where S3 demands them: many S3-compatible stores
        // refuse the aws-chunked trailers the SDK would add otherwise.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if let Some(endpoint) = &settings.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    match (&settings.access_key_id, &settings.secret_access_key) {
        (Some(id), Some(secret)) => {
            loader = loader.credentials_provider(Credentials::new(
                id,
                secret,
                settings.session_token.clone(),
                None,
                "tarn-configuration",
            ));
        }
        (None, None) => {}
        _ => {
            return Err(PortError::invalid_input(
                "S3 credentials need both an access key id and a secret access key",
            ))
        }
    }
    let shared = loader.load().await;
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(settings.force_path_style)
        .build();
    Ok(Client::from_conf(config))
}
