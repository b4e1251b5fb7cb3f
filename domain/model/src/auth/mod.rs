//! Users, groups, policies and credentials (lakeFS's RBAC model), and the
//! pure evaluation of a request's permissions against policies.

pub mod arn;
mod builtin;
mod eval;
mod ids;
mod policy;
mod records;

pub use builtin::{builtin_groups, builtin_policies, BuiltinGroup, ADMINS_GROUP};
pub use eval::{authorize, Decision, Permission};
pub use ids::{AccessKeyId, GroupId, PolicyId, UserId};
pub use policy::{is_known_action, Effect, Policy, Statement, ACTIONS};
pub use records::{Credential, Group, User};
