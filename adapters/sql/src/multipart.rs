//! `MultipartStore`: uploads and their parts (parts go with their upload).

use crate::db::{db_error, with_conn};
use crate::rows::{limit, PartRow, UploadRow};
use crate::schema::{multipart_parts, multipart_uploads};
use crate::SqlStore;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::RunQueryDsl;
use tarn_model::{MultipartUpload, PartNumber, PartRecord, RepositoryId, UploadId};
use tarn_ports::{ErrorKind, MultipartStore, PortError, PortResult};

fn missing(id: &UploadId) -> PortError {
    PortError::not_found(format!("multipart upload {id} not found"))
}

#[async_trait]
impl MultipartStore for SqlStore {
    async fn create_upload(&self, upload: &MultipartUpload) -> PortResult<()> {
        let row = UploadRow::from_model(upload)?;
        with_conn!(&self.pool, conn => {
            diesel::insert_into(multipart_uploads::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|e| match db_error(e) {
                    e if e.kind() == ErrorKind::AlreadyExists => PortError::already_exists(
                        format!("multipart upload {} exists", upload.upload_id),
                    ),
                    e => e,
                })?
        });
        Ok(())
    }

    async fn get_upload(&self, id: &UploadId) -> PortResult<MultipartUpload> {
        let row: Option<UploadRow> = with_conn!(&self.pool, conn => {
            multipart_uploads::table
                .find(id.as_str())
                .select(UploadRow::as_select())
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        row.ok_or_else(|| missing(id))?.into_model()
    }

    async fn delete_upload(&self, id: &UploadId) -> PortResult<()> {
        // Its parts go with it (ON DELETE CASCADE).
        let n = with_conn!(&self.pool, conn => {
            diesel::delete(multipart_uploads::table.find(id.as_str()))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        if n == 0 {
            return Err(missing(id));
        }
        Ok(())
    }

    async fn list_uploads(
        &self,
        repo: &RepositoryId,
        after: Option<(&str, &UploadId)>,
        limit_to: usize,
    ) -> PortResult<Vec<MultipartUpload>> {
        let rows: Vec<UploadRow> = with_conn!(&self.pool, conn => {
            let mut query = multipart_uploads::table
                .filter(multipart_uploads::repository.eq(repo.as_str()))
                .order((multipart_uploads::gateway_key, multipart_uploads::upload_id))
                .limit(limit(limit_to))
                .select(UploadRow::as_select())
                .into_boxed();
            if let Some((key, id)) = after {
                query = query.filter(
                    multipart_uploads::gateway_key.gt(key).or(multipart_uploads::gateway_key
                        .eq(key)
                        .and(multipart_uploads::upload_id.gt(id.as_str()))),
                );
            }
            query.load(conn).await.map_err(db_error)?
        });
        rows.into_iter().map(UploadRow::into_model).collect()
    }

    async fn put_part(&self, id: &UploadId, part: &PartRecord) -> PortResult<()> {
        let row = PartRow::from_model(id, part)?;
        with_conn!(&self.pool, conn => {
            diesel::insert_into(multipart_parts::table)
                .values(&row)
                .on_conflict((multipart_parts::upload_id, multipart_parts::number))
                .do_update()
                .set((
                    multipart_parts::etag.eq(excluded(multipart_parts::etag)),
                    multipart_parts::size.eq(excluded(multipart_parts::size)),
                    multipart_parts::last_modified.eq(excluded(multipart_parts::last_modified)),
                ))
                .execute(conn)
                .await
                // No upload row: the foreign key refuses the part.
                .map_err(|e| match db_error(e) {
                    e if e.kind() == ErrorKind::NotFound => missing(id),
                    e => e,
                })?
        });
        Ok(())
    }

    async fn list_parts(
        &self,
        id: &UploadId,
        after: Option<PartNumber>,
        limit_to: usize,
    ) -> PortResult<Vec<PartRecord>> {
        let after = after.map_or(0, |n| i32::from(n.get()));
        let rows: Vec<PartRow> = with_conn!(&self.pool, conn => {
            let rows: Vec<PartRow> = multipart_parts::table
                .filter(multipart_parts::upload_id.eq(id.as_str()))
                .filter(multipart_parts::number.gt(after))
                .order(multipart_parts::number)
                .limit(limit(limit_to))
                .select(PartRow::as_select())
                .load(conn)
                .await
                .map_err(db_error)?;
            if rows.is_empty() {
                let known = diesel::select(diesel::dsl::exists(
                    multipart_uploads::table.find(id.as_str()),
                ))
                .get_result::<bool>(conn)
                .await
                .map_err(db_error)?;
                if !known {
                    return Err(missing(id));
                }
            }
            rows
        });
        rows.into_iter().map(PartRow::into_model).collect()
    }
}
