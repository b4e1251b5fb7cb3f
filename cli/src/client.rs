//! The HTTP client of the lakeFS API: basic auth with the configured key,
//! lakectl's retries (429, 500, 503 and transport errors, with backoff),
//! and errors as the server's `{"message"}` plus its status line.

use crate::config::{Config, Retries};
use crate::error::{CliError, CliResult};
use reqwest::{header, Method, Response, StatusCode};
use serde_json::Value;
use std::time::Duration;

/// Percent-encodes one path segment (refs may hold `~`, `^`, `@`).
pub fn seg(s: &str) -> String {
    urlencoding::encode(s).into_owned()
}

/// A connection to one server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    auth: (String, String),
    retries: Retries,
}

impl Client {
    /// A client for `config`'s endpoint and credentials.
    pub fn new(config: &Config) -> CliResult<Client> {
        let auth = config.credentials()?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("tarn-cli/", env!("CARGO_PKG_VERSION")))
            .pool_max_idle_per_host(100)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| CliError::Failed(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: config.api_base(),
            auth,
            retries: config.retries,
        })
    }

    /// The API's base URL (`http://host:8000/api/v1`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The underlying HTTP client (presigned URLs: no credentials sent).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request to `path` (under the base, starting with '/').
    pub fn call(&self, method: Method, path: impl Into<String>) -> Call<'_> {
        Call {
            client: self,
            method,
            path: path.into(),
            query: Vec::new(),
            json: None,
            headers: Vec::new(),
        }
    }

    pub fn get(&self, path: impl Into<String>) -> Call<'_> {
        self.call(Method::GET, path)
    }
    pub fn post(&self, path: impl Into<String>) -> Call<'_> {
        self.call(Method::POST, path)
    }
    pub fn put(&self, path: impl Into<String>) -> Call<'_> {
        self.call(Method::PUT, path)
    }
    pub fn delete(&self, path: impl Into<String>) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    fn unreachable(&self, e: &reqwest::Error) -> CliError {
        let mut cause = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            cause = format!("{cause}: {s}");
            source = s.source();
        }
        CliError::Unreachable {
            endpoint: self.base.clone(),
            cause,
        }
    }

    /// The wait before retry `n` (0-based): doubling from the minimum,
    /// capped at the maximum.
    fn backoff(&self, n: u32) -> Duration {
        let wait = self.retries.min_wait.saturating_mul(1u32 << n.min(16));
        wait.min(self.retries.max_wait)
    }

    /// Whether the answer or error deserves another attempt.
    fn retryable(status: Option<StatusCode>) -> bool {
        match status {
            None => true,
            Some(s) => matches!(s.as_u16(), 429 | 500 | 503),
        }
    }
}

/// One request being built.
pub struct Call<'a> {
    client: &'a Client,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    json: Option<Value>,
    headers: Vec<(String, String)>,
}

impl<'a> Call<'a> {
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    pub fn json(mut self, body: Value) -> Self {
        self.json = Some(body);
        self
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    fn build(&self) -> reqwest::RequestBuilder {
        let url = format!("{}{}", self.client.base, self.path);
        let mut rb = self
            .client
            .http
            .request(self.method.clone(), url)
            .basic_auth(&self.client.auth.0, Some(&self.client.auth.1))
            .query(&self.query);
        for (k, v) in &self.headers {
            rb = rb.header(k, v);
        }
        if let Some(body) = &self.json {
            rb = rb.json(body);
        }
        rb
    }

    /// Sends with retries; any answer (error statuses included) is returned.
    pub async fn send_raw(self) -> CliResult<Response> {
        let retries = &self.client.retries;
        let attempts = if retries.enabled {
            retries.max_attempts + 1
        } else {
            1
        };
        let mut n = 0;
        loop {
            let result = self.build().send().await;
            let status = result.as_ref().ok().map(Response::status);
            n += 1;
            if n >= attempts || !Client::retryable(status) {
                return result.map_err(|e| self.client.unreachable(&e));
            }
            tokio::time::sleep(self.client.backoff(n - 1)).await;
        }
    }

    /// Sends with retries; an error status becomes `CliError::Api`.
    pub async fn send(self) -> CliResult<Response> {
        check(self.send_raw().await?).await
    }

    /// Sends with a streamed body, once (a body cannot be replayed).
    pub async fn send_body(self, body: reqwest::Body, content_type: &str) -> CliResult<Response> {
        let response = self
            .build()
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| self.client.unreachable(&e))?;
        check(response).await
    }

    /// The answer's JSON.
    pub async fn value(self) -> CliResult<Value> {
        let response = self.send().await?;
        response.json().await.map_err(|e| {
            CliError::Failed(format!("the server's answer is not the JSON expected: {e}"))
        })
    }

    /// The answer's body as text.
    pub async fn text(self) -> CliResult<String> {
        let response = self.send().await?;
        response
            .text()
            .await
            .map_err(|e| CliError::Failed(format!("reading the server's answer: {e}")))
    }

    /// Success with no body wanted.
    pub async fn ok(self) -> CliResult<()> {
        self.send().await.map(drop)
    }
}

/// An error status as `CliError::Api` with the body's message.
pub async fn check(response: Response) -> CliResult<Response> {
    let status = response.status();
    if status.is_success() || status.is_redirection() {
        return Ok(response);
    }
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().chars().take(500).collect());
    Err(CliError::Api { status, message })
}

/// Reads a paginated listing page by page (`pagination.has_more`,
/// `next_offset` as the next `after`).
pub struct Pager<'a> {
    client: &'a Client,
    path: String,
    query: Vec<(String, String)>,
    after: Option<String>,
    amount: Option<usize>,
    done: bool,
}

impl<'a> Pager<'a> {
    pub fn new(client: &'a Client, path: impl Into<String>) -> Self {
        Pager {
            client,
            path: path.into(),
            query: Vec::new(),
            after: None,
            amount: None,
            done: false,
        }
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_owned(), value.to_string()));
        self
    }

    pub fn after(mut self, after: Option<String>) -> Self {
        self.after = after.filter(|a| !a.is_empty());
        self
    }

    pub fn amount(mut self, amount: usize) -> Self {
        self.amount = Some(amount);
        self
    }

    /// The next page's results and pagination, or `None` past the last.
    pub async fn page(&mut self) -> CliResult<Option<(Vec<Value>, Value)>> {
        if self.done {
            return Ok(None);
        }
        let mut call = self.client.get(self.path.clone());
        for (k, v) in &self.query {
            call = call.query(k, v);
        }
        let call = call
            .query_opt("after", self.after.as_deref())
            .query_opt("amount", self.amount);
        let mut body = call.value().await?;
        let pagination = body["pagination"].take();
        let results = match body["results"].take() {
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        let more = pagination["has_more"].as_bool().unwrap_or(false);
        let next = pagination["next_offset"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if more && !next.is_empty() {
            self.after = Some(next);
        } else {
            self.done = true;
        }
        Ok(Some((results, pagination)))
    }

    /// Every result of every page.
    pub async fn all(mut self) -> CliResult<Vec<Value>> {
        let mut out = Vec::new();
        while let Some((mut items, _)) = self.page().await? {
            out.append(&mut items);
        }
        Ok(out)
    }
}
