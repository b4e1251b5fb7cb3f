//! The auth API's wire types (lakeFS's `User`, `Group`, `Policy`,
//! `Statement`, `Credentials`), converted from and to the model.

use crate::http::api::error::{ApiError, ApiResult};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tarn_domain::auth::NewCredentials;
use tarn_model::auth::{Credential, Effect, Group, Policy, Statement, User};
use utoipa::ToSchema;

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    id: String,
    creation_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    friendly_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

impl From<User> for UserBody {
    fn from(u: User) -> Self {
        Self {
            id: u.id.into_string(),
            creation_date: u.created.unix_seconds(),
            friendly_name: u.friendly_name,
            email: u.email,
        }
    }
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupBody {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    creation_date: i64,
}

impl From<Group> for GroupBody {
    fn from(g: Group) -> Self {
        Self {
            name: g.id.as_str().to_owned(),
            id: g.id.into_string(),
            description: g.description,
            creation_date: g.created.unix_seconds(),
        }
    }
}

/// A policy statement.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatementBody {
    /// `allow` or `deny`.
    effect: String,
    /// An ARN or `*`, with `*`/`?` wildcards and `${user}`.
    resource: String,
    /// Action names or patterns, e.g. `fs:Read*`.
    action: Vec<String>,
    /// Conditions (not supported: a policy with conditions is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    condition: Option<BTreeMap<String, serde_json::Value>>,
}

impl StatementBody {
    fn into_model(self) -> ApiResult<Statement> {
        if self.condition.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err(ApiError::bad_request("policy conditions are not supported"));
        }
        Ok(Statement::new(
            Effect::parse(&self.effect)?,
            self.action,
            self.resource,
        )?)
    }
}

/// A policy.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PolicyBody {
    /// The id.
    pub id: String,
    /// Unix seconds (ignored on input).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    creation_date: Option<i64>,
    /// The statements.
    statement: Vec<StatementBody>,
}

impl PolicyBody {
    /// The statements, validated.
    pub fn statements(self) -> ApiResult<Vec<Statement>> {
        if self.statement.is_empty() {
            return Err(ApiError::bad_request(
                "a policy needs at least one statement",
            ));
        }
        self.statement
            .into_iter()
            .map(StatementBody::into_model)
            .collect()
    }
}

impl From<Policy> for PolicyBody {
    fn from(p: Policy) -> Self {
        let statement = p
            .statements()
            .iter()
            .map(|s| StatementBody {
                effect: s.effect().as_str().to_owned(),
                resource: s.resource().to_owned(),
                action: s.actions().to_vec(),
                condition: None,
            })
            .collect();
        Self {
            id: p.id.into_string(),
            creation_date: Some(p.created.unix_seconds()),
            statement,
        }
    }
}

/// An access key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialsBody {
    access_key_id: String,
    creation_date: i64,
}

impl From<Credential> for CredentialsBody {
    fn from(c: Credential) -> Self {
        Self {
            access_key_id: c.access_key_id.into_string(),
            creation_date: c.created.unix_seconds(),
        }
    }
}

/// Credentials with their secret, shown once (no `Debug`: it holds a secret).
#[derive(Serialize, ToSchema)]
pub struct CredentialsWithSecret {
    access_key_id: String,
    secret_access_key: String,
    creation_date: i64,
}

impl From<NewCredentials> for CredentialsWithSecret {
    fn from(c: NewCredentials) -> Self {
        Self {
            access_key_id: c.access_key_id.into_string(),
            secret_access_key: c.secret_access_key,
            creation_date: c.created.unix_seconds(),
        }
    }
}
