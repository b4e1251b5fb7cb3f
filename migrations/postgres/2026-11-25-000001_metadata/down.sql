DROP TABLE multipart_parts;
DROP TABLE multipart_uploads;
DROP TABLE staging;
DROP TABLE repository_settings;
DROP TABLE commits;
DROP TABLE tags;
DROP TABLE branches;
DROP TABLE repositories;
