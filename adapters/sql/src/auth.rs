//! `AuthStore`: users, groups, policies, credentials, memberships and
//! attachments. Links go with either end (ON DELETE CASCADE); a link to a
//! missing end is refused by its foreign key.

use crate::auth_rows::{statements_json, CredentialRow, GroupRow, PolicyRow, UserRow};
use crate::db::{db_error, prefix_upper_bound, with_conn};
use crate::rows::limit;
use crate::schema::{
    auth_credentials, auth_group_members, auth_group_policies, auth_groups, auth_policies,
    auth_setup, auth_user_policies, auth_users,
};
use crate::SqlStore;
use async_trait::async_trait;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel_async::RunQueryDsl;
use tarn_model::auth::{AccessKeyId, Credential, Group, GroupId, Policy, PolicyId, User, UserId};
use tarn_model::Timestamp;
use tarn_ports::{AuthPage, AuthStore, ErrorKind, PortError, PortResult};

/// The key of the single `auth_setup` row.
const SETUP_ROW: i16 = 1;

fn missing(what: &str, id: &str) -> PortError {
    PortError::not_found(format!("{what} {id} not found"))
}

/// On an insert of an entity, a used id means the entity exists.
fn create_error(e: DieselError, what: &str, id: &str) -> PortError {
    match db_error(e) {
        e if e.kind() == ErrorKind::AlreadyExists => {
            PortError::already_exists(format!("{what} {id} already exists"))
        }
        e => e,
    }
}

/// Whether `$table` has a row of primary key `$id`.
macro_rules! exists {
    ($conn:expr, $table:ident, $id:expr) => {
        diesel::select(diesel::dsl::exists($table::table.find($id)))
            .get_result::<bool>($conn)
            .await
            .map_err(db_error)?
    };
}

/// `$query` narrowed to the ids in `$column` that fit `$page`, in byte
/// order. The prefix is a range (`>= prefix AND < upper bound`), never a
/// pattern: `%` and `_` in it are literal.
macro_rules! paged {
    ($query:expr, $column:expr, $page:expr) => {{
        let page: AuthPage<'_> = $page;
        let mut query = $query
            .filter($column.gt(page.after))
            .filter($column.ge(page.prefix))
            .order($column)
            .limit(limit(page.limit))
            .into_boxed();
        if let Some(upper) = prefix_upper_bound(page.prefix) {
            query = query.filter($column.lt(upper));
        }
        query
    }};
}

/// A page of `$row`s linked to `$owner` through `$link` (whose `$own`
/// column names the owner and `$other` the listed entity, of `$entity`);
/// `NotFound` naming `$what` when the answer is empty and the owner
/// (a row of `$owners`) is missing.
macro_rules! list_linked {
    (
        $store:expr, $owner:expr, $page:expr, $what:expr,
        $owners:ident, $link:ident . $own:ident -> $other:ident, $entity:ident, $row:ty
    ) => {{
        let rows: Vec<$row> = with_conn!(&$store.pool, conn => {
            let rows: Vec<$row> = paged!(
                $link::table
                    .inner_join($entity::table.on($entity::id.eq($link::$other)))
                    .filter($link::$own.eq($owner.as_str()))
                    .select(<$row>::as_select()),
                $link::$other,
                $page
            )
            .load(conn)
            .await
            .map_err(db_error)?;
            if rows.is_empty() && !exists!(conn, $owners, $owner.as_str()) {
                return Err(missing($what, $owner.as_str()));
            }
            rows
        });
        rows.into_iter().map(<$row>::into_model).collect()
    }};
}

/// Links `$first` and `$second` in `$link` (a no-op when linked already);
/// `NotFound` naming whichever side is missing.
macro_rules! link {
    (
        $store:expr, $link:ident,
        ($a:ident = $first:expr, $first_table:ident, $first_what:expr),
        ($b:ident = $second:expr, $second_what:expr)
    ) => {
        with_conn!(&$store.pool, conn => {
            let inserted = diesel::insert_into($link::table)
                .values(($link::$a.eq($first.as_str()), $link::$b.eq($second.as_str())))
                .on_conflict_do_nothing()
                .execute(conn)
                .await;
            match inserted.map_err(db_error) {
                Ok(_) => Ok(()),
                // A foreign key refused the link: tell which end is missing.
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    if exists!(conn, $first_table, $first.as_str()) {
                        Err(missing($second_what, $second.as_str()))
                    } else {
                        Err(missing($first_what, $first.as_str()))
                    }
                }
                Err(e) => Err(e),
            }
        })
    };
}

