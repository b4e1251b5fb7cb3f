//! `RefStore`: repositories, branches, tags, commits and settings.

use crate::db::{db_error, prefix_upper_bound, with_conn};
use crate::rows::{
    limit, sealed_json, to_i64, BranchRow, CommitRow, LinkRow, RepositoryRow, TagRow,
};
use crate::schema::{branches, commits, repositories, repository_settings, tags};
use crate::SqlStore;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::{AsyncConnection, RunQueryDsl};
use tarn_model::{Branch, BranchName, Commit, CommitId, Repository, RepositoryId, Tag, TagName};
use tarn_ports::{
    CommitLink, ErrorKind, PortError, PortResult, RefStore, RepositoryBranch, MAX_COMMIT_SUMMARY,
};

fn repo_missing(id: &RepositoryId) -> PortError {
    PortError::not_found(format!("repository {id} not found"))
}

/// On an insert into a repository's table, a missing parent row means a
/// missing repository.
fn insert_error(e: DieselError, repo: &RepositoryId, what: impl FnOnce() -> String) -> PortError {
    let err = db_error(e);
    match err.kind() {
        ErrorKind::NotFound => repo_missing(repo),
        ErrorKind::AlreadyExists => PortError::already_exists(what()),
        _ => err,
    }
}

/// Whether the repository exists: asked only after an empty answer, to tell
/// a missing repository from a missing ref.
macro_rules! repo_exists {
    ($conn:expr, $repo:expr) => {
        diesel::select(diesel::dsl::exists(
            repositories::table.filter(repositories::id.eq($repo.as_str())),
        ))
        .get_result::<bool>($conn)
        .await
        .map_err(db_error)?
    };
}

/// `NotFound` for `what`, or for the repository if that is what is missing.
macro_rules! missing {
    ($conn:expr, $repo:expr, $what:expr) => {
        if repo_exists!($conn, $repo) {
            PortError::not_found($what)
        } else {
            repo_missing($repo)
        }
    };
}

/// One row of a repository's table by primary key, as the model; `NotFound`
/// naming `$what`, or the repository when that is what is missing.
macro_rules! get_in_repository {
    ($store:expr, $repo:expr, $table:ident, $row:ty, $key:expr, $what:expr) => {
        with_conn!(&$store.pool, conn => {
            let row: Option<$row> = $table::table
                .find(($repo.as_str(), $key.as_str()))
                .select(<$row>::as_select())
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?;
            match row {
                Some(row) => row.into_model(),
                None => Err(missing!(conn, $repo, $what)),
            }
        })
    };
}

/// A page of a repository's refs (`branches` or `tags`) by name, `NotFound`
/// when the repository is missing.
macro_rules! list_refs {
    ($store:expr, $repo:expr, $table:ident, $row:ty, $after:expr, $limit:expr) => {
        with_conn!(&$store.pool, conn => {
            let rows: Vec<$row> = $table::table
                .filter($table::repository.eq($repo.as_str()))
                .filter($table::name.gt($after))
                .order($table::name)
                .limit(limit($limit))
                .select(<$row>::as_select())
                .load(conn)
                .await
                .map_err(db_error)?;
            if rows.is_empty() && !repo_exists!(conn, $repo) {
                return Err(repo_missing($repo));
            }
            rows
        })
    };
}

#[async_trait]
impl RefStore for SqlStore {
    async fn create_repository(
        &self,
        repo: &Repository,
        initial_commit: &Commit,
        default_branch: &Branch,
    ) -> PortResult<()> {
        let repo_row = RepositoryRow::from_model(repo);
        let commit_row = CommitRow::from_model(&repo.id, initial_commit)?;
        let branch_row = BranchRow::from_model(&repo.id, default_branch)?;
        let result: Result<(), DieselError> = with_conn!(&self.pool, conn => {
            conn.transaction(async |c| {
                diesel::insert_into(repositories::table).values(&repo_row).execute(c).await?;
                diesel::insert_into(commits::table).values(&commit_row).execute(c).await?;
                diesel::insert_into(branches::table).values(&branch_row).execute(c).await?;
                Ok(())
            })
            .await
        });
        result.map_err(|e| match db_error(e) {
            e if e.kind() == ErrorKind::AlreadyExists => {
                PortError::already_exists(format!("repository {} already exists", repo.id))
            }
            e => e,
        })
    }

    async fn create_bare_repository(&self, repo: &Repository) -> PortResult<()> {
        let repo_row = RepositoryRow::from_model(repo);
        with_conn!(&self.pool, conn => {
            diesel::insert_into(repositories::table)
                .values(&repo_row)
                .execute(conn)
                .await
                .map_err(|e| match db_error(e) {
                    e if e.kind() == ErrorKind::AlreadyExists => {
                        PortError::already_exists(format!("repository {} already exists", repo.id))
                    }
                    e => e,
                })?;
        });
        Ok(())
    }

