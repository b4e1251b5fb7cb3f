//! Users, groups, policies and credentials (lakeFS's RBAC model), and the
//! pure evaluation of a request's permissions against policies.

mod action;
pub mod arn;
mod builtin;
mod eval;
mod ids;
mod policy;
mod records;

pub use action::{Action, ACTIONS};
pub use builtin::{builtin_groups, builtin_policies, BuiltinGroup, ADMINS_GROUP};
pub use eval::{authorize, Decision, Permission};
pub use ids::{AccessKeyId, GroupId, PolicyId, UserId};
pub use policy::{Effect, Policy, Statement};
pub use records::{Credential, Group, User};
