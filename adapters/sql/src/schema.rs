//! The tables, as diesel sees them; the same for both backends (the SQL of
//! each lives in `migrations/postgres` and `migrations/sqlite`).

diesel::table! {
    repositories (id) {
        id -> Text,
        storage_namespace -> Text,
        default_branch -> Text,
        creation_date -> BigInt,
        read_only -> Bool,
    }
}

diesel::table! {
    branches (repository, name) {
        repository -> Text,
        name -> Text,
        commit_id -> Text,
        staging_token -> Text,
        sealed_tokens -> Text,
        hidden -> Bool,
    }
}

diesel::table! {
    tags (repository, name) {
        repository -> Text,
        name -> Text,
        commit_id -> Text,
    }
}

diesel::table! {
    commits (repository, id) {
        repository -> Text,
        id -> Text,
        committer -> Text,
        message -> Text,
        meta_range_id -> Text,
        creation_date -> BigInt,
        metadata -> Text,
        parents -> Text,
        generation -> BigInt,
        version -> SmallInt,
        summary -> Nullable<Binary>,
    }
}

diesel::table! {
    repository_settings (repository, key) {
        repository -> Text,
        key -> Text,
        value -> Text,
    }
}

diesel::table! {
    staging (token, path) {
        token -> Text,
        path -> Text,
        entry -> Nullable<Binary>,
    }
}

diesel::table! {
    multipart_uploads (upload_id) {
        upload_id -> Text,
        repository -> Text,
        gateway_key -> Text,
        branch -> Text,
        path -> Text,
        physical_key -> Text,
        block_upload_id -> Text,
        initiated -> BigInt,
        content_type -> Nullable<Text>,
        metadata -> Text,
        tags -> Text,
    }
}

diesel::table! {
    multipart_parts (upload_id, number) {
        upload_id -> Text,
        number -> Integer,
        etag -> Text,
        size -> BigInt,
        last_modified -> BigInt,
    }
}

diesel::joinable!(multipart_parts -> multipart_uploads (upload_id));
diesel::allow_tables_to_appear_in_same_query!(multipart_parts, multipart_uploads);
diesel::joinable!(repository_settings -> repositories (repository));
diesel::joinable!(branches -> repositories (repository));
diesel::allow_tables_to_appear_in_same_query!(repositories, repository_settings, branches);

diesel::table! {
    auth_users (id) {
        id -> Text,
        creation_date -> BigInt,
        friendly_name -> Nullable<Text>,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
    }
}

diesel::table! {
    auth_groups (id) {
        id -> Text,
        creation_date -> BigInt,
        description -> Nullable<Text>,
    }
}

diesel::table! {
    auth_policies (id) {
        id -> Text,
        creation_date -> BigInt,
        statements -> Text,
    }
}

diesel::table! {
    auth_group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    auth_user_policies (user_id, policy_id) {
        user_id -> Text,
        policy_id -> Text,
    }
}

diesel::table! {
    auth_group_policies (group_id, policy_id) {
        group_id -> Text,
        policy_id -> Text,
    }
}

diesel::table! {
    auth_credentials (access_key_id) {
        access_key_id -> Text,
        user_id -> Text,
        sealed_secret -> Binary,
        creation_date -> BigInt,
    }
}

diesel::table! {
    auth_setup (id) {
        id -> SmallInt,
        initialized_at -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    auth_users,
    auth_groups,
    auth_policies,
    auth_group_members,
    auth_user_policies,
    auth_group_policies,
    auth_credentials,
);

diesel::table! {
    jobs (id) {
        id -> Text,
        kind -> Text,
        parameters -> Text,
        repository -> Nullable<Text>,
        state -> Text,
        progress_done -> BigInt,
        progress_total -> Nullable<BigInt>,
        progress_message -> Text,
        result -> Nullable<Text>,
        error -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_expires -> Nullable<BigInt>,
        cancel_requested -> Bool,
        attempts -> Integer,
        created -> BigInt,
        updated -> BigInt,
    }
}

diesel::table! {
    action_runs (repository, run_id) {
        repository -> Text,
        run_id -> Text,
        event_type -> Text,
        branch -> Text,
        source_ref -> Text,
        commit_id -> Text,
        start_time -> BigInt,
        end_time -> BigInt,
        passed -> Bool,
    }
}

diesel::table! {
    action_hook_runs (repository, run_id, hook_run_id) {
        repository -> Text,
        run_id -> Text,
        hook_run_id -> Text,
        hook_id -> Text,
        action_name -> Text,
        start_time -> Nullable<BigInt>,
        end_time -> Nullable<BigInt>,
        passed -> Bool,
    }
}
