-- Background jobs on PostgreSQL (the JobStore port). Ids compare byte by
-- byte (COLLATE "C"): listings follow every other store's order. Times are
-- microseconds since the epoch, as everywhere else.

CREATE TABLE jobs (
    id               TEXT COLLATE "C" PRIMARY KEY,
    kind             TEXT COLLATE "C" NOT NULL,
    -- The handler's input, opaque to the store.
    parameters       TEXT NOT NULL,
    repository       TEXT COLLATE "C",
    state            TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'canceled')),
    progress_done    BIGINT NOT NULL DEFAULT 0,
    progress_total   BIGINT,
    progress_message TEXT NOT NULL DEFAULT '',
    result           TEXT,
    error            TEXT,
    -- The lease: set exactly while the job runs.
    lease_owner      TEXT,
    lease_expires    BIGINT,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    attempts         INTEGER NOT NULL DEFAULT 0,
    created          BIGINT NOT NULL,
    updated          BIGINT NOT NULL,
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires IS NOT NULL))
);

-- Claims look for live jobs of some kinds, oldest first; only live jobs are
-- indexed, so finished history does not slow them down.
CREATE INDEX jobs_runnable ON jobs (kind, created, id) WHERE state IN ('pending', 'running');
-- Listings by kind, by state, or both, in id order.
CREATE INDEX jobs_by_kind ON jobs (kind, id);
CREATE INDEX jobs_by_state ON jobs (state, id);
