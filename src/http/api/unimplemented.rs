//! lakeFS operations Tarn does not offer (yet): each answers 501 with a JSON
//! message, never 404, so clients can tell "not here" from "not found".

/// `(method, path under /api/v1, operationId)`.
pub const UNIMPLEMENTED: &[(&str, &str, &str)] = &[
    ("POST", "/sts/login", "stsLogin"),
    (
        "POST",
        "/auth/users/{userId}/external/principals",
        "createUserExternalPrincipal",
    ),
    (
        "DELETE",
        "/auth/users/{userId}/external/principals",
        "deleteUserExternalPrincipal",
    ),
    (
        "GET",
        "/auth/users/{userId}/external/principals/ls",
        "listUserExternalPrincipals",
    ),
    ("GET", "/auth/external/principals", "getExternalPrincipal"),
    ("POST", "/auth/groups/{groupId}/acl", "setGroupACL"),
    ("GET", "/auth/groups/{groupId}/acl", "getGroupACL"),
    ("GET", "/oidc/callback", "oauthCallback"),
    (
        "POST",
        "/auth/external/principal/login",
        "externalPrincipalLogin",
    ),
    (
        "POST",
        "/repositories/{repository}/refs/{branch}/symlink",
        "createSymlinkFile",
    ),
    (
        "POST",
        "/repositories/{repository}/gc/prepare_commits",
        "prepareGarbageCollectionCommits",
    ),
    (
        "POST",
        "/repositories/{repository}/gc/prepare_commits/async",
        "prepareGarbageCollectionCommitsAsync",
    ),
    (
        "GET",
        "/repositories/{repository}/gc/prepare_commits/status",
        "prepareGarbageCollectionCommitsStatus",
    ),
    (
        "POST",
        "/repositories/{repository}/gc/prepare_uncommited",
        "prepareGarbageCollectionUncommitted",
    ),
];
