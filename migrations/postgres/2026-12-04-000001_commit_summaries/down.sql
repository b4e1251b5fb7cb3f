DROP INDEX commits_by_generation;
CREATE INDEX commits_by_generation ON commits (repository, generation DESC);
ALTER TABLE commits DROP COLUMN summary;
