//! Repository metadata: a user's key-value labels on a repository, kept as
//! one repository setting (a JSON object) updated by compare-and-set.

use crate::error::{Error, Result};
use crate::Engine;
use std::collections::BTreeMap;
use tarn_model::RepositoryId;

const REPOSITORY_METADATA: &str = "repository_metadata";

/// The most keys a repository's metadata holds.
const MAX_KEYS: usize = 1000;

fn decode(stored: Option<&str>) -> Result<BTreeMap<String, String>> {
    match stored {
        None => Ok(BTreeMap::new()),
        Some(s) => serde_json::from_str(s).map_err(|e| {
            Error::Internal(tarn_ports::PortError::internal(format!(
                "repository metadata is not a JSON object of strings: {e}"
            )))
        }),
    }
}

fn encode(map: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(map).map_err(|e| {
        Error::Internal(tarn_ports::PortError::internal(format!(
            "repository metadata: {e}"
        )))
    })
}

impl Engine {
    /// The repository's metadata.
    pub async fn repository_metadata(
        &self,
        repo: &RepositoryId,
    ) -> Result<BTreeMap<String, String>> {
        decode(
            self.read_setting(repo, REPOSITORY_METADATA)
                .await?
                .as_deref(),
        )
    }

    /// Sets the keys of `values`, keeping the others (as lakeFS).
    pub async fn set_repository_metadata(
        &self,
        repo: &RepositoryId,
        values: BTreeMap<String, String>,
    ) -> Result<()> {
        if let Some(k) = values.keys().find(|k| k.is_empty()) {
            return Err(Error::invalid(
                "metadata",
                format!("{k:?}: keys are non-empty"),
            ));
        }
        self.update_setting(repo, REPOSITORY_METADATA, |stored| {
            let mut map = decode(stored)?;
            map.extend(values.iter().map(|(k, v)| (k.clone(), v.clone())));
            if map.len() > MAX_KEYS {
                return Err(Error::invalid(
                    "metadata",
                    format!("a repository holds at most {MAX_KEYS} metadata keys"),
                ));
            }
            Ok((Some(encode(&map)?), ()))
        })
        .await
    }

    /// Removes `keys` (missing ones are ignored).
    pub async fn delete_repository_metadata(
        &self,
        repo: &RepositoryId,
        keys: &[String],
    ) -> Result<()> {
        self.update_setting(repo, REPOSITORY_METADATA, |stored| {
            let mut map = decode(stored)?;
            let before = map.len();
            for k in keys {
                map.remove(k);
            }
            let next = (map.len() != before).then(|| encode(&map)).transpose()?;
            Ok((next, ()))
        })
        .await
    }
}
