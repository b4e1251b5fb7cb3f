-- Users, groups, policies, credentials and their links on SQLite. TEXT
-- compares byte by byte (BINARY collation), so listings follow every other
-- store's order. Deleting an entity deletes its links (ON DELETE CASCADE;
-- every connection turns foreign keys on), so nothing dangling is listed.

CREATE TABLE auth_users (
    id            TEXT PRIMARY KEY,
    creation_date BIGINT NOT NULL,
    friendly_name TEXT,
    email         TEXT,
    password_hash TEXT
);

CREATE TABLE auth_groups (
    id            TEXT PRIMARY KEY,
    creation_date BIGINT NOT NULL,
    description   TEXT
);

-- Statements as a JSON array of {"effect", "action", "resource"}.
CREATE TABLE auth_policies (
    id            TEXT PRIMARY KEY,
    creation_date BIGINT NOT NULL,
    statements    TEXT NOT NULL
);

-- A group's members walk the primary key; a user's groups the index.
CREATE TABLE auth_group_members (
    group_id TEXT NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX auth_group_members_by_user ON auth_group_members (user_id, group_id);

-- The policy indexes serve the cascades of a policy's deletion.
CREATE TABLE auth_user_policies (
    user_id   TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL REFERENCES auth_policies (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, policy_id)
) WITHOUT ROWID;
CREATE INDEX auth_user_policies_by_policy ON auth_user_policies (policy_id);

CREATE TABLE auth_group_policies (
    group_id  TEXT NOT NULL REFERENCES auth_groups (id) ON DELETE CASCADE,
    policy_id TEXT NOT NULL REFERENCES auth_policies (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, policy_id)
) WITHOUT ROWID;
CREATE INDEX auth_group_policies_by_policy ON auth_group_policies (policy_id);

-- An access key id is unique across all users; the secret is sealed by the
-- domain and kept byte for byte.
CREATE TABLE auth_credentials (
    access_key_id TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
    sealed_secret BLOB NOT NULL,
    creation_date BIGINT NOT NULL
);
CREATE INDEX auth_credentials_by_user ON auth_credentials (user_id, access_key_id);

-- When setup ran: at most one row.
CREATE TABLE auth_setup (
    id             SMALLINT PRIMARY KEY CHECK (id = 1),
    initialized_at BIGINT NOT NULL
);
