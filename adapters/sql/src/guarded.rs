//! `StagingStore::put_many_on_branch`: a batch staged only while its token
//! is the branch's, in one transaction that holds the branch still.
//!
//! PostgreSQL reads the branch `FOR SHARE`: a commit's seal (an `UPDATE` of
//! the row) waits until the batch committed, and one that committed first
//! is what the read returns. SQLite runs the read and the inserts in one
//! `IMMEDIATE` transaction: writers are serialized, so no seal comes
//! between them. Locks are taken branch first, then staging rows in key
//! order; nothing takes them the other way round (a seal updates only the
//! branch, dropping a token deletes only staging rows).

use crate::db::{db_error, Pool};
use crate::group_commit::{upsert_pg, upsert_sqlite};
use crate::rows::{BranchRow, StagingRow};
use crate::schema::branches;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use tarn_model::{BranchName, RepositoryId, StagingToken};
use tarn_ports::{Guarded, PortError, PortResult};

/// What the transaction found.
enum Found {
    Missing,
    Moved(BranchRow),
    Staged,
}

/// Upserts `rows` (all under `token`) iff `token` is branch `name`'s
/// staging token, in one transaction with the branch held.
pub(crate) async fn write_on_branch(
    pool: &Pool,
    rows: Vec<StagingRow>,
    token: &StagingToken,
    (repo, name): (&RepositoryId, &BranchName),
) -> PortResult<Guarded> {
    let key = (repo.as_str().to_owned(), name.as_str().to_owned());
    let token = token.as_str().to_owned();
    let found = match pool {
        Pool::Pg(p) => {
            let mut conn = p.get().await.map_err(crate::db::pool_error)?;
            // READ COMMITTED whatever the server's default: FOR SHARE must
            // wait for a seal under way and then read it, not fail.
            conn.build_transaction()
                .read_committed()
                .run(async |c| {
                    let branch: Option<BranchRow> = branches::table
                        .find((key.0.as_str(), key.1.as_str()))
                        .select(BranchRow::as_select())
                        .for_share()
                        .first(c)
                        .await
                        .optional()?;
                    match branch {
                        None => Ok(Found::Missing),
                        Some(b) if b.staging_token != token => Ok(Found::Moved(b)),
                        Some(_) => {
                            upsert_pg(c, &rows).await?;
                            Ok::<_, diesel::result::Error>(Found::Staged)
                        }
                    }
                })
                .await
                .map_err(db_error)?
        }
        Pool::Sqlite(p) => {
            let mut conn = p.get().await.map_err(crate::db::pool_error)?;
            conn.spawn_blocking(move |c| {
                c.immediate_transaction(|c| {
                    let branch: Option<BranchRow> = diesel::RunQueryDsl::first(
                        branches::table
                            .find((key.0.as_str(), key.1.as_str()))
                            .select(BranchRow::as_select()),
                        c,
                    )
                    .optional()?;
                    match branch {
                        None => Ok(Found::Missing),
                        Some(b) if b.staging_token != token => Ok(Found::Moved(b)),
                        Some(_) => {
                            for row in &rows {
                                upsert_sqlite(c, row)?;
                            }
                            Ok::<_, diesel::result::Error>(Found::Staged)
                        }
                    }
                })
            })
            .await
            .map_err(db_error)?
        }
    };
    match found {
        Found::Staged => Ok(Guarded::Staged),
        Found::Moved(b) => Ok(Guarded::Moved(b.into_model()?)),
        Found::Missing => Err(PortError::not_found(format!("branch {name} not found"))),
    }
}
