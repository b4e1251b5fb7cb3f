//! `StagingStore`: one row per (token, path); scans walk the primary key.

use crate::db::{db_error, prefix_upper_bound, with_conn, Pool};
use crate::rows::{limit, staged_value, staging_entry, StagingRow};
use crate::schema::staging;
use crate::SqlStore;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Binary, Integer, Nullable, Text};
use diesel_async::RunQueryDsl;
use std::collections::BTreeMap;
use tarn_model::{Branch, BranchName, ObjectPath, RepositoryId, StagedValue, StagingToken};
use tarn_ports::{
    after_prefix, folder_of, Guarded, PortError, PortResult, StagingEntry, StagingStore,
};

/// Rows per transaction of `put_many`: 3 parameters a row stays well under
/// both backends' limits on bound parameters, and a call of up to this many
/// is all or nothing, as the port asks.
const BATCH: usize = tarn_ports::PUT_MANY_ATOMIC;

#[async_trait]
impl StagingStore for SqlStore {
    async fn put(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
        value: &StagedValue,
    ) -> PortResult<()> {
        let row = StagingRow::from_model(token, path, value);
        self.staging_writes
            .put(&self.pool, row, None)
            .await
            .map(|_| ())
    }

    async fn put_and_read_branch(
        &self,
        token: &StagingToken,
        path: &ObjectPath,
        value: &StagedValue,
        (repo, branch): (&RepositoryId, &BranchName),
    ) -> PortResult<Option<Branch>> {
        let row = StagingRow::from_model(token, path, value);
        let check = (repo.as_str().to_owned(), branch.as_str().to_owned());
        self.staging_writes.put(&self.pool, row, Some(check)).await
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
        // A transaction a chunk (see `group_commit::write_together`).
        for chunk in rows.chunks(BATCH) {
            crate::group_commit::write_together(&self.pool, chunk).await?;
        }
        Ok(())
    }

