//! Policies: statements of effect, actions and resource (lakeFS's policy
//! language, reference §5.4), validated when built.

use super::action::ACTIONS;
use super::ids::PolicyId;
use crate::{glob_match, InvalidValue, Timestamp};

/// What a statement does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants the actions.
    Allow,
    /// Refuses the actions, whatever else allows them.
    Deny,
}

impl Effect {
    /// `allow` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
        }
    }

    /// Parses `allow` / `deny` (case-insensitively, as lakeFS).
    pub fn parse(s: &str) -> Result<Self, InvalidValue> {
        match s.to_ascii_lowercase().as_str() {
            "allow" => Ok(Self::Allow),
            "deny" => Ok(Self::Deny),
            _ => Err(InvalidValue::new(
                "policy effect",
                s,
                "must be \"allow\" or \"deny\"",
            )),
        }
    }
}

/// One rule of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    effect: Effect,
    actions: Vec<String>,
    resource: String,
}

fn validate_action(action: &str) -> Result<(), &'static str> {
    if action == "*" {
        return Ok(());
    }
    let Some((service, name)) = action.split_once(':') else {
        return Err("must be service:Action, e.g. fs:ReadObject");
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?');
    if !name_ok || service.is_empty() {
        return Err("must be service:Action, e.g. fs:ReadObject");
    }
    // A pattern must match at least one known action; typos are refused.
    if !ACTIONS.iter().any(|known| glob_match(action, known)) {
        return Err("matches no known action");
    }
    Ok(())
}

fn validate_resource(resource: &str) -> Result<(), &'static str> {
    if resource == "*" || resource.starts_with("arn:") {
        Ok(())
    } else {
        Err("must be * or an ARN (arn:lakefs:...)")
    }
}

impl Statement {
    /// A statement; each action must be a known action or a pattern matching
    /// one, the resource `*` or an ARN.
    pub fn new(
        effect: Effect,
        actions: Vec<String>,
        resource: impl Into<String>,
    ) -> Result<Self, InvalidValue> {
        let resource = resource.into();
        if actions.is_empty() {
            return Err(InvalidValue::new(
                "policy statement",
                &resource,
                "needs at least one action",
            ));
        }
        for action in &actions {
            validate_action(action)
                .map_err(|reason| InvalidValue::new("policy action", action, reason))?;
        }
        validate_resource(&resource)
            .map_err(|reason| InvalidValue::new("policy resource", &resource, reason))?;
        Ok(Self {
            effect,
            actions,
            resource,
        })
    }

    /// Allow or deny.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The action patterns.
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    /// The resource pattern (may hold `${user}`).
    pub fn resource(&self) -> &str {
        &self.resource
    }
}

/// A named list of statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The id.
    pub id: PolicyId,
    /// When it was created.
    pub created: Timestamp,
    statements: Vec<Statement>,
}

impl Policy {
    /// A policy of at least one statement.
    pub fn new(
        id: PolicyId,
        created: Timestamp,
        statements: Vec<Statement>,
    ) -> Result<Self, InvalidValue> {
        if statements.is_empty() {
            return Err(InvalidValue::new(
                "policy",
                id.as_str(),
                "needs at least one statement",
            ));
        }
        Ok(Self {
            id,
            created,
            statements,
        })
    }

    /// The statements.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acts(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn statements_validate_actions_and_resources() {
        assert!(Statement::new(Effect::Allow, acts(&["fs:ReadObject"]), "*").is_ok());
        assert!(Statement::new(
            Effect::Allow,
            acts(&["fs:Read*", "auth:*"]),
            "arn:lakefs:fs:::repository/r"
        )
        .is_ok());
        assert!(Statement::new(Effect::Allow, acts(&["*"]), "*").is_ok());
        let typo = Statement::new(Effect::Allow, acts(&["fs:ReadObjekt"]), "*").unwrap_err();
        assert_eq!(typo.kind, "policy action");
        assert!(Statement::new(Effect::Allow, acts(&["ReadObject"]), "*").is_err());
        assert!(Statement::new(Effect::Allow, acts(&["fs:"]), "*").is_err());
        assert!(Statement::new(Effect::Allow, acts(&["xx:*"]), "*").is_err());
        assert!(Statement::new(Effect::Allow, vec![], "*").is_err());
        let res = Statement::new(Effect::Deny, acts(&["fs:*"]), "repository/r").unwrap_err();
        assert_eq!(res.kind, "policy resource");
    }

    #[test]
    fn effects_parse_case_insensitively() {
        assert_eq!(Effect::parse("Allow").unwrap(), Effect::Allow);
        assert_eq!(Effect::parse("deny").unwrap(), Effect::Deny);
        assert!(Effect::parse("maybe").is_err());
    }

    #[test]
    fn policies_need_statements() {
        let id = PolicyId::new("p").unwrap();
        assert!(Policy::new(id, Timestamp::EPOCH, vec![]).is_err());
    }
}
