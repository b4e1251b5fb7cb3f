//! A server with users of every built-in kind, for the RBAC tests: `admin`
//! (the quickstart user), `viewer` (Viewers), `developer` (Developers) and
//! `outsider` (Developers, denied everything on repository `secret`).
//! Repositories `open` and `secret` each hold `data/a.txt` on `main`.

use super::api::Api;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A user and its access keys.
#[derive(Debug, Clone)]
pub struct Who {
    /// The user id.
    pub name: &'static str,
    /// Its access key id.
    pub key: String,
    /// Its secret.
    pub secret: String,
    /// A second access key id, for tests that delete one.
    pub spare_key: String,
}

/// The server and its users.
pub struct World {
    /// The admin's API client (and the server).
    pub api: Api,
    /// viewer, developer, outsider, admin.
    pub users: Vec<Who>,
    /// A commit of repository `open`.
    pub commit: String,
}

impl World {
    /// The user named `name`.
    pub fn who(&self, name: &str) -> &Who {
        self.users.iter().find(|w| w.name == name).unwrap()
    }

    /// Calls the API as `who` (or anonymously).
    pub async fn call(
        &self,
        who: Option<&Who>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let key = who.map(|w| (w.key.as_str(), w.secret.as_str()));
        let url = &self.api.tarn.url;
        super::api_json_as(&self.api.http, url, key, method, path, body).await
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.api.json(method.clone(), path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }

    async fn credentials(&self, user: &str) -> (String, String) {
        let v = self
            .admin(
                Method::POST,
                &format!("/auth/users/{user}/credentials"),
                None,
            )
            .await;
        (
            v["access_key_id"].as_str().unwrap().to_owned(),
            v["secret_access_key"].as_str().unwrap().to_owned(),
        )
    }

    /// Starts a server (extra environment in `env`) and sets everything up.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let api = Api {
            tarn: super::TarnProcess::quickstart_with(env).await,
            http: reqwest::Client::new(),
        };
        let mut world = World {
            api,
            users: Vec::new(),
            commit: String::new(),
        };
        for repo in ["open", "secret"] {
            world.api.repo(repo).await;
            world.api.upload(repo, "main", "data/a.txt", "hello").await;
            let c = world.api.commit(repo, "main", "seed").await;
            if repo == "open" {
                world.commit = c["id"].as_str().unwrap().to_owned();
            }
        }
        for branch in ["dev", "doomed-branch"] {
            let body = json!({"name": branch, "source": "main"});
            world
                .admin(Method::POST, "/repositories/open/branches", Some(body))
                .await;
        }
        let tag = json!({"id": "doomed-tag", "ref": "main"});
        world
            .admin(Method::POST, "/repositories/open/tags", Some(tag))
            .await;
        for (user, group) in [
            ("viewer", "Viewers"),
            ("developer", "Developers"),
            ("outsider", "Developers"),
            ("spare", "Viewers"),
            ("doomed-user", "Viewers"),
        ] {
            world
                .admin(Method::POST, "/auth/users", Some(json!({"id": user})))
                .await;
            world
                .admin(
                    Method::PUT,
                    &format!("/auth/groups/{group}/members/{user}"),
                    None,
                )
                .await;
        }
        for group in ["spare-group", "doomed-group"] {
            world
                .admin(Method::POST, "/auth/groups", Some(json!({"id": group})))
                .await;
        }
        let deny = json!({"id": "DenySecret", "statement": [
            {"effect": "deny", "action": ["*"], "resource": "arn:lakefs:fs:::repository/secret*"}]});
        world
            .admin(Method::POST, "/auth/policies", Some(deny))
            .await;
        world
            .admin(
                Method::PUT,
                "/auth/users/outsider/policies/DenySecret",
                None,
            )
            .await;
        let doomed = json!({"id": "doomed-policy", "statement": [
            {"effect": "allow", "action": ["fs:ReadObject"], "resource": "*"}]});
        world
            .admin(Method::POST, "/auth/policies", Some(doomed))
            .await;
        for name in ["viewer", "developer", "outsider"] {
            let (key, secret) = world.credentials(name).await;
            let (spare_key, _) = world.credentials(name).await;
            world.users.push(Who {
                name,
                key,
                secret,
                spare_key,
            });
        }
        let (spare_key, _) = world.credentials("quickstart").await;
        world.users.push(Who {
            name: "quickstart",
            key: super::KEY.to_owned(),
            secret: super::SECRET.to_owned(),
            spare_key,
        });
        world
    }
}
