DROP TABLE action_hook_runs;
DROP TABLE action_runs;
