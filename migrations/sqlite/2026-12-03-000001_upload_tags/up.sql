-- Object tags (S3 object tagging) given when a multipart upload starts, for
-- the object it completes into: a JSON object of strings, as metadata.
ALTER TABLE multipart_uploads ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
