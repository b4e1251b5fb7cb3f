"""Actions and hooks through lakeFS's clients (issue #20): a pre-merge
webhook that refuses blocks a merge from lakefs-sdk with 412, and the runs
list through lakefs-sdk's ActionsApi."""

from __future__ import annotations

import http.server
import json
import threading

import lakefs_sdk
import pytest

from test_sdk import error_json, error_status
from test_sdk import upload as sdk_upload


class Receiver:
    """A real HTTP server on loopback: /refuse answers 400, anything else 200."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, dict]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("content-length", "0"))
                outer.bodies.append((self.path, json.loads(self.rfile.read(length) or b"null")))
                status = 400 if self.path.startswith("/refuse") else 200
                self.send_response(status)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"no" if status == 400 else b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def upload(apis, repo: str, branch: str, path: str, content: bytes) -> None:
    sdk_upload(apis, repo, branch, path, content)


def test_a_refusing_pre_merge_hook_blocks_the_merge_with_412(apis, repo_name, receiver):
    action = f"""name: Merge gate
on:
  pre-merge:
    branches: [main]
hooks:
  - id: quality
    type: webhook
    properties:
      url: {receiver.url}/refuse
"""
    upload(apis, repo_name, "main", "_lakefs_actions/gate.yaml", action.encode())
    apis.commits.commit(repo_name, "main", lakefs_sdk.CommitCreation(message="add the gate"))
    apis.branches.create_branch(repo_name, lakefs_sdk.BranchCreation(name="feature", source="main"))
    upload(apis, repo_name, "feature", "tables/t.csv", b"a,b\n1,2\n")
    apis.commits.commit(repo_name, "feature", lakefs_sdk.CommitCreation(message="data"))
    head = apis.branches.get_branch(repo_name, "main").commit_id

    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.refs.merge_into_branch(repo_name, "feature", "main")
    assert error_status(excinfo) == 412
    message = error_json(excinfo)["message"]
    assert message.startswith("pre-merge hook aborted, run id '")
    assert "failed on action 'Merge gate' hook 'quality'" in message
    assert "status code: 400" in message
    assert apis.branches.get_branch(repo_name, "main").commit_id == head, "nothing merged"

    # The hook was told about the merge, as lakeFS tells it.
    path, body = receiver.bodies[-1]
    assert path == "/refuse"
    assert body["event_type"] == "pre-merge"
    assert body["branch_id"] == "main"
    assert body["merge_source"] == "feature"
    assert body["source_ref"] == apis.branches.get_branch(repo_name, "feature").commit_id
    assert body["commit_message"] == "Merge 'feature' into 'main'"

    # The failed run, through lakefs-sdk's ActionsApi.
    runs = apis.actions.list_repository_runs(repo_name, branch="main")
    failed = [r for r in runs.results if r.event_type == "pre-merge"]
    assert len(failed) == 1 and failed[0].status == "failed"
    run = apis.actions.get_run(repo_name, failed[0].run_id)
    assert run.run_id == failed[0].run_id and run.branch == "main"
    hooks = apis.actions.list_run_hooks(repo_name, run.run_id)
    assert [(h.hook_id, h.action, h.status) for h in hooks.results] == [("quality", "Merge gate", "failed")]
    output = apis.actions.get_run_hook_output(repo_name, run.run_id, hooks.results[0].hook_run_id)
    assert b"status code: 400" in bytes(output) or b"400" in bytes(output)

    # A merge reads the action files of its source: opened there, the gate
    # lets the merge through.
    upload(apis, repo_name, "feature", "_lakefs_actions/gate.yaml", action.replace("/refuse", "/accept").encode())
    apis.commits.commit(repo_name, "feature", lakefs_sdk.CommitCreation(message="open the gate"))
    merged = apis.refs.merge_into_branch(repo_name, "feature", "main")
    assert apis.branches.get_branch(repo_name, "main").commit_id == merged.reference
    assert receiver.bodies[-1][0] == "/accept"
    # Filters: by commit, and both at once refused.
    with pytest.raises(lakefs_sdk.ApiException) as excinfo:
        apis.actions.list_repository_runs(repo_name, branch="main", commit=head)
    assert error_status(excinfo) == 400