    async fn get_repository(&self, id: &RepositoryId) -> PortResult<Repository> {
        let row: Option<RepositoryRow> = with_conn!(&self.pool, conn => {
            repositories::table
                .find(id.as_str())
                .select(RepositoryRow::as_select())
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        row.ok_or_else(|| repo_missing(id))?.into_model()
    }

    async fn list_repositories(
        &self,
        after: Option<&RepositoryId>,
        limit_to: usize,
    ) -> PortResult<Vec<Repository>> {
        let after = after.map_or("", RepositoryId::as_str);
        let rows: Vec<RepositoryRow> = with_conn!(&self.pool, conn => {
            repositories::table
                .filter(repositories::id.gt(after))
                .order(repositories::id)
                .limit(limit(limit_to))
                .select(RepositoryRow::as_select())
                .load(conn)
                .await
                .map_err(db_error)?
        });
        rows.into_iter().map(RepositoryRow::into_model).collect()
    }

    async fn delete_repository(&self, id: &RepositoryId) -> PortResult<()> {
        // Branches, tags, commits and settings go with it (ON DELETE CASCADE).
        let n = with_conn!(&self.pool, conn => {
            diesel::delete(repositories::table.find(id.as_str()))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        if n == 0 {
            return Err(repo_missing(id));
        }
        Ok(())
    }

    async fn create_branch(&self, repo: &RepositoryId, branch: &Branch) -> PortResult<()> {
        let row = BranchRow::from_model(repo, branch)?;
        with_conn!(&self.pool, conn => {
            diesel::insert_into(branches::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|e| {
                    insert_error(e, repo, || format!("branch {} already exists", branch.name))
                })?
        });
        Ok(())
    }

    async fn get_branch(&self, repo: &RepositoryId, name: &BranchName) -> PortResult<Branch> {
        get_in_repository!(
            self,
            repo,
            branches,
            BranchRow,
            name,
            format!("branch {name} not found")
        )
    }

    async fn get_repository_branch(
        &self,
        repo: &RepositoryId,
        name: &BranchName,
        setting: Option<&str>,
    ) -> PortResult<RepositoryBranch> {
        // No setting has the empty key: asking for none matches no row.
        let key = setting.unwrap_or("").to_owned();
        let (branch_name, repo_name) = (name.as_str().to_owned(), repo.as_str().to_owned());
        type Found = (RepositoryRow, Option<BranchRow>, Option<String>);
        let found: Option<Found> = with_conn!(&self.pool, conn => {
            repositories::table
                .left_join(
                    branches::table.on(branches::repository
                        .eq(repositories::id)
                        .and(branches::name.eq(branch_name))),
                )
                .left_join(
                    repository_settings::table.on(repository_settings::repository
                        .eq(repositories::id)
                        .and(repository_settings::key.eq(key))),
                )
                .filter(repositories::id.eq(repo_name))
                .select((
                    RepositoryRow::as_select(),
                    Option::<BranchRow>::as_select(),
                    repository_settings::value.nullable(),
                ))
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        let (r, b, value) = found.ok_or_else(|| repo_missing(repo))?;
        Ok(RepositoryBranch {
            repository: r.into_model()?,
            branch: b.map(BranchRow::into_model).transpose()?,
            setting: value.filter(|_| setting.is_some()),
        })
    }

    async fn list_branches(
        &self,
        repo: &RepositoryId,
        after: Option<&BranchName>,
        limit_to: usize,
    ) -> PortResult<Vec<Branch>> {
        let after = after.map_or("", BranchName::as_str);
        let rows: Vec<BranchRow> = list_refs!(self, repo, branches, BranchRow, after, limit_to);
        rows.into_iter().map(BranchRow::into_model).collect()
    }

    async fn update_branch(
        &self,
        repo: &RepositoryId,
        expected: &Branch,
        new: &Branch,
    ) -> PortResult<()> {
        if expected.name != new.name {
            return Err(PortError::invalid_input(
                "a branch update cannot rename the branch",
            ));
        }
        let old = BranchRow::from_model(repo, expected)?;
        let new_sealed = sealed_json(&new.sealed_tokens)?;
        with_conn!(&self.pool, conn => {
            // The compare-and-set: one statement that matches the whole
            // expected record.
            let n = diesel::update(
                branches::table
                    .find((old.repository.as_str(), old.name.as_str()))
                    .filter(branches::commit_id.eq(&old.commit_id))
                    .filter(branches::staging_token.eq(&old.staging_token))
                    .filter(branches::sealed_tokens.eq(&old.sealed_tokens))
                    .filter(branches::hidden.eq(old.hidden)),
            )
            .set((
                branches::commit_id.eq(new.commit_id.as_str()),
                branches::staging_token.eq(new.staging_token.as_str()),
                branches::sealed_tokens.eq(&new_sealed),
                branches::hidden.eq(new.hidden),
            ))
            .execute(conn)
            .await
            .map_err(db_error)?;
            if n == 1 {
                return Ok(());
            }
            let exists = diesel::select(diesel::dsl::exists(
                branches::table.find((old.repository.as_str(), old.name.as_str())),
            ))
            .get_result::<bool>(conn)
            .await
            .map_err(db_error)?;
            if exists {
                Err(PortError::precondition_failed(format!(
                    "branch {} changed concurrently",
                    expected.name
                )))
            } else {
                Err(missing!(conn, repo, format!("branch {} not found", expected.name)))
            }
        })
    }

    async fn delete_branch(&self, repo: &RepositoryId, name: &BranchName) -> PortResult<()> {
        with_conn!(&self.pool, conn => {
            let n = diesel::delete(branches::table.find((repo.as_str(), name.as_str())))
                .execute(conn)
                .await
                .map_err(db_error)?;
            if n == 0 {
                return Err(missing!(conn, repo, format!("branch {name} not found")));
            }
            Ok(())
        })
    }

    async fn create_tag(&self, repo: &RepositoryId, tag: &Tag) -> PortResult<()> {
        let row = TagRow::from_model(repo, tag);
        with_conn!(&self.pool, conn => {
            diesel::insert_into(tags::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|e| insert_error(e, repo, || format!("tag {} already exists", tag.name)))?
        });
        Ok(())
    }

    async fn get_tag(&self, repo: &RepositoryId, name: &TagName) -> PortResult<Tag> {
        get_in_repository!(
            self,
            repo,
            tags,
            TagRow,
            name,
            format!("tag {name} not found")
        )
    }

    async fn list_tags(
        &self,
        repo: &RepositoryId,
        after: Option<&TagName>,
        limit_to: usize,
    ) -> PortResult<Vec<Tag>> {
        let after = after.map_or("", TagName::as_str);
        let rows: Vec<TagRow> = list_refs!(self, repo, tags, TagRow, after, limit_to);
        rows.into_iter().map(TagRow::into_model).collect()
    }

    async fn delete_tag(&self, repo: &RepositoryId, name: &TagName) -> PortResult<()> {
        with_conn!(&self.pool, conn => {
            let n = diesel::delete(tags::table.find((repo.as_str(), name.as_str())))
                .execute(conn)
                .await
                .map_err(db_error)?;
            if n == 0 {
                return Err(missing!(conn, repo, format!("tag {name} not found")));
            }
            Ok(())
        })
    }

    async fn put_commit(&self, repo: &RepositoryId, commit: &Commit) -> PortResult<()> {
        let row = CommitRow::from_model(repo, commit)?;
        with_conn!(&self.pool, conn => {
            diesel::insert_into(commits::table)
                .values(&row)
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(|e| insert_error(e, repo, || format!("commit {}", commit.id)))?
        });
        Ok(())
    }

    async fn put_commit_with_summary(
        &self,
        repo: &RepositoryId,
        commit: &Commit,
        summary: &[u8],
    ) -> PortResult<()> {
        if summary.len() > MAX_COMMIT_SUMMARY {
            return Err(PortError::invalid_input(format!(
                "a commit summary of {} bytes (at most {MAX_COMMIT_SUMMARY})",
                summary.len()
            )));
        }
        let row = CommitRow::from_model(repo, commit)?;
        with_conn!(&self.pool, conn => {
            diesel::insert_into(commits::table)
                .values((&row, commits::summary.eq(summary)))
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(|e| insert_error(e, repo, || format!("commit {}", commit.id)))?
        });
        Ok(())
    }

    async fn commit_links(
        &self,
        repo: &RepositoryId,
        after: Option<(u64, &CommitId)>,
        limit_to: usize,
    ) -> PortResult<Vec<CommitLink>> {
        let rows: Vec<LinkRow> = with_conn!(&self.pool, conn => {
            let mut query = commits::table
                .filter(commits::repository.eq(repo.as_str()))
                .order((commits::generation.desc(), commits::id.desc()))
                .limit(limit(limit_to))
                .select(LinkRow::as_select())
                .into_boxed();
            if let Some((generation, id)) = after {
                let generation = to_i64(generation, "generation")?;
                // The first bound alone lets the index
                // (repository, generation DESC) start the scan there.
                query = query.filter(commits::generation.le(generation)).filter(
                    commits::generation
                        .lt(generation)
                        .or(commits::id.lt(id.as_str())),
                );
            }
            let rows: Vec<LinkRow> = query.load(conn).await.map_err(db_error)?;
            if rows.is_empty() && !repo_exists!(conn, repo) {
                return Err(repo_missing(repo));
            }
            rows
        });
        rows.into_iter().map(LinkRow::into_link).collect()
    }

    async fn get_commit(&self, repo: &RepositoryId, id: &CommitId) -> PortResult<Commit> {
        get_in_repository!(
            self,
            repo,
            commits,
            CommitRow,
            id,
            format!("commit {id} not found")
        )
    }

    async fn list_commits(
        &self,
        repo: &RepositoryId,
        after: Option<&CommitId>,
        limit_to: usize,
    ) -> PortResult<Vec<Commit>> {
        let after = after.map_or("", CommitId::as_str);
        let rows: Vec<CommitRow> = with_conn!(&self.pool, conn => {
            let rows: Vec<CommitRow> = commits::table
                .filter(commits::repository.eq(repo.as_str()))
                .filter(commits::id.gt(after))
                .order(commits::id)
                .limit(limit(limit_to))
                .select(CommitRow::as_select())
                .load(conn)
                .await
                .map_err(db_error)?;
            if rows.is_empty() && !repo_exists!(conn, repo) {
                return Err(repo_missing(repo));
            }
            rows
        });
        rows.into_iter().map(CommitRow::into_model).collect()
    }

    async fn get_setting(&self, repo: &RepositoryId, key: &str) -> PortResult<Option<String>> {
        // One round trip tells a missing repository from an unset value.
        let found: Option<Option<String>> = with_conn!(&self.pool, conn => {
            repositories::table
                .left_join(
                    repository_settings::table.on(repository_settings::repository
                        .eq(repositories::id)
                        .and(repository_settings::key.eq(key))),
                )
                .filter(repositories::id.eq(repo.as_str()))
                .select(repository_settings::value.nullable())
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        found.ok_or_else(|| repo_missing(repo))
    }

    async fn list_settings(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        after: Option<&str>,
        limit_to: usize,
    ) -> PortResult<Vec<(String, String)>> {
        let upper = prefix_upper_bound(prefix);
        let start = after.filter(|a| *a >= prefix);
        let rows: Vec<(String, String)> = with_conn!(&self.pool, conn => {
            let mut query = repository_settings::table
                .filter(repository_settings::repository.eq(repo.as_str()))
                .order(repository_settings::key)
                .limit(limit(limit_to))
                .select((repository_settings::key, repository_settings::value))
                .into_boxed();
            query = match start {
                Some(a) => query.filter(repository_settings::key.gt(a)),
                None => query.filter(repository_settings::key.ge(prefix)),
            };
            if let Some(upper) = &upper {
                query = query.filter(repository_settings::key.lt(upper.as_str()));
            }
            let rows: Vec<(String, String)> = query.load(conn).await.map_err(db_error)?;
            if rows.is_empty() && !repo_exists!(conn, repo) {
                return Err(repo_missing(repo));
            }
            rows
        });
        Ok(rows)
    }

    async fn set_setting(
        &self,
        repo: &RepositoryId,
        key: &str,
        expected: Option<&str>,
        value: &str,
    ) -> PortResult<()> {
        let changed = || PortError::precondition_failed(format!("setting {key} changed"));
        with_conn!(&self.pool, conn => {
            let n = match expected {
                None => diesel::insert_into(repository_settings::table)
                    .values((
                        repository_settings::repository.eq(repo.as_str()),
                        repository_settings::key.eq(key),
                        repository_settings::value.eq(value),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await
                    .map_err(|e| insert_error(e, repo, || format!("setting {key}")))?,
                Some(old) => diesel::update(
                    repository_settings::table
                        .find((repo.as_str(), key))
                        .filter(repository_settings::value.eq(old)),
                )
                .set(repository_settings::value.eq(value))
                .execute(conn)
                .await
                .map_err(db_error)?,
            };
            if n == 0 {
                return Err(if repo_exists!(conn, repo) { changed() } else { repo_missing(repo) });
            }
            Ok(())
        })
    }

    async fn find_commits_by_prefix(
        &self,
        repo: &RepositoryId,
        prefix: &str,
        limit_to: usize,
    ) -> PortResult<Vec<CommitId>> {
        let upper = prefix_upper_bound(prefix);
        let ids: Vec<String> = with_conn!(&self.pool, conn => {
            let mut query = commits::table
                .filter(commits::repository.eq(repo.as_str()))
                .filter(commits::id.ge(prefix))
                .order(commits::id)
                .limit(limit(limit_to))
                .select(commits::id)
                .into_boxed();
            if let Some(upper) = &upper {
                query = query.filter(commits::id.lt(upper.as_str()));
            }
            let ids: Vec<String> = query.load(conn).await.map_err(db_error)?;
            if ids.is_empty() && !repo_exists!(conn, repo) {
                return Err(repo_missing(repo));
            }
            ids
        });
        ids.into_iter()
            .map(|id| CommitId::new(id).map_err(|e| crate::db::corrupt("commit id", e)))
            .collect()
    }
}
