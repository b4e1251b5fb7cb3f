//! Auth rows as stored, and their conversion to and from the model. Anything
//! that does not decode is reported as corrupt, never unwrapped.

use crate::db::corrupt;
use crate::schema::{auth_credentials, auth_groups, auth_policies, auth_users};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use tarn_model::auth::{
    AccessKeyId, Credential, Effect, Group, GroupId, Policy, PolicyId, Statement, User, UserId,
};
use tarn_model::Timestamp;
use tarn_ports::{PortError, PortResult};

fn valid<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> PortResult<T> {
    r.map_err(|e| corrupt(what, e))
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_users)]
pub(crate) struct UserRow {
    pub id: String,
    pub creation_date: i64,
    pub friendly_name: Option<String>,
    pub email: Option<String>,
    pub password_hash: Option<String>,
}

impl UserRow {
    pub(crate) fn from_model(u: &User) -> Self {
        Self {
            id: u.id.as_str().to_owned(),
            creation_date: u.created.unix_micros(),
            friendly_name: u.friendly_name.clone(),
            email: u.email.clone(),
            password_hash: u.password_hash.clone(),
        }
    }

    pub(crate) fn into_model(self) -> PortResult<User> {
        Ok(User {
            id: valid(UserId::new(self.id), "user id")?,
            created: Timestamp::from_unix_micros(self.creation_date),
            friendly_name: self.friendly_name,
            email: self.email,
            password_hash: self.password_hash,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_groups)]
pub(crate) struct GroupRow {
    pub id: String,
    pub creation_date: i64,
    pub description: Option<String>,
}

impl GroupRow {
    pub(crate) fn from_model(g: &Group) -> Self {
        Self {
            id: g.id.as_str().to_owned(),
            creation_date: g.created.unix_micros(),
            description: g.description.clone(),
        }
    }

    pub(crate) fn into_model(self) -> PortResult<Group> {
        Ok(Group {
            id: valid(GroupId::new(self.id), "group id")?,
            created: Timestamp::from_unix_micros(self.creation_date),
            description: self.description,
        })
    }
}

/// One statement in the `statements` column: lakeFS's JSON shape.
#[derive(Serialize, Deserialize)]
struct StatementJson {
    effect: String,
    action: Vec<String>,
    resource: String,
}

/// A policy's statements as stored: a JSON array.
pub(crate) fn statements_json(statements: &[Statement]) -> PortResult<String> {
    let stored: Vec<StatementJson> = statements
        .iter()
        .map(|s| StatementJson {
            effect: s.effect().as_str().to_owned(),
            action: s.actions().to_vec(),
            resource: s.resource().to_owned(),
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| PortError::internal(format!("cannot encode: {e}")))
}

fn statements_from_json(s: &str) -> PortResult<Vec<Statement>> {
    let stored: Vec<StatementJson> = valid(serde_json::from_str(s), "policy statements")?;
    stored
        .into_iter()
        .map(|s| {
            let effect = valid(Effect::parse(&s.effect), "policy effect")?;
            valid(
                Statement::new(effect, s.action, s.resource),
                "policy statement",
            )
        })
        .collect()
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_policies)]
pub(crate) struct PolicyRow {
    pub id: String,
    pub creation_date: i64,
    pub statements: String,
}

impl PolicyRow {
    pub(crate) fn from_model(p: &Policy) -> PortResult<Self> {
        Ok(Self {
            id: p.id.as_str().to_owned(),
            creation_date: p.created.unix_micros(),
            statements: statements_json(p.statements())?,
        })
    }

    pub(crate) fn into_model(self) -> PortResult<Policy> {
        let id = valid(PolicyId::new(self.id), "policy id")?;
        let statements = statements_from_json(&self.statements)?;
        valid(
            Policy::new(
                id,
                Timestamp::from_unix_micros(self.creation_date),
                statements,
            ),
            "policy",
        )
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = auth_credentials)]
pub(crate) struct CredentialRow {
    pub access_key_id: String,
    pub user_id: String,
    pub sealed_secret: Vec<u8>,
    pub creation_date: i64,
}

impl CredentialRow {
    pub(crate) fn from_model(c: &Credential) -> Self {
        Self {
            access_key_id: c.access_key_id.as_str().to_owned(),
            user_id: c.user.as_str().to_owned(),
            sealed_secret: c.sealed_secret.clone(),
            creation_date: c.created.unix_micros(),
        }
    }

    pub(crate) fn into_model(self) -> PortResult<Credential> {
        Ok(Credential {
            access_key_id: valid(AccessKeyId::new(self.access_key_id), "access key id")?,
            user: valid(UserId::new(self.user_id), "user id")?,
            sealed_secret: self.sealed_secret,
            created: Timestamp::from_unix_micros(self.creation_date),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_round_trip_through_json() {
        let statements = vec![
            Statement::new(Effect::Allow, vec!["fs:Read*".into()], "*").unwrap(),
            Statement::new(
                Effect::Deny,
                vec!["fs:DeleteRepository".into(), "fs:DeleteBranch".into()],
                "arn:lakefs:fs:::repository/${user}-*",
            )
            .unwrap(),
        ];
        let json = statements_json(&statements).unwrap();
        assert!(json.starts_with(r#"[{"effect":"allow","action":["fs:Read*"],"resource":"*"}"#));
        assert_eq!(statements_from_json(&json).unwrap(), statements);
    }

    #[test]
    fn invalid_stored_statements_are_corrupt() {
        for bad in [
            "not json",
            r#"[{"effect":"maybe","action":["fs:ReadObject"],"resource":"*"}]"#,
            r#"[{"effect":"allow","action":["fs:ReadObjekt"],"resource":"*"}]"#,
            r#"[{"effect":"allow","action":[],"resource":"*"}]"#,
        ] {
            let err = statements_from_json(bad).unwrap_err();
            assert_eq!(err.kind(), tarn_ports::ErrorKind::Internal, "{bad}");
        }
        let empty = PolicyRow {
            id: "p".into(),
            creation_date: 0,
            statements: "[]".into(),
        };
        assert!(empty.into_model().is_err(), "a policy needs a statement");
    }
}
