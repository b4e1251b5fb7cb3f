-- What each commit changed, as a filter of paths and folders (opaque to the
-- database; see tarn_model::changed_paths), read by path-filtered log walks
-- in generation order (commits_by_generation). NULL for commits stored
-- without one (older ones, restored ones): a walk reads their trees.
ALTER TABLE commits ADD COLUMN summary BLOB;

-- Log walks page in (generation, id) order, highest first: with the id in
-- the index, a page is read in index order, with no sort of the history.
DROP INDEX commits_by_generation;
CREATE INDEX commits_by_generation ON commits (repository, generation DESC, id DESC);
