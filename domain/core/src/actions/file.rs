//! Action files (`_lakefs_actions/*`), with lakeFS's schema and checks:
//! `name`, `on` (event → optional `branches` globs), `hooks` (`id`,
//! `type`, `description`, `if`, `properties`). Unknown keys are ignored,
//! as lakeFS's YAML reader does.

use super::event::HookEvent;
use super::glob;
use serde::Deserialize;
use std::collections::BTreeMap;

/// Where action files live on a reference.
pub const ACTIONS_PREFIX: &str = "_lakefs_actions/";

/// What is wrong with an action file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ActionError(pub String);

fn invalid(what: impl std::fmt::Display) -> ActionError {
    ActionError(format!("{what}: invalid action"))
}

/// A hook's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    Webhook,
    Airflow,
    Lua,
}

impl HookKind {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "webhook" => Some(Self::Webhook),
            "airflow" => Some(Self::Airflow),
            "lua" => Some(Self::Lua),
            _ => None,
        }
    }

    /// Its name in action files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Airflow => "airflow",
            Self::Lua => "lua",
        }
    }
}

/// One hook of an action.
#[derive(Debug, Clone, PartialEq)]
pub struct HookSpec {
    pub id: String,
    pub kind: HookKind,
    pub description: String,
    /// The condition (`success()`, `failure()`, `true` ...); none runs the
    /// hook only while the action has not failed.
    pub condition: Option<String>,
    /// The type's properties, as JSON.
    pub properties: serde_json::Map<String, serde_json::Value>,
}

/// A parsed, checked action.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub name: String,
    pub description: String,
    /// Each event, with its branch patterns (empty: every branch).
    pub on: BTreeMap<HookEvent, Vec<String>>,
    pub hooks: Vec<HookSpec>,
}

#[derive(Deserialize)]
struct RawAction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    on: Option<BTreeMap<String, Option<RawOn>>>,
    #[serde(default)]
    hooks: Option<Vec<RawHook>>,
}