    async fn put_many_on_branch(
        &self,
        token: &StagingToken,
        entries: &[StagingEntry],
        branch: (&RepositoryId, &BranchName),
    ) -> PortResult<Guarded> {
        if entries.len() > BATCH {
            return Err(PortError::invalid_input(format!(
                "at most {BATCH} entries are staged together, not {}",
                entries.len()
            )));
        }
        let rows = entries
            .iter()
            .map(|(path, value)| StagingRow::from_model(token, path, value))
            .collect();
        crate::guarded::write_on_branch(&self.pool, rows, token, branch).await
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
                .load(conn)
                .await
                .map(crate::db::first_row)
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

    async fn scan_folders(
        &self,
        token: &StagingToken,
        prefix: &str,
        delimiter: &str,
        after: Option<&ObjectPath>,
        limit_to: usize,
    ) -> PortResult<Vec<StagingEntry>> {
        if delimiter.is_empty() {
            return self.scan(token, prefix, after, limit_to).await;
        }
        if limit_to == 0 {
            return Ok(Vec::new());
        }
        let range = FolderRange::new(prefix, after);
        // The code point after the delimiter's last character, which ends
        // every folder: the statement replaces it to step past a folder.
        let last = delimiter.chars().next_back().map(String::from);
        let Some(next_char) = last.as_deref().and_then(after_prefix) else {
            return self
                .seek_folders(token, prefix, &range, delimiter, limit_to)
                .await;
        };
        let chars = |s: &str, what: &str| {
            i32::try_from(s.chars().count())
                .map_err(|_| PortError::invalid_input(format!("{what} is too long")))
        };
        let (prefix_chars, delimiter_chars) =
            (chars(prefix, "prefix")?, chars(delimiter, "delimiter")?);
        let sql = folders_sql(matches!(self.pool, Pool::Pg(_)), range.upper.is_some());
        let rows: Vec<FolderRow> = with_conn!(&self.pool, conn => {
            diesel::sql_query(sql.as_str())
                .bind::<Text, _>(token.as_str())
                .bind::<Text, _>(range.lower.as_str())
                .bind::<Text, _>(range.upper.as_deref().unwrap_or_default())
                .bind::<Integer, _>(prefix_chars)
                .bind::<Text, _>(delimiter)
                .bind::<Integer, _>(delimiter_chars)
                .bind::<Text, _>(next_char.as_str())
                .bind::<Text, _>(LEAST_CHAR)
                .bind::<BigInt, _>(limit(limit_to))
                .load(conn)
                .await
                .map_err(db_error)?
        });
        rows.into_iter()
            .map(|r| staging_entry((r.path, r.entry)))
            .collect()
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

/// The least character: a path above `p` is at least `p` followed by it
/// (paths hold no NUL).
const LEAST_CHAR: &str = "\u{1}";

/// Where a folder scan starts (inclusive) and ends (exclusive, if anywhere).
struct FolderRange {
    lower: String,
    upper: Option<String>,
}

impl FolderRange {
    /// Paths under `prefix` strictly after `after`, as one lower bound: the
    /// index is sought once.
    fn new(prefix: &str, after: Option<&ObjectPath>) -> Self {
        let lower = match after {
            Some(a) => {
                let above = format!("{}{LEAST_CHAR}", a.as_str());
                if above.as_str() > prefix {
                    above
                } else {
                    prefix.to_owned()
                }
            }
            None => prefix.to_owned(),
        };
        Self {
            lower,
            upper: prefix_upper_bound(prefix),
        }
    }
}

#[derive(QueryableByName)]
struct FolderRow {
    #[diesel(sql_type = Text)]
    path: String,
    #[diesel(sql_type = Nullable<Binary>)]
    entry: Option<Vec<u8>>,
}

/// The first entry of each folder in one statement: a loose index scan, a
/// recursion whose every step seeks the primary key once, to the first path
/// above the previous row's folder, so that no row inside a folder is read.
///
/// Binds: 1 token, 2 the lower bound (inclusive), 3 the upper bound
/// (exclusive; bound always, used when `bounded`), 4 the prefix's length in characters, 5
/// the delimiter, 6 its length in characters, 7 the code point after its last
/// character, 8 [`LEAST_CHAR`], 9 the limit.
///
/// A folder `F` (the path up to the first delimiter after the prefix) ends
/// with the delimiter; every path starting with `F` sorts below `F` with its
/// last character replaced by the next code point, and every other path
/// above `F` sorts at or above it (UTF-8 keeps code point order, which both
/// databases compare: bytes on SQLite, `COLLATE "C"` on PostgreSQL). A path
/// with no delimiter after the prefix is a folder of its own: the next row is
/// the next path. `substr` and `instr`/`strpos` count characters on both, as
/// the bound lengths do. The dialects differ in `instr`/`strpos`, their
/// placeholders, and LATERAL.
fn folders_sql(postgres: bool, bounded: bool) -> String {
    // Numbered placeholders on both: `$n` on PostgreSQL, `?n` on SQLite.
    let p = |n: usize| format!("{}{n}", if postgres { '$' } else { '?' });
    let find = if postgres { "strpos" } else { "instr" };
    let upper = |column: &str| {
        if bounded {
            format!(" AND {column} < {}", p(3))
        } else {
            String::new()
        }
    };
    let at = format!("{find}(substr(f.path, {} + 1), {})", p(4), p(5));
    let next = format!(
        "CASE WHEN {at} = 0 THEN f.path || {least} \
         ELSE substr(f.path, 1, {pc} + {at} + {dc} - 2) || {succ} END",
        least = p(8),
        pc = p(4),
        dc = p(6),
        succ = p(7),
    );
    let seek = |columns: &str| {
        format!(
            "SELECT {columns} FROM staging nx \
             WHERE nx.token = {t} AND nx.path >= ({next}){upper} ORDER BY nx.path LIMIT 1",
            t = p(1),
            upper = upper("nx.path"),
        )
    };
    // SQLite has no LATERAL: the seek finds the path, and a join by primary
    // key the row (one more lookup per step, cheap on an embedded database).
    let step = if postgres {
        format!(
            "SELECT s.path, s.entry, f.n + 1 FROM f, LATERAL ({}) s",
            seek("nx.path, nx.entry")
        )
    } else {
        format!(
            "SELECT s.path, s.entry, f.n + 1 FROM f JOIN staging s \
             ON s.token = {t} AND s.path = ({seek})",
            t = p(1),
            seek = seek("nx.path"),
        )
    };
    format!(
        "WITH RECURSIVE f(path, entry, n) AS (\
         SELECT * FROM (SELECT path, entry, 1 FROM staging \
         WHERE token = {t} AND path >= {lower}{upper} ORDER BY path LIMIT 1) AS first \
         UNION ALL {step} WHERE f.n < {limit}) \
         SELECT path, entry FROM f ORDER BY path",
        t = p(1),
        lower = p(2),
        upper = upper("path"),
        limit = p(9),
    )
}

impl SqlStore {
    /// `scan_folders` one seek at a time, for a delimiter whose last
    /// character has no next code point (U+10FFFF, a noncharacter): the
    /// statement above cannot express its folders' upper bounds.
    async fn seek_folders(
        &self,
        token: &StagingToken,
        prefix: &str,
        range: &FolderRange,
        delimiter: &str,
        limit_to: usize,
    ) -> PortResult<Vec<StagingEntry>> {
        let mut from = range.lower.clone();
        let mut out = Vec::new();
        while out.len() < limit_to {
            let row: Option<(String, Option<Vec<u8>>)> = with_conn!(&self.pool, conn => {
                let mut query = staging::table
                    .filter(staging::token.eq(token.as_str()))
                    .filter(staging::path.ge(from.as_str()))
                    .order(staging::path)
                    .select((staging::path, staging::entry))
                    .into_boxed();
                if let Some(upper) = &range.upper {
                    query = query.filter(staging::path.lt(upper.as_str()));
                }
                query.first(conn).await.optional().map_err(db_error)?
            });
            let Some(row) = row else {
                break;
            };
            let (path, value) = staging_entry(row)?;
            let next = match folder_of(path.as_str(), prefix, delimiter) {
                Some(folder) => after_prefix(folder),
                None => Some(format!("{}{LEAST_CHAR}", path.as_str())),
            };
            out.push((path, value));
            match next {
                Some(next) => from = next,
                None => break,
            }
        }
        Ok(out)
    }
}
