"""Oxen and DVC versioning a directory, for benches/dataset.rs.

Run with the bench's own virtual environment (`make bench` makes
.venv-bench with the PyPI packages `oxenai` and `dvc`):

    python dataset_tools.py oxen|dvc WORK SRC MODIFY

copies nothing: WORK/<tool> is made a repository holding a copy of SRC
(made by the caller) as `data/`, and the steps below are timed. Prints one
JSON object: seconds per step.

- oxen: `ingest` (init, add data, commit), `restore` (the committed data
  written back after the working copy is moved aside), `modify_commit` (MODIFY
  files changed, add, commit).
- dvc: `ingest` (git init, dvc init, dvc add data, git commit, dvc push to
  a local remote), `restore` (data and the cache moved aside, dvc pull),
  `modify_commit` (MODIFY files changed, dvc add, git commit, dvc push).
"""

import json
import os
import shutil
import subprocess
import sys
import time


def modify(data, count):
    done = 0
    for root, _dirs, files in sorted(os.walk(data)):
        for name in sorted(files):
            if done == count:
                return
            with open(os.path.join(root, name), "ab") as f:
                f.write(b"modified\n")
            done += 1


def timed(steps, name, fn):
    t = time.monotonic()
    fn()
    steps[name] = time.monotonic() - t


def oxen(repo_dir, count):
    from oxen import Repo, user

    # Oxen refuses to commit without a user (kept under $HOME, which the
    # bench points at a temporary directory).
    user.config_user("bench", "bench@example.invalid")

    data = os.path.join(repo_dir, "data")
    repo = Repo(repo_dir)
    steps = {}

    def ingest():
        repo.init()
        repo.add(data)
        repo.commit("ingest")

    def restore():
        # Moved aside, not deleted: see `settle` in benches/dataset.rs.
        os.rename(data, data + ".before-restore")
        repo.restore("data")

    def modify_commit():
        modify(data, count)
        repo.add(data)
        repo.commit("modify")

    timed(steps, "ingest", ingest)
    timed(steps, "restore", restore)
    timed(steps, "modify_commit", modify_commit)
    return steps


def dvc(repo_dir, count):
    data = os.path.join(repo_dir, "data")
    remote = os.path.join(os.path.dirname(repo_dir), "dvc-remote")
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    env.setdefault("GIT_AUTHOR_NAME", "bench")
    env.setdefault("GIT_AUTHOR_EMAIL", "bench@example.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "bench")
    env.setdefault("GIT_COMMITTER_EMAIL", "bench@example.invalid")
    env["DVC_NO_ANALYTICS"] = "1"

    def run(*args):
        subprocess.run(args, cwd=repo_dir, env=env, check=True, capture_output=True)

    steps = {}

    def ingest():
        run("git", "init", "-q")
        run("dvc", "init", "-q")
        run("dvc", "remote", "add", "-d", "local", remote)
        run("dvc", "add", "-q", "data")
        run("git", "add", "data.dvc", ".gitignore", ".dvc")
        run("git", "commit", "-q", "-m", "ingest")
        run("dvc", "push", "-q")

    def restore():
        # Moved aside, not deleted: see `settle` in benches/dataset.rs.
        os.rename(data, data + ".before-restore")
        cache = os.path.join(repo_dir, ".dvc", "cache")
        os.rename(cache, cache + ".before-restore")
        run("dvc", "pull", "-q")

    def modify_commit():
        modify(data, count)
        run("dvc", "add", "-q", "data")
        run("git", "add", "data.dvc")
        run("git", "commit", "-q", "-m", "modify")
        run("dvc", "push", "-q")

    timed(steps, "ingest", ingest)
    timed(steps, "restore", restore)
    timed(steps, "modify_commit", modify_commit)
    return steps


def main():
    tool, work, src, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    repo_dir = os.path.join(work, tool)
    os.makedirs(repo_dir)
    shutil.copytree(src, os.path.join(repo_dir, "data"))
    steps = {"oxen": oxen, "dvc": dvc}[tool](repo_dir, count)
    print(json.dumps(steps))


if __name__ == "__main__":
    main()