/// Removes the link of `$first` and `$second` from `$link`; `NotFound`
/// when there was none.
macro_rules! unlink {
    ($store:expr, $link:ident, ($a:ident = $first:expr), ($b:ident = $second:expr), $what:expr) => {{
        let n = with_conn!(&$store.pool, conn => {
            diesel::delete(
                $link::table
                    .filter($link::$a.eq($first.as_str()))
                    .filter($link::$b.eq($second.as_str())),
            )
            .execute(conn)
            .await
            .map_err(db_error)?
        });
        if n == 0 {
            Err(PortError::not_found(format!(
                "{} {}/{} not found",
                $what, $first, $second
            )))
        } else {
            Ok(())
        }
    }};
}

/// Deletes the row of `$id` from `$table` (its links go with it, ON DELETE
/// CASCADE); `NotFound` naming `$what` when there was none.
macro_rules! delete_entity {
    ($store:expr, $table:ident, $id:expr, $what:expr) => {{
        let n = with_conn!(&$store.pool, conn => {
            diesel::delete($table::table.find($id.as_str()))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        if n == 0 {
            Err(missing($what, $id.as_str()))
        } else {
            Ok(())
        }
    }};
}

/// One entity by id, as the model; `NotFound` naming `$what`.
macro_rules! get_entity {
    ($store:expr, $table:ident, $row:ty, $id:expr, $what:expr) => {{
        let row: Option<$row> = with_conn!(&$store.pool, conn => {
            $table::table
                .find($id.as_str())
                .select(<$row>::as_select())
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        row.ok_or_else(|| missing($what, $id.as_str()))?.into_model()
    }};
}

/// A page of a whole table of entities.
macro_rules! list_entities {
    ($store:expr, $table:ident, $row:ty, $page:expr) => {{
        let rows: Vec<$row> = with_conn!(&$store.pool, conn => {
            paged!($table::table.select(<$row>::as_select()), $table::id, $page)
                .load(conn)
                .await
                .map_err(db_error)?
        });
        rows.into_iter().map(<$row>::into_model).collect()
    }};
}

#[async_trait]
impl AuthStore for SqlStore {
    async fn create_user(&self, user: &User) -> PortResult<()> {
        let row = UserRow::from_model(user);
        with_conn!(&self.pool, conn => {
            diesel::insert_into(auth_users::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|e| create_error(e, "user", user.id.as_str()))?
        });
        Ok(())
    }

    async fn get_user(&self, id: &UserId) -> PortResult<User> {
        get_entity!(self, auth_users, UserRow, id, "user")
    }

    async fn set_password_hash(&self, id: &UserId, hash: Option<&str>) -> PortResult<()> {
        let n = with_conn!(&self.pool, conn => {
            diesel::update(auth_users::table.find(id.as_str()))
                .set(auth_users::password_hash.eq(hash))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        if n == 0 {
            return Err(missing("user", id.as_str()));
        }
        Ok(())
    }

    async fn delete_user(&self, id: &UserId) -> PortResult<()> {
        // Credentials, memberships and attachments go with it.
        delete_entity!(self, auth_users, id, "user")
    }

    async fn list_users(&self, page: AuthPage<'_>) -> PortResult<Vec<User>> {
        list_entities!(self, auth_users, UserRow, page)
    }

    async fn create_group(&self, group: &Group) -> PortResult<()> {
        let row = GroupRow::from_model(group);
        with_conn!(&self.pool, conn => {
            diesel::insert_into(auth_groups::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|e| create_error(e, "group", group.id.as_str()))?
        });
        Ok(())
    }

    async fn get_group(&self, id: &GroupId) -> PortResult<Group> {
        get_entity!(self, auth_groups, GroupRow, id, "group")
    }

    async fn delete_group(&self, id: &GroupId) -> PortResult<()> {
        // Memberships and attachments go with it.
        delete_entity!(self, auth_groups, id, "group")
    }

    async fn list_groups(&self, page: AuthPage<'_>) -> PortResult<Vec<Group>> {
        list_entities!(self, auth_groups, GroupRow, page)
    }

    async fn create_policy(&self, policy: &Policy) -> PortResult<()> {
        let row = PolicyRow::from_model(policy)?;
        with_conn!(&self.pool, conn => {
            diesel::insert_into(auth_policies::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|e| create_error(e, "policy", policy.id.as_str()))?
        });
        Ok(())
    }

    async fn update_policy(&self, policy: &Policy) -> PortResult<()> {
        // The statements only: the creation time stays.
        let statements = statements_json(policy.statements())?;
        let n = with_conn!(&self.pool, conn => {
            diesel::update(auth_policies::table.find(policy.id.as_str()))
                .set(auth_policies::statements.eq(&statements))
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        if n == 0 {
            return Err(missing("policy", policy.id.as_str()));
        }
        Ok(())
    }

    async fn get_policy(&self, id: &PolicyId) -> PortResult<Policy> {
        get_entity!(self, auth_policies, PolicyRow, id, "policy")
    }

    async fn delete_policy(&self, id: &PolicyId) -> PortResult<()> {
        // Its attachments go with it.
        delete_entity!(self, auth_policies, id, "policy")
    }

    async fn list_policies(&self, page: AuthPage<'_>) -> PortResult<Vec<Policy>> {
        list_entities!(self, auth_policies, PolicyRow, page)
    }

    async fn add_member(&self, group: &GroupId, user: &UserId) -> PortResult<()> {
        link!(
            self,
            auth_group_members,
            (group_id = group, auth_groups, "group"),
            (user_id = user, "user")
        )
    }

    async fn remove_member(&self, group: &GroupId, user: &UserId) -> PortResult<()> {
        unlink!(
            self,
            auth_group_members,
            (group_id = group),
            (user_id = user),
            "membership"
        )
    }

    async fn list_members(&self, group: &GroupId, page: AuthPage<'_>) -> PortResult<Vec<User>> {
        list_linked!(
            self, group, page, "group",
            auth_groups, auth_group_members.group_id -> user_id, auth_users, UserRow
        )
    }

    async fn list_user_groups(&self, user: &UserId, page: AuthPage<'_>) -> PortResult<Vec<Group>> {
        list_linked!(
            self, user, page, "user",
            auth_users, auth_group_members.user_id -> group_id, auth_groups, GroupRow
        )
    }

    async fn attach_user_policy(&self, user: &UserId, policy: &PolicyId) -> PortResult<()> {
        link!(
            self,
            auth_user_policies,
            (user_id = user, auth_users, "user"),
            (policy_id = policy, "policy")
        )
    }

    async fn detach_user_policy(&self, user: &UserId, policy: &PolicyId) -> PortResult<()> {
        unlink!(
            self,
            auth_user_policies,
            (user_id = user),
            (policy_id = policy),
            "attachment"
        )
    }

    async fn list_user_policies(
        &self,
        user: &UserId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Policy>> {
        list_linked!(
            self, user, page, "user",
            auth_users, auth_user_policies.user_id -> policy_id, auth_policies, PolicyRow
        )
    }

    async fn attach_group_policy(&self, group: &GroupId, policy: &PolicyId) -> PortResult<()> {
        link!(
            self,
            auth_group_policies,
            (group_id = group, auth_groups, "group"),
            (policy_id = policy, "policy")
        )
    }

    async fn detach_group_policy(&self, group: &GroupId, policy: &PolicyId) -> PortResult<()> {
        unlink!(
            self,
            auth_group_policies,
            (group_id = group),
            (policy_id = policy),
            "attachment"
        )
    }

    async fn list_group_policies(
        &self,
        group: &GroupId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Policy>> {
        list_linked!(
            self, group, page, "group",
            auth_groups, auth_group_policies.group_id -> policy_id, auth_policies, PolicyRow
        )
    }

    async fn effective_policies(&self, user: &UserId) -> PortResult<Vec<Policy>> {
        // One statement: the policies whose id is attached to the user or to
        // one of its groups; each policy row is selected once.
        let rows: Vec<PolicyRow> = with_conn!(&self.pool, conn => {
            let direct = auth_user_policies::table
                .filter(auth_user_policies::user_id.eq(user.as_str()))
                .select(auth_user_policies::policy_id);
            let via_groups = auth_group_policies::table
                .inner_join(
                    auth_group_members::table
                        .on(auth_group_members::group_id.eq(auth_group_policies::group_id)),
                )
                .filter(auth_group_members::user_id.eq(user.as_str()))
                .select(auth_group_policies::policy_id);
            let rows: Vec<PolicyRow> = auth_policies::table
                .filter(
                    auth_policies::id
                        .eq_any(direct)
                        .or(auth_policies::id.eq_any(via_groups)),
                )
                .order(auth_policies::id)
                .select(PolicyRow::as_select())
                .load(conn)
                .await
                .map_err(db_error)?;
            if rows.is_empty() && !exists!(conn, auth_users, user.as_str()) {
                return Err(missing("user", user.as_str()));
            }
            rows
        });
        rows.into_iter().map(PolicyRow::into_model).collect()
    }

    async fn create_credential(&self, credential: &Credential) -> PortResult<()> {
        let row = CredentialRow::from_model(credential);
        with_conn!(&self.pool, conn => {
            diesel::insert_into(auth_credentials::table)
                .values(&row)
                .execute(conn)
                .await
                .map_err(|e| match create_error(e, "access key", row.access_key_id.as_str()) {
                    // No user row: the foreign key refuses the key.
                    e if e.kind() == ErrorKind::NotFound => {
                        missing("user", credential.user.as_str())
                    }
                    e => e,
                })?
        });
        Ok(())
    }

    async fn get_credential(&self, id: &AccessKeyId) -> PortResult<Credential> {
        get_entity!(self, auth_credentials, CredentialRow, id, "access key")
    }

    async fn list_credentials(
        &self,
        user: &UserId,
        page: AuthPage<'_>,
    ) -> PortResult<Vec<Credential>> {
        let rows: Vec<CredentialRow> = with_conn!(&self.pool, conn => {
            let rows: Vec<CredentialRow> = paged!(
                auth_credentials::table
                    .filter(auth_credentials::user_id.eq(user.as_str()))
                    .select(CredentialRow::as_select()),
                auth_credentials::access_key_id,
                page
            )
            .load(conn)
            .await
            .map_err(db_error)?;
            if rows.is_empty() && !exists!(conn, auth_users, user.as_str()) {
                return Err(missing("user", user.as_str()));
            }
            rows
        });
        rows.into_iter().map(CredentialRow::into_model).collect()
    }

    async fn delete_credential(&self, user: &UserId, id: &AccessKeyId) -> PortResult<()> {
        let n = with_conn!(&self.pool, conn => {
            diesel::delete(
                auth_credentials::table
                    .find(id.as_str())
                    .filter(auth_credentials::user_id.eq(user.as_str())),
            )
            .execute(conn)
            .await
            .map_err(db_error)?
        });
        if n == 0 {
            return Err(PortError::not_found(format!(
                "access key {id} of user {user} not found"
            )));
        }
        Ok(())
    }

    async fn mark_initialized(&self, at: Timestamp) -> PortResult<bool> {
        let n = with_conn!(&self.pool, conn => {
            diesel::insert_into(auth_setup::table)
                .values((
                    auth_setup::id.eq(SETUP_ROW),
                    auth_setup::initialized_at.eq(at.unix_micros()),
                ))
                .on_conflict_do_nothing()
                .execute(conn)
                .await
                .map_err(db_error)?
        });
        Ok(n == 1)
    }

    async fn initialized(&self) -> PortResult<Option<Timestamp>> {
        let at: Option<i64> = with_conn!(&self.pool, conn => {
            auth_setup::table
                .find(SETUP_ROW)
                .select(auth_setup::initialized_at)
                .load(conn)
                .await
                .map(crate::db::first_row)
                .map_err(db_error)?
        });
        Ok(at.map(Timestamp::from_unix_micros))
    }
}
