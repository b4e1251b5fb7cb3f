-- Tarn's metadata on PostgreSQL. Names and paths compare byte by byte
-- (COLLATE "C"), whatever the database's locale: listings and range scans
-- must follow the same order as every other store.

CREATE TABLE repositories (
    id                TEXT COLLATE "C" PRIMARY KEY,
    storage_namespace TEXT NOT NULL,
    default_branch    TEXT NOT NULL,
    creation_date     BIGINT NOT NULL,
    read_only         BOOLEAN NOT NULL
);

-- Branch moves are compare-and-set: one UPDATE ... WHERE every column equals
-- the expected state.
CREATE TABLE branches (
    repository    TEXT COLLATE "C" NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name          TEXT COLLATE "C" NOT NULL,
    commit_id     TEXT NOT NULL,
    staging_token TEXT NOT NULL,
    sealed_tokens TEXT NOT NULL,
    hidden        BOOLEAN NOT NULL,
    PRIMARY KEY (repository, name)
);

CREATE TABLE tags (
    repository TEXT COLLATE "C" NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    name       TEXT COLLATE "C" NOT NULL,
    commit_id  TEXT NOT NULL,
    PRIMARY KEY (repository, name)
);

-- Lookup by id and by id prefix use the primary key (a range scan on "C"
-- collated hex); log walks by generation use the second index.
CREATE TABLE commits (
    repository    TEXT COLLATE "C" NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    id            TEXT COLLATE "C" NOT NULL,
    committer     TEXT NOT NULL,
    message       TEXT NOT NULL,
    meta_range_id TEXT NOT NULL,
    creation_date BIGINT NOT NULL,
    metadata      TEXT NOT NULL,
    parents       TEXT NOT NULL,
    generation    BIGINT NOT NULL,
    version       SMALLINT NOT NULL,
    PRIMARY KEY (repository, id)
);
CREATE INDEX commits_by_generation ON commits (repository, generation DESC);

CREATE TABLE repository_settings (
    repository TEXT COLLATE "C" NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    key        TEXT COLLATE "C" NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (repository, key)
);

-- Uncommitted changes: scans by (token, path) range walk the primary key.
-- A NULL entry is a tombstone.
CREATE TABLE staging (
    token TEXT COLLATE "C" NOT NULL,
    path  TEXT COLLATE "C" NOT NULL,
    entry BYTEA,
    PRIMARY KEY (token, path)
);

CREATE TABLE multipart_uploads (
    upload_id       TEXT COLLATE "C" PRIMARY KEY,
    repository      TEXT COLLATE "C" NOT NULL,
    gateway_key     TEXT COLLATE "C" NOT NULL,
    branch          TEXT NOT NULL,
    path            TEXT NOT NULL,
    physical_key    TEXT NOT NULL,
    block_upload_id TEXT NOT NULL,
    initiated       BIGINT NOT NULL,
    content_type    TEXT,
    metadata        TEXT NOT NULL
);
CREATE INDEX multipart_uploads_listing ON multipart_uploads (repository, gateway_key, upload_id);

CREATE TABLE multipart_parts (
    upload_id     TEXT COLLATE "C" NOT NULL REFERENCES multipart_uploads (upload_id) ON DELETE CASCADE,
    number        INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    size          BIGINT NOT NULL,
    last_modified BIGINT NOT NULL,
    PRIMARY KEY (upload_id, number)
);
