//! A client of the REST API of a quickstart `tarn`, for black-box tests.

use super::{TarnProcess, KEY, SECRET};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

/// The API of a fresh quickstart `tarn`, with a client logged in as the admin.
pub struct Api {
    /// The server.
    pub tarn: TarnProcess,
    /// An HTTP client.
    pub http: Client,
}

impl Api {
    pub async fn start() -> Self {
        Self {
            tarn: TarnProcess::quickstart().await,
            http: Client::new(),
        }
    }

    pub fn req(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.tarn.url))
            .basic_auth(KEY, Some(SECRET))
    }

    pub async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        super::api_json(&self.http, &self.tarn.url, method, path, body).await
    }

    pub async fn repo(&self, name: &str) {
        let body = json!({"name": name, "storage_namespace": super::namespace(name)});
        let (s, v) = self.json(Method::POST, "/repositories", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    pub async fn upload(&self, repo: &str, branch: &str, path: &str, data: &'static str) -> Value {
        let resp = self
            .req(
                Method::POST,
                &format!("/repositories/{repo}/branches/{branch}/objects"),
            )
            .query(&[("path", path)])
            .header("content-type", "text/plain")
            .header("x-lakefs-meta-owner", "tests")
            .body(data)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    pub async fn commit(&self, repo: &str, branch: &str, message: &str) -> Value {
        let (s, v) = self
            .json(
                Method::POST,
                &format!("/repositories/{repo}/branches/{branch}/commits"),
                Some(json!({"message": message})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    }

    /// The log of hook run `hook_run` of action run `run`.
    pub async fn hook_output(&self, repo: &str, run: &str, hook_run: &str) -> String {
        self.req(
            Method::GET,
            &format!("/repositories/{repo}/actions/runs/{run}/hooks/{hook_run}/output"),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
    }
}