#[derive(Deserialize)]
struct RawOn {
    #[serde(default)]
    branches: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawHook {
    #[serde(default)]
    id: Option<yaml_serde::Value>,
    #[serde(default, rename = "type")]
    kind: Option<yaml_serde::Value>,
    #[serde(default)]
    description: Option<yaml_serde::Value>,
    #[serde(default, rename = "if")]
    condition: Option<yaml_serde::Value>,
    #[serde(default)]
    properties: Option<yaml_serde::Value>,
}

/// A scalar as its text (`if: true` is the condition `true`).
fn text(v: &Option<yaml_serde::Value>) -> Option<String> {
    match v.as_ref()? {
        yaml_serde::Value::String(s) => Some(s.clone()),
        yaml_serde::Value::Bool(b) => Some(b.to_string()),
        yaml_serde::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn json_of(v: yaml_serde::Value) -> Result<serde_json::Value, ActionError> {
    serde_json::to_value(&v).map_err(|e| ActionError(format!("properties: {e}")))
}

fn name_ok(name: &str) -> bool {
    // ^\w[\w\-. ]+$
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = name.chars();
    chars.next().is_some_and(word)
        && name.len() >= 2
        && chars.all(|c| word(c) || matches!(c, '-' | '.' | ' '))
}

fn hook_id_ok(id: &str) -> bool {
    // ^[_a-zA-Z][\-_a-zA-Z0-9]{1,255}$
    let mut chars = id.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && (2..=256).contains(&id.len())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The properties each kind needs.
fn required(kind: HookKind) -> &'static [&'static str] {
    match kind {
        HookKind::Webhook => &["url"],
        HookKind::Airflow => &["url", "dag_id", "username", "password"],
        HookKind::Lua => &[],
    }
}

impl Action {
    /// Parses and checks an action file's bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, ActionError> {
        let raw: RawAction =
            yaml_serde::from_slice(bytes).map_err(|e| ActionError(format!("yaml: {e}")))?;
        let name = raw.name.unwrap_or_default();
        if name.is_empty() {
            return Err(invalid("'name' is required"));
        }
        if !name_ok(&name) {
            return Err(invalid("'name' is invalid"));
        }
        let raw_on = raw.on.unwrap_or_default();
        if raw_on.is_empty() {
            return Err(invalid("'on' is required"));
        }
        let mut on = BTreeMap::new();
        for (event_name, spec) in raw_on {
            let event = HookEvent::parse(&event_name)
                .ok_or_else(|| invalid(format!("event '{event_name}' is not supported")))?;
            let branches = spec.and_then(|s| s.branches).unwrap_or_default();
            if event.is_tag() && !branches.is_empty() {
                return Err(ActionError(
                    "'branches' is not supported in tag event types. invalid event parameter"
                        .into(),
                ));
            }
            for pattern in &branches {
                glob::matches(pattern, "").map_err(|_| {
                    invalid(format!(
                        "event '{event_name}': branch pattern {pattern:?} is malformed"
                    ))
                })?;
            }
            on.insert(event, branches);
        }
        let mut hooks: Vec<HookSpec> = Vec::new();
        for (i, h) in raw.hooks.unwrap_or_default().into_iter().enumerate() {
            let id = text(&h.id).unwrap_or_default();
            if !hook_id_ok(&id) {
                return Err(invalid(format!("hook[{i}] missing ID")));
            }
            if hooks.iter().any(|other| other.id == id) {
                return Err(invalid(format!("hook[{i}] duplicate ID '{id}'")));
            }
            let kind_name = text(&h.kind).unwrap_or_default();
            let kind = HookKind::parse(&kind_name)
                .ok_or_else(|| invalid(format!("hook[{i}] type '{kind_name}' unknown")))?;
            let properties = match h.properties {
                None | Some(yaml_serde::Value::Null) => {
                    return Err(invalid(format!(
                        "hook[{i}] type '{kind_name}': missing hook properties"
                    )))
                }
                Some(v) => match json_of(v)? {
                    serde_json::Value::Object(map) => map,
                    _ => {
                        return Err(invalid(format!(
                            "hook[{i}] type '{kind_name}': properties must be a map"
                        )))
                    }
                },
            };
            for key in required(kind) {
                if !properties.contains_key(*key) {
                    return Err(invalid(format!(
                        "hook[{i}] type '{kind_name}': '{key}' must be supplied in properties"
                    )));
                }
            }
            if kind == HookKind::Lua
                && !properties.contains_key("script")
                && !properties.contains_key("script_path")
            {
                return Err(invalid(format!(
                    "hook[{i}] type '{kind_name}': 'script' or 'script_path' must be supplied in properties"
                )));
            }
            hooks.push(HookSpec {
                id,
                kind,
                description: text(&h.description).unwrap_or_default(),
                condition: text(&h.condition).filter(|c| !c.trim().is_empty()),
                properties,
            });
        }
        Ok(Self {
            name,
            description: raw.description.unwrap_or_default(),
            on,
            hooks,
        })
    }

    /// About the bytes it holds (for caches' budgets).
    pub fn weight(&self) -> usize {
        let hooks: usize = self
            .hooks
            .iter()
            .map(|h| {
                h.id.len()
                    + h.description.len()
                    + serde_json::Value::Object(h.properties.clone())
                        .to_string()
                        .len()
                    + 64
            })
            .sum();
        let on: usize = self.on.values().flatten().map(|p| p.len() + 24).sum();
        self.name.len() + self.description.len() + hooks + on + 64
    }

    /// Whether the action runs on `event` of `branch`.
    pub fn matches(&self, event: HookEvent, branch: &str) -> bool {
        match self.on.get(&event) {
            None => false,
            Some(patterns) if patterns.is_empty() => true,
            Some(patterns) => patterns
                .iter()
                .any(|p| glob::matches(p, branch).unwrap_or(false)),
        }
    }
}

/// Parses every file of a reference's `_lakefs_actions/` (path, bytes):
/// each must be a valid action and names must be unique. The error names
/// the file.
pub fn parse_all(files: &[(String, Vec<u8>)]) -> Result<Vec<Action>, ActionError> {
    let mut out: Vec<(&str, Action)> = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let action =
            Action::parse(bytes).map_err(|e| ActionError(format!("parsing file {path}: {e}")))?;
        out.push((path, action));
    }
    check_unique_names(out.iter().map(|(p, a)| (*p, a)))?;
    Ok(out.into_iter().map(|(_, a)| a).collect())
}

/// Refuses a reference's actions (path, action) when two share a name,
/// naming the later file.
pub fn check_unique_names<'a>(
    actions: impl Iterator<Item = (&'a str, &'a Action)>,
) -> Result<(), ActionError> {
    let mut seen: Vec<&str> = Vec::new();
    for (path, action) in actions {
        if seen.contains(&action.name.as_str()) {
            return Err(ActionError(format!(
                "parsing file {path}: {}",
                invalid(format!("action name '{}' already loaded", action.name))
            )));
        }
        seen.push(&action.name);
    }
    Ok(())
}
