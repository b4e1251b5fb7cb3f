//! `StagingStore`: one row per (token, path); scans walk the primary key.

use crate::db::{db_error, pool_error, prefix_upper_bound, with_conn, Pool};
use crate::rows::{limit, staged_value, staging_entry, StagingRow};
use crate::schema::staging;
use crate::SqlStore;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use std::collections::BTreeMap;
use tarn_model::{ObjectPath, StagedValue, StagingToken};
use tarn_ports::{PortResult, StagingEntry, StagingStore};

/// Rows per INSERT of `put_many`: 3 parameters a row stays well under both
/// backends' limits on bound parameters.
const BATCH: usize = 4096;

#[async_trait]
impl StagingStore for SqlStore {
    async fn put(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
        value: &StagedValue,
    ) -> PortResult<()> {
        let row = StagingRow::from_model(token, path, value);
        with_conn!(&self.pool, conn => {
            diesel::insert_into(staging::table)
                .values(&row)
                .on_conflict((staging::token, staging::path))
                .do_update()
                .set(staging::entry.eq(excluded(staging::entry)))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        Ok(())
    }

    async fn put_many(&self, token: &StagingToken, entries: &[StagingEntry]) -> PortResult<()> {
        // One statement may not touch a row twice: the last value of a path wins,
        // as it would with one `put` each.
        let mut last = BTreeMap::new();
        for (path, value) in entries {
            last.insert(path.as_str(), (path, value));
        }
        let rows: Vec<StagingRow> = last
            .into_values()
            .map(|(path, value)| StagingRow::from_model(token, path, value))
            .collect();
        match &self.pool {
            Pool::Pg(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                for chunk in rows.chunks(BATCH) {
                    diesel::insert_into(staging::table)
                        .values(chunk)
                        .on_conflict((staging::token, staging::path))
                        .do_update()
                        .set(staging::entry.eq(excluded(staging::entry)))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_error)?;
                }
            }
            // diesel cannot batch an upsert on SQLite; an embedded database
            // has no round trips to save, so one transaction of single-row
            // upserts on the blocking pool does the same.
            Pool::Sqlite(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                conn.spawn_blocking(move |c| {
                    c.transaction(|c| {
                        for row in &rows {
                            diesel::RunQueryDsl::execute(
                                diesel::insert_into(staging::table)
                                    .values(row)
                                    .on_conflict((staging::token, staging::path))
                                    .do_update()
                                    .set(staging::entry.eq(excluded(staging::entry))),
                                c,
                            )?;
                        }
                        Ok(())
                    })
                })
                .await
                .map_err(db_error)?;
            }
        }
        Ok(())
    }

    async fn get(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
    ) -> PortResult<Option<StagedValue>> {
        let found: Option<Option<Vec<u8>>> = with_conn!(&self.pool, conn => {
            staging::table
                .find((token.as_str(), path.as_str()))
                .select(staging::entry)
                .first(conn)
                .await
                .optional()
                .map_err(db_error)?
        });
        found.map(staged_value).transpose()
    }

    async fn delete(&self, token: &StagingToken, path: &ObjectPath) -> PortResult<()> {
        with_conn!(&self.pool, conn => {
            diesel::delete(staging::table.find((token.as_str(), path.as_str())))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        Ok(())
    }

    async fn scan(
        &self,
        token: &StagingToken,
        prefix: &str,
        after: Option<&ObjectPath>,
        limit_to: usize,
    ) -> PortResult<Vec<StagingEntry>> {
        let upper = prefix_upper_bound(prefix);
        let rows: Vec<(String, Option<Vec<u8>>)> = with_conn!(&self.pool, conn => {
            let mut query = staging::table
                .filter(staging::token.eq(token.as_str()))
                .order(staging::path)
                .limit(limit(limit_to))
                .select((staging::path, staging::entry))
                .into_boxed();
            // One lower bound, the tighter: SQLite seeks the index on one of
            // two bounds only, and paging from the first would be quadratic.
            query = match after {
                Some(after) if after.as_str() >= prefix => {
                    query.filter(staging::path.gt(after.as_str()))
                }
                _ => query.filter(staging::path.ge(prefix)),
            };
            if let Some(upper) = &upper {
                query = query.filter(staging::path.lt(upper.as_str()));
            }
            query.load(conn).await.map_err(db_error)?
        });
        rows.into_iter().map(staging_entry).collect()
    }

    async fn drop_prefix(&self, token: &StagingToken, prefix: &str) -> PortResult<()> {
        let upper = prefix_upper_bound(prefix);
        with_conn!(&self.pool, conn => {
            let in_token = staging::table
                .filter(staging::token.eq(token.as_str()))
                .filter(staging::path.ge(prefix));
            match &upper {
                Some(upper) => diesel::delete(in_token.filter(staging::path.lt(upper.as_str())))
                    .execute(conn)
                    .await
                    .map_err(db_error)?,
                None => diesel::delete(in_token).execute(conn).await.map_err(db_error)?,
            }
        });
        Ok(())
    }
}
