//! `tarn`: the command line. It only parses and bootstraps; `startup` wires.

mod actions;
mod actions_cli;
mod cli_jobs;
mod gc_cli;
mod http;
mod import_cli;
mod jobs;
mod metered;
mod refs_cli;
mod sample_data;
mod settings;
mod startup;
mod telemetry;

use clap::{Args, Parser, Subcommand};
use settings::{Overrides, Settings};
use std::path::PathBuf;
use std::process::ExitCode;
use tarn_domain::Entity;

/// jemalloc: memory freed under steady load goes back to the system (see
/// the dependency's note in Cargo.toml).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Fixed credentials of `--quickstart`; never use them beyond a laptop.
const QUICKSTART_USER: &str = "quickstart";
const QUICKSTART_ACCESS_KEY_ID: &str = "AKIAIOSFOLQUICKSTART";
const QUICKSTART_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

#[derive(Debug, Parser)]
#[command(
    name = "tarn",
    version,
    about = "Data version control for object storage, wire-compatible with lakeFS"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one Lua hook (the server starts it; job on stdin, outcome on
    /// stdout).
    #[command(hide = true)]
    LuaHook,
    /// Serve the API, the S3 gateway and the UI.
    Run {
        /// A TOML configuration file, layered over the defaults.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Start with no configuration: data under --data-dir and fixed, printed credentials.
        #[arg(long)]
        quickstart: bool,
        /// Address to listen on (overrides listen_address), e.g. 127.0.0.1:8000.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Directory for all data (default with --quickstart: ./tarn-data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
    /// Set the server up: the built-in groups and policies and an admin user,
    /// whose access key is printed once (as `POST /api/v1/setup_lakefs`).
    Setup {
        #[command(flatten)]
        data: DataArgs,
        /// The admin's user name.
        #[arg(long, value_name = "NAME")]
        user_name: String,
        /// Use this access key id instead of a generated one.
        #[arg(long, value_name = "ID", requires = "secret_access_key")]
        access_key_id: Option<String>,
        /// The secret of --access-key-id.
        #[arg(long, value_name = "SECRET", requires = "access_key_id")]
        secret_access_key: Option<String>,
    },
    /// Set a user's password (read from the first line of standard input);
    /// the user may then log in with its name and password.
    SetPassword {
        #[command(flatten)]
        data: DataArgs,
        /// The user.
        #[arg(long, value_name = "NAME")]
        user_name: String,
    },
    /// Maintenance beside a server's data directory, for when no server
    /// answers: the same jobs the client commands start through the API.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Apply pending database migrations and exit (`tarn run` also does this at startup).
    Migrate {
        #[command(flatten)]
        data: DataArgs,
    },
}

/// Where a command finds the server's data: what `tarn run` is given.
#[derive(Debug, Args)]
struct DataArgs {
    /// A TOML configuration file, layered over the defaults.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for all data (the SQLite file and local store go there).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The data directory of `tarn run --quickstart` (its SQLite file,
    /// local store and key); --data-dir defaults to ./tarn-data.
    #[arg(long)]
    quickstart: bool,
}

#[derive(Debug, Subcommand)]
enum GcCommand {
    /// Collect a repository's garbage (mark, then sweep) as a job, beside
    /// any servers on the same data; prints what it found and deleted.
    Run {
        #[command(flatten)]
        data: DataArgs,
        /// The repository.
        #[arg(long, value_name = "NAME")]
        repository: String,
        /// Report what would be collected; delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the list of garbage to `_tarn/gc/<run>/`; delete nothing.
        #[arg(long)]
        mark_only: bool,
        /// Delete exactly the list of an earlier --mark-only run.
        #[arg(long, value_name = "RUN")]
        sweep: Option<String>,
        /// Evaluate retention at this instant (RFC 3339) instead of now.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
    },
}

/// `tarn admin ...`: commands that open the server's data themselves.
#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Garbage collection.
    #[command(subcommand)]
    Gc(GcCommand),
    /// Import objects from the object store into a branch without copying
    /// them (lakectl import): one commit, as a job beside any servers.
    Import {
        #[command(flatten)]
        data: DataArgs,
        /// The source: a prefix ending in '/' (s3://bucket/path/) or one object.
        #[arg(long, value_name = "URI")]
        from: String,
        /// Where: lakefs://<repository>/<branch>/<path>.
        #[arg(long, value_name = "URI")]
        to: String,
        /// The commit message.
        #[arg(long, short = 'm', value_name = "TEXT")]
        message: Option<String>,
    },
    /// Dump a repository's commits, branches and tags to objects in its
    /// namespace; prints the manifest (lakectl refs-dump).
    RefsDump {
        #[command(flatten)]
        data: DataArgs,
        /// The repository.
        #[arg(long, value_name = "NAME")]
        repository: String,
    },
    /// Restore a dump's manifest into a bare repository (lakectl refs-restore).
    RefsRestore {
        #[command(flatten)]
        data: DataArgs,
        /// The bare repository to restore into.
        #[arg(long, value_name = "NAME")]
        repository: String,
        /// The manifest `tarn refs-dump` printed (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        /// Restore into a read-only repository too.
        #[arg(long)]
        force: bool,
    },
    /// The runs of a repository's hooks.
    #[command(subcommand, name = "actions-runs")]
    ActionsRuns(RunsCommand),
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// A repository's runs, newest first (lakectl actions runs list).
    List {
        #[command(flatten)]
        data: DataArgs,
        /// The repository: lakefs://<repository>.
        #[arg(value_name = "REPOSITORY URI")]
        repository: String,
        /// Only runs on this branch.
        #[arg(long)]
        branch: Option<String>,
        /// Only runs about this commit.
        #[arg(long)]
        commit: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        amount: usize,
    },
    /// A run, its hooks and their logs (lakectl actions runs describe).
    Describe {
        #[command(flatten)]
        data: DataArgs,
        /// The repository: lakefs://<repository>.
        #[arg(value_name = "REPOSITORY URI")]
        repository: String,
        /// The run.
        #[arg(value_name = "RUN ID")]
        run_id: String,
    },
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if tarn_cli::is_client_invocation(&args) {
        let local = tarn_cli::Local {
            validate_action: actions_cli::validate,
        };
        return tarn_cli::main(args, local);
    }
    let cli = Cli::parse_from(args);
    if let Command::LuaHook = &cli.command {
        return actions::lua_child_main();
    }
    let (overrides, quickstart) = match &cli.command {
        Command::Migrate { data }
        | Command::Setup { data, .. }
        | Command::SetPassword { data, .. }
        | Command::Admin(AdminCommand::Gc(GcCommand::Run { data, .. }))
        | Command::Admin(AdminCommand::RefsDump { data, .. })
        | Command::Admin(AdminCommand::Import { data, .. })
        | Command::Admin(AdminCommand::RefsRestore { data, .. })
        | Command::Admin(AdminCommand::ActionsRuns(RunsCommand::List { data, .. }))
        | Command::Admin(AdminCommand::ActionsRuns(RunsCommand::Describe { data, .. })) => (
            Overrides {
                config_file: data.config.clone(),
                data_dir: data.data_dir.clone(),
                quickstart: data.quickstart,
                ..Overrides::default()
            },
            false,
        ),
        Command::LuaHook => (Overrides::default(), false),
        Command::Run {
            config,
            quickstart,
            listen,
            data_dir,
        } => (
            Overrides {
                config_file: config.clone(),
                quickstart: *quickstart,
                listen: listen.clone(),
                data_dir: data_dir.clone(),
            },
            *quickstart,
        ),
    };
    let settings = match Settings::load(&overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tarn: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let _telemetry = match telemetry::init(&settings.logging, &settings.tracing) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tarn: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command {
        Command::LuaHook => return actions::lua_child_main(),
        Command::Admin(AdminCommand::ActionsRuns(RunsCommand::List {
            repository,
            branch,
            commit,
            amount,
            ..
        })) => actions_cli::list_runs(settings, &repository, branch, commit, amount),
        Command::Admin(AdminCommand::ActionsRuns(RunsCommand::Describe {
            repository,
            run_id,
            ..
        })) => actions_cli::describe_run(settings, &repository, &run_id),
        Command::Migrate { .. } => migrate(settings),
        Command::Setup {
            user_name,
            access_key_id,
            secret_access_key,
            ..
        } => setup(settings, &user_name, access_key_id.zip(secret_access_key)),
        Command::SetPassword { user_name, .. } => set_password(settings, &user_name),
        Command::Run { .. } => serve(settings, quickstart),
        Command::Admin(AdminCommand::RefsDump { repository, .. }) => {
            refs_cli::dump(settings, &repository)
        }
        Command::Admin(AdminCommand::Import {
            from, to, message, ..
        }) => import_cli::run(settings, &from, &to, message),
        Command::Admin(AdminCommand::RefsRestore {
            repository,
            manifest,
            force,
            ..
        }) => refs_cli::restore(settings, &repository, &manifest, force),
        Command::Admin(AdminCommand::Gc(GcCommand::Run {
            repository,
            dry_run,
            mark_only,
            sweep,
            as_of,
            ..
        })) => gc_cli::run(
            settings,
            gc_cli::GcRunArgs {
                repository,
                dry_run,
                mark_only,
                sweep,
                as_of,
            },
        ),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "tarn stopped on an error");
            eprintln!("tarn: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[actix_web::main]
async fn serve(settings: Settings, quickstart: bool) -> anyhow::Result<()> {
    let admin = quickstart.then_some((
        QUICKSTART_USER,
        QUICKSTART_ACCESS_KEY_ID,
        QUICKSTART_SECRET_ACCESS_KEY,
    ));
    let app = startup::Application::build(&settings, admin).await?;
    let url = format!("http://{}", app.address());
    tracing::info!(address = %app.address(), "listening");
    if quickstart {
        println!(
            "Tarn quickstart: data in {}",
            settings.blockstore.local.path.display()
        );
        if app.admin_ready() {
            println!("  access key id:     {QUICKSTART_ACCESS_KEY_ID}");
            println!("  secret access key: {QUICKSTART_SECRET_ACCESS_KEY}");
        } else {
            println!("  this server was set up with its own users: log in with their keys");
        }
        if settings.database.kind == settings::DatabaseKind::Sqlite {
            println!("  metadata in {}", settings.database.sqlite.path.display());
        }
    }
    if let Some(gateway) = app.gateway_address() {
        println!("Tarn S3 gateway listening on http://{gateway}");
    }
    println!("Tarn listening on {url}");
    app.run_until_stopped().await
}

#[tokio::main(flavor = "current_thread")]
async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let Some(backend) = startup::sql_backend(&settings.database)? else {
        println!("database.type = \"memory\": nothing to migrate");
        return Ok(());
    };
    let applied = tarn_adapter_sql::migrate(&backend).await?;
    if applied.is_empty() {
        println!("the database schema is up to date");
    } else {
        println!("applied migrations: {}", applied.join(", "));
    }
    Ok(())
}

/// The auth service on the configured database (not an in-memory one,
/// which would be gone when this command exits).
async fn persistent_auth(
    settings: &Settings,
) -> anyhow::Result<std::sync::Arc<tarn_domain::auth::Auth>> {
    if settings.database.kind == settings::DatabaseKind::Memory {
        anyhow::bail!("database.type = \"memory\" keeps nothing: configure a database first");
    }
    if settings.auth.encrypt.secret_key.expose().is_empty() {
        anyhow::bail!(
            "auth.encrypt.secret_key is not set: give the server's key \
             (TARN_AUTH__ENCRYPT__SECRET_KEY, or auth.encrypt.secret_key in --config), \
             or pass --quickstart for a data directory made by `tarn run --quickstart`"
        );
    }
    let store = startup::metadata_stores(settings).await?.auth;
    let clock = std::sync::Arc::new(tarn_adapter_memory::SystemClock::new());
    startup::auth_service(settings, store, clock)
}

#[tokio::main(flavor = "current_thread")]
async fn setup(
    settings: Settings,
    user: &str,
    key: Option<(String, String)>,
) -> anyhow::Result<()> {
    let auth = persistent_auth(&settings).await?;
    let created = auth.setup(user, key).await.map_err(|e| match e {
        tarn_domain::Error::AlreadyExists {
            entity: Entity::Setup,
            ..
        } => {
            anyhow::anyhow!("this server is already set up")
        }
        e => e.into(),
    })?;
    println!("Setup done: user {user} is in the Admins group.");
    println!("  access key id:     {}", created.access_key_id);
    println!("  secret access key: {}", created.secret_access_key);
    println!("The secret is shown only now; keep it safe.");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn set_password(settings: Settings, user: &str) -> anyhow::Result<()> {
    let auth = persistent_auth(&settings).await?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\n', '\r']);
    auth.set_password(user, password).await?;
    println!("password set for {user}");
    Ok(())
}
