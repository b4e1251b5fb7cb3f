//! `tarn`: the command line. It only parses and bootstraps; `startup` wires.

mod http;
mod settings;
mod startup;
mod telemetry;

use clap::{Parser, Subcommand};
use settings::{Overrides, Settings};
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Apply pending database migrations and exit (`tarn run` also does this at startup).
    Migrate {
        /// A TOML configuration file, layered over the defaults.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Directory for all data (the SQLite file goes there).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (overrides, quickstart) = match &cli.command {
        Command::Migrate { config, data_dir } => (
            Overrides {
                config_file: config.clone(),
                data_dir: data_dir.clone(),
                ..Overrides::default()
            },
            false,
        ),
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
    telemetry::init(&settings.logging);
    let outcome = match cli.command {
        Command::Migrate { .. } => migrate(settings),
        Command::Run { .. } => serve(settings, quickstart),
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
        println!("  access key id:     {QUICKSTART_ACCESS_KEY_ID}");
        println!("  secret access key: {QUICKSTART_SECRET_ACCESS_KEY}");
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
