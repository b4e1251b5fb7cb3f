DROP TABLE auth_setup;
DROP TABLE auth_credentials;
DROP TABLE auth_group_policies;
DROP TABLE auth_user_policies;
DROP TABLE auth_group_members;
DROP TABLE auth_policies;
DROP TABLE auth_groups;
DROP TABLE auth_users;
