//! `auth users|groups|policies`, credentials included (lakectl's flags:
//! `--id`, `--policy`, `--user`, `--access-key-id`).

use super::{show_page, Page};
use crate::client::{seg, Client};
use crate::error::{CliError, CliResult};
use crate::output::{date, n, s, Paint};
use crate::Ctx;
use clap::Subcommand;
use serde_json::{json, Value};

#[derive(Debug, Subcommand)]
pub(crate) enum AuthCommand {
    /// Users.
    #[command(subcommand)]
    Users(UsersCommand),
    /// Groups.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Policies.
    #[command(subcommand)]
    Policies(PoliciesCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum UsersCommand {
    List(#[command(flatten)] Page),
    Create {
        #[arg(long)]
        id: String,
    },
    Delete {
        #[arg(long)]
        id: String,
    },
    /// A user's groups.
    #[command(subcommand)]
    Groups(IdList),
    /// A user's policies.
    #[command(subcommand)]
    Policies(PolicyLinks),
    /// A user's access keys.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum IdList {
    List {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        page: Page,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PolicyLinks {
    List {
        #[arg(long)]
        id: String,
        /// The policies in effect (through groups too), users only.
        #[arg(long)]
        effective: bool,
        #[command(flatten)]
        page: Page,
    },
    Attach {
        #[arg(long)]
        id: String,
        #[arg(long)]
        policy: String,
    },
    Detach {
        #[arg(long)]
        id: String,
        #[arg(long)]
        policy: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum CredentialsCommand {
    /// Create an access key (default: for the current user).
    Create {
        #[arg(long)]
        id: Option<String>,
    },
    List {
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        page: Page,
    },
    Delete {
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        access_key_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GroupsCommand {
    List(#[command(flatten)] Page),
    Create {
        #[arg(long)]
        id: String,
    },
    Delete {
        #[arg(long)]
        id: String,
    },
    /// A group's members.
    #[command(subcommand)]
    Members(MembersCommand),
    /// A group's policies.
    #[command(subcommand)]
    Policies(PolicyLinks),
}

#[derive(Debug, Subcommand)]
pub(crate) enum MembersCommand {
    List {
        #[arg(long)]
        id: String,
        #[command(flatten)]
        page: Page,
    },
    Add {
        #[arg(long)]
        id: String,
        #[arg(long)]
        user: String,
    },
    Remove {
        #[arg(long)]
        id: String,
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum PoliciesCommand {
    List(#[command(flatten)] Page),
    /// Create a policy from a statement document ('-': standard input).
    Create {
        #[arg(long)]
        id: String,
        #[arg(long)]
        statement_document: String,
    },
    Show {
        #[arg(long)]
        id: String,
    },
    Delete {
        #[arg(long)]
        id: String,
    },
}

fn created(ctx: &Ctx, what: &str, v: &Value) {
    if ctx.out.json {
        ctx.out.json(v);
        return;
    }
    ctx.out.line(
        ctx.out
            .paint(format!("{what} created successfully."), Paint::Green),
    );
    ctx.out.line(format!(
        "ID: {}\nCreation Date: {}",
        s(v, "id"),
        date(n(v, "creation_date"))
    ));
}

fn policy_rows(p: &Value) -> Vec<Vec<String>> {
    p["statement"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, st)| {
            let actions: Vec<&str> = st["action"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            vec![
                s(p, "id").into(),
                date(n(p, "creation_date")),
                i.to_string(),
                s(st, "resource").into(),
                s(st, "effect").into(),
                actions.join(", "),
            ]
        })
        .collect()
}

async fn policy_links(
    ctx: &Ctx,
    client: &Client,
    kind: &str,
    command: PolicyLinks,
) -> CliResult<()> {
    match command {
        PolicyLinks::List {
            id,
            effective,
            page,
        } => {
            let body = client
                .get(format!("/auth/{kind}/{}/policies", seg(&id)))
                .query("amount", page.amount)
                .query("after", &page.after)
                .query_opt("effective", effective.then_some(true))
                .value()
                .await?;
            let policies = body["results"].as_array().cloned().unwrap_or_default();
            if ctx.out.json {
                ctx.out.json(&Value::Array(policies));
                return Ok(());
            }
            let rows: Vec<Vec<String>> = policies.iter().flat_map(policy_rows).collect();
            ctx.out.table(
                &[
                    "Policy ID",
                    "Creation Date",
                    "Statement #",
                    "Resource",
                    "Effect",
                    "Actions",
                ],
                &rows,
            );
            ctx.out.more_hint(&body["pagination"], page.amount);
            Ok(())
        }
        PolicyLinks::Attach { id, policy } => {
            client
                .put(format!(
                    "/auth/{kind}/{}/policies/{}",
                    seg(&id),
                    seg(&policy)
                ))
                .ok()
                .await?;
            ctx.out.line("Policy attached successfully");
            Ok(())
        }
        PolicyLinks::Detach { id, policy } => {
            client
                .delete(format!(
                    "/auth/{kind}/{}/policies/{}",
                    seg(&id),
                    seg(&policy)
                ))
                .ok()
                .await?;
            ctx.out.line("Policy detached successfully");
            Ok(())
        }
    }
}

async fn user_or_me(client: &Client, id: Option<String>) -> CliResult<String> {
    match id {
        Some(id) => Ok(id),
        None => {
            let me = client.get("/user").value().await?;
            Ok(s(&me["user"], "id").to_owned())
        }
    }
}

pub(crate) async fn run(ctx: &Ctx, command: AuthCommand) -> CliResult<()> {
    let client = ctx.client()?;
    match command {
        AuthCommand::Users(c) => users(ctx, &client, c).await,
        AuthCommand::Groups(c) => groups(ctx, &client, c).await,
        AuthCommand::Policies(c) => policies(ctx, &client, c).await,
    }
}

async fn users(ctx: &Ctx, client: &Client, command: UsersCommand) -> CliResult<()> {
    match command {
        UsersCommand::List(page) => {
            show_page(
                ctx,
                client,
                "/auth/users".into(),
                &page,
                &["ID", "User", "Creation Date"],
                |u| {
                    let name = [s(u, "friendly_name"), s(u, "email"), s(u, "id")]
                        .into_iter()
                        .find(|x| !x.is_empty())
                        .unwrap_or_default();
                    vec![s(u, "id").into(), name.into(), date(n(u, "creation_date"))]
                },
            )
            .await
        }
        UsersCommand::Create { id } => {
            let u = client
                .post("/auth/users")
                .json(json!({"id": id}))
                .value()
                .await?;
            created(ctx, "User", &u);
            Ok(())
        }
        UsersCommand::Delete { id } => {
            client
                .delete(format!("/auth/users/{}", seg(&id)))
                .ok()
                .await?;
            ctx.out.line("User deleted successfully");
            Ok(())
        }
        UsersCommand::Groups(IdList::List { id, page }) => {
            show_page(
                ctx,
                client,
                format!("/auth/users/{}/groups", seg(&id)),
                &page,
                &["Group ID", "Creation Date"],
                |g| vec![s(g, "id").into(), date(n(g, "creation_date"))],
            )
            .await
        }
        UsersCommand::Policies(c) => policy_links(ctx, client, "users", c).await,
        UsersCommand::Credentials(CredentialsCommand::Create { id }) => {
            let id = user_or_me(client, id).await?;
            let c = client
                .post(format!("/auth/users/{}/credentials", seg(&id)))
                .value()
                .await?;
            if ctx.out.json {
                ctx.out.json(&c);
                return Ok(());
            }
            ctx.out.line(
                ctx.out
                    .paint("Credentials created successfully.", Paint::Green),
            );
            ctx.out.line(format!(
                "{:<18} {}",
                "Access Key ID:",
                s(&c, "access_key_id")
            ));
            ctx.out.line(format!(
                "{:<18} {}",
                "Secret Access Key:",
                s(&c, "secret_access_key")
            ));
            ctx.out.line(ctx.out.paint(
                "Keep these somewhere safe since you will not be able to see the secret key again",
                Paint::Yellow,
            ));
            Ok(())
        }
        UsersCommand::Credentials(CredentialsCommand::List { id, page }) => {
            let id = user_or_me(client, id).await?;
            show_page(
                ctx,
                client,
                format!("/auth/users/{}/credentials", seg(&id)),
                &page,
                &["Access Key ID", "Issued Date"],
                |c| vec![s(c, "access_key_id").into(), date(n(c, "creation_date"))],
            )
            .await
        }
        UsersCommand::Credentials(CredentialsCommand::Delete { id, access_key_id }) => {
            let id = user_or_me(client, id).await?;
            client
                .delete(format!(
                    "/auth/users/{}/credentials/{}",
                    seg(&id),
                    seg(&access_key_id)
                ))
                .ok()
                .await?;
            ctx.out.line("Credentials deleted successfully");
            Ok(())
        }
    }
}

async fn groups(ctx: &Ctx, client: &Client, command: GroupsCommand) -> CliResult<()> {
    match command {
        GroupsCommand::List(page) => {
            show_page(
                ctx,
                client,
                "/auth/groups".into(),
                &page,
                &["ID", "Group Name", "Creation Date"],
                |g| {
                    let name = Some(s(g, "name"))
                        .filter(|x| !x.is_empty())
                        .unwrap_or(s(g, "id"));
                    vec![s(g, "id").into(), name.into(), date(n(g, "creation_date"))]
                },
            )
            .await
        }
        GroupsCommand::Create { id } => {
            let g = client
                .post("/auth/groups")
                .json(json!({"id": id}))
                .value()
                .await?;
            created(ctx, "Group", &g);
            Ok(())
        }
        GroupsCommand::Delete { id } => {
            client
                .delete(format!("/auth/groups/{}", seg(&id)))
                .ok()
                .await?;
            ctx.out.line("Group deleted successfully");
            Ok(())
        }
        GroupsCommand::Members(MembersCommand::List { id, page }) => {
            show_page(
                ctx,
                client,
                format!("/auth/groups/{}/members", seg(&id)),
                &page,
                &["User ID"],
                |u| vec![s(u, "id").into()],
            )
            .await
        }
        GroupsCommand::Members(MembersCommand::Add { id, user }) => {
            client
                .put(format!("/auth/groups/{}/members/{}", seg(&id), seg(&user)))
                .ok()
                .await?;
            ctx.out.line("User successfully added");
            Ok(())
        }
        GroupsCommand::Members(MembersCommand::Remove { id, user }) => {
            client
                .delete(format!("/auth/groups/{}/members/{}", seg(&id), seg(&user)))
                .ok()
                .await?;
            ctx.out.line("User successfully removed");
            Ok(())
        }
        GroupsCommand::Policies(c) => policy_links(ctx, client, "groups", c).await,
    }
}

fn print_policy(ctx: &Ctx, p: &Value) {
    if ctx.out.json {
        ctx.out.json(p);
        return;
    }
    let statements = json!({"statement": p["statement"]});
    ctx.out.line(format!(
        "\nID: {}\nCreation Date: {}\nStatements:\n{}",
        s(p, "id"),
        date(n(p, "creation_date")),
        serde_json::to_string_pretty(&statements).unwrap_or_default()
    ));
}

async fn policies(ctx: &Ctx, client: &Client, command: PoliciesCommand) -> CliResult<()> {
    match command {
        PoliciesCommand::List(page) => {
            show_page(
                ctx,
                client,
                "/auth/policies".into(),
                &page,
                &["Policy ID", "Creation Date"],
                |p| vec![s(p, "id").into(), date(n(p, "creation_date"))],
            )
            .await
        }
        PoliciesCommand::Create {
            id,
            statement_document,
        } => {
            let text = if statement_document == "-" {
                std::io::read_to_string(std::io::stdin())
                    .map_err(|e| CliError::io("read standard input", e))?
            } else {
                std::fs::read_to_string(&statement_document)
                    .map_err(|e| CliError::io(format!("read {statement_document}"), e))?
            };
            let mut doc: Value = serde_json::from_str(&text).map_err(|e| {
                CliError::Usage(format!(
                    "{statement_document} is not a JSON statement document: {e}"
                ))
            })?;
            doc["id"] = json!(id);
            let p = client.post("/auth/policies").json(doc).value().await?;
            if !ctx.out.json {
                ctx.out
                    .line(ctx.out.paint("Policy created successfully.", Paint::Green));
            }
            print_policy(ctx, &p);
            Ok(())
        }
        PoliciesCommand::Show { id } => {
            let p = client
                .get(format!("/auth/policies/{}", seg(&id)))
                .value()
                .await?;
            print_policy(ctx, &p);
            Ok(())
        }
        PoliciesCommand::Delete { id } => {
            client
                .delete(format!("/auth/policies/{}", seg(&id)))
                .ok()
                .await?;
            ctx.out.line("Policy deleted successfully");
            Ok(())
        }
    }
}
