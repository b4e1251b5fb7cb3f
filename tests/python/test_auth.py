"""The lakeFS auth API through lakeFS's own clients: users, groups, policies,
memberships, attachments and credentials with lakefs-sdk, and what a Viewer's
credentials may do through the high-level lakefs wrapper."""

from __future__ import annotations

import lakefs
import lakefs_sdk
import pytest
from lakefs_sdk import ApiException

from conftest import unique


def client_for(base_url: str, key: str, secret: str) -> lakefs_sdk.ApiClient:
    conf = lakefs_sdk.Configuration(host=f"{base_url}/api/v1", username=key, password=secret)
    return lakefs_sdk.ApiClient(conf)


def test_users_groups_policies_and_credentials(api_client, base_url):
    auth = lakefs_sdk.AuthApi(api_client)
    user, group, policy = unique("user"), unique("Group"), unique("Policy")

    created = auth.create_user(lakefs_sdk.UserCreation(id=user))
    assert created.id == user and created.creation_date > 0
    with pytest.raises(ApiException) as dup:
        auth.create_user(lakefs_sdk.UserCreation(id=user))
    assert dup.value.status == 409
    assert auth.get_user(user).id == user
    assert user in [u.id for u in auth.list_users(prefix=user[:6], amount=1000).results]

    auth.create_group(group_creation=lakefs_sdk.GroupCreation(id=group, description="testers"))
    auth.add_group_membership(group, user)
    assert [u.id for u in auth.list_group_members(group).results] == [user]
    assert group in [g.id for g in auth.list_user_groups(user).results]

    statement = lakefs_sdk.Statement(effect="allow", action=["fs:Read*", "fs:List*"], resource="*")
    auth.create_policy(lakefs_sdk.Policy(id=policy, statement=[statement]))
    got = auth.get_policy(policy)
    assert got.statement[0].action == ["fs:Read*", "fs:List*"]
    with pytest.raises(ApiException) as bad:
        auth.create_policy(
            lakefs_sdk.Policy(id=unique("Bad"), statement=[lakefs_sdk.Statement(effect="allow", action=["fs:Typo"], resource="*")])
        )
    assert bad.value.status == 400
    auth.attach_policy_to_group(group, policy)
    assert [p.id for p in auth.list_group_policies(group).results] == [policy]
    assert auth.list_user_policies(user).results == []
    effective = [p.id for p in auth.list_user_policies(user, effective=True).results]
    assert effective == [policy]

    creds = auth.create_credentials(user)
    assert len(creds.access_key_id) == 20 and len(creds.secret_access_key) == 40
    listed = auth.list_user_credentials(user).results
    assert [c.access_key_id for c in listed] == [creds.access_key_id]
    assert auth.get_credentials(user, creds.access_key_id).access_key_id == creds.access_key_id

    # The new user logs in, sees itself, may read and may not manage users.
    with client_for(base_url, creds.access_key_id, creds.secret_access_key) as own:
        own_auth = lakefs_sdk.AuthApi(own)
        assert own_auth.get_current_user().user.id == user
        token = own_auth.login(
            lakefs_sdk.LoginInformation(access_key_id=creds.access_key_id, secret_access_key=creds.secret_access_key)
        )
        assert token.token and token.token_expiration > 0
        lakefs_sdk.RepositoriesApi(own).list_repositories()
        with pytest.raises(ApiException) as forbidden:
            own_auth.list_users()
        assert forbidden.value.status == 403

    auth.detach_policy_from_group(group, policy)
    auth.delete_group_membership(group, user)
    auth.delete_credentials(user, creds.access_key_id)
    with pytest.raises(ApiException) as gone:
        auth.get_credentials(user, creds.access_key_id)
    assert gone.value.status == 404
    auth.delete_policy(policy)
    auth.delete_group(group)
    auth.delete_user(user)
    with pytest.raises(ApiException) as missing:
        auth.get_user(user)
    assert missing.value.status == 404


def test_a_viewer_reads_but_cannot_write_through_the_wrapper(api_client, base_url, repo):
    auth = lakefs_sdk.AuthApi(api_client)
    viewer = unique("viewer")
    auth.create_user(lakefs_sdk.UserCreation(id=viewer))
    auth.add_group_membership("Viewers", viewer)
    creds = auth.create_credentials(viewer)
    repo.branch("main").object("shared.txt").upload(b"readable")
    repo.branch("main").commit(message="seed")

    as_viewer = lakefs.Client(host=base_url, username=creds.access_key_id, password=creds.secret_access_key)
    theirs = lakefs.Repository(repo.id, client=as_viewer)
    assert theirs.branch("main").object("shared.txt").reader().read() == b"readable"
    assert [o.path for o in theirs.branch("main").objects()] == ["shared.txt"]
    # On a presigning block store the wrapper lets lakefs-sdk's exception
    # through; otherwise it wraps it. Either way the server said 403.
    refusals = (lakefs.exceptions.LakeFSException, ApiException)
    with pytest.raises(refusals) as refused:
        theirs.branch("main").object("new.txt").upload(b"nope")
    assert getattr(refused.value, "status_code", None) == 403 or getattr(refused.value, "status", None) == 403
    with pytest.raises(refusals):
        theirs.branch("feature").create(source_reference="main")
    # Nothing was written.
    assert [o.path for o in repo.branch("main").objects()] == ["shared.txt"]
    assert [b.id for b in repo.branches()] == ["main"]
    auth.delete_user(viewer)
