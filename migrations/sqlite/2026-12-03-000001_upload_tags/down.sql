ALTER TABLE multipart_uploads DROP COLUMN tags;
