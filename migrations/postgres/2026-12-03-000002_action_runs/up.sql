-- Action runs (the ActionRunStore port): one row per run and one per hook of
-- it. Ids compare byte by byte (COLLATE "C"); times are microseconds since
-- the epoch. A skipped hook has no times.

CREATE TABLE action_runs (
    repository TEXT COLLATE "C" NOT NULL,
    run_id     TEXT COLLATE "C" NOT NULL,
    event_type TEXT NOT NULL,
    branch     TEXT COLLATE "C" NOT NULL,
    source_ref TEXT NOT NULL,
    commit_id  TEXT COLLATE "C" NOT NULL,
    start_time BIGINT NOT NULL,
    end_time   BIGINT NOT NULL,
    passed     BOOLEAN NOT NULL,
    PRIMARY KEY (repository, run_id)
);
-- Listings filtered by branch or by commit, in run id order.
CREATE INDEX action_runs_by_branch ON action_runs (repository, branch, run_id);
CREATE INDEX action_runs_by_commit ON action_runs (repository, commit_id, run_id);

CREATE TABLE action_hook_runs (
    repository  TEXT COLLATE "C" NOT NULL,
    run_id      TEXT COLLATE "C" NOT NULL,
    hook_run_id TEXT COLLATE "C" NOT NULL,
    hook_id     TEXT NOT NULL,
    action_name TEXT NOT NULL,
    start_time  BIGINT,
    end_time    BIGINT,
    passed      BOOLEAN NOT NULL,
    PRIMARY KEY (repository, run_id, hook_run_id),
    FOREIGN KEY (repository, run_id) REFERENCES action_runs (repository, run_id) ON DELETE CASCADE
);
