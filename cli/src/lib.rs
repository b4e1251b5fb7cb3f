//! `tarn` as a client: lakectl's commands, configuration and URIs against
//! any lakeFS-compatible server (Tarn or lakeFS), with progress bars,
//! tables, `--output json` and exit codes scripts can rely on (0 ok, 1
//! error, 2 usage). The same binary answers as `lakectl` through a symlink.

pub mod client;
mod cmd;
pub mod config;
pub mod error;
mod local;
pub mod output;
mod progress;
pub mod uri;

use clap::{Args, CommandFactory, Parser, ValueEnum};
use client::Client;
use config::Config;
use error::{CliError, CliResult};
use output::Out;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::OnceLock;
use uri::LakeFsUri;

/// What the server binary lends the client: checks that need the server's
/// own code (an action file's validation).
pub struct Local {
    /// Validates an action file's text: what it holds, or what is wrong.
    pub validate_action: fn(&[u8]) -> Result<String, String>,
}

const SERVER_HELP: &str = "Server commands (see `tarn <command> --help`):
  run           Serve the API, the S3 gateway and the UI
  setup         Set a server up and print its admin's access key
  set-password  Set a user's password
  migrate       Apply pending database migrations
  admin         Maintenance beside a server's data directory (gc, import, refs, action runs)";

/// Data version control for object storage: a lakectl-compatible client.
#[derive(Debug, Parser)]
#[command(name = "tarn", version, after_help = SERVER_HELP)]
pub struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: cmd::Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
struct Global {
    /// Configuration file (default: $LAKECTL_CONFIG_FILE, then $HOME/.lakectl.yaml).
    #[arg(short = 'c', long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// No colours, and tables as plain tab-separated lines.
    #[arg(long, global = true)]
    no_color: bool,
    /// Prefix for URI arguments that do not start with lakefs:// (e.g. lakefs://repo/main/).
    #[arg(long, global = true, env = "LAKECTL_BASE_URI", value_name = "URI")]
    base_uri: Option<String>,
    /// Output format of listings and shows.
    #[arg(short = 'o', long, global = true, value_enum, default_value = "text")]
    output: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// What a command needs: output mode, configuration, a client.
pub(crate) struct Ctx {
    out: Out,
    base_uri: Option<String>,
    config_flag: Option<PathBuf>,
    config: OnceLock<Config>,
    local: Local,
    /// argv[0]'s name: `tarn` or `lakectl`.
    name: &'static str,
}

impl Ctx {
    fn config(&self) -> CliResult<&Config> {
        if let Some(c) = self.config.get() {
            return Ok(c);
        }
        let loaded = Config::load(self.config_flag.as_deref())?;
        Ok(self.config.get_or_init(|| loaded))
    }

    fn client(&self) -> CliResult<Client> {
        Client::new(self.config()?)
    }

    fn base(&self) -> Option<&str> {
        self.base_uri.as_deref()
    }

    fn repo(&self, text: &str) -> CliResult<LakeFsUri> {
        LakeFsUri::repository_uri(text, self.base(), "repository URI")
    }

    fn reference(&self, text: &str) -> CliResult<LakeFsUri> {
        LakeFsUri::ref_uri(text, self.base(), "ref URI")
    }

    fn branch(&self, text: &str) -> CliResult<LakeFsUri> {
        LakeFsUri::branch_uri(text, self.base(), "branch URI")
    }

    fn path(&self, text: &str) -> CliResult<LakeFsUri> {
        LakeFsUri::path_uri(text, self.base(), "path URI")
    }

    /// `-p` if given, else `options.parallelism`, else 25.
    fn parallelism(&self, flag: Option<usize>) -> CliResult<usize> {
        let p = match flag {
            Some(p) => p,
            None => self.config()?.parallelism.unwrap_or(25),
        };
        if p == 0 {
            return error::usage("Invalid value for parallelism (0), minimum is 1.");
        }
        Ok(p)
    }
}

/// Whether `argv` is for the client (not `tarn run` and the other server
/// commands). As `lakectl`, always.
pub fn is_client_invocation(args: &[OsString]) -> bool {
    if invoked_as_lakectl(args) {
        return true;
    }
    const SERVER: &[&str] = &[
        "run",
        "setup",
        "set-password",
        "migrate",
        "admin",
        "lua-hook",
    ];
    match args.get(1).and_then(|a| a.to_str()) {
        Some(first) => !SERVER.contains(&first),
        None => true,
    }
}

fn invoked_as_lakectl(args: &[OsString]) -> bool {
    args.first()
        .map(PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .is_some_and(|name| name == "lakectl")
}

/// The clap command (for completion scripts and docs).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Runs the client with `args` (argv, program name first).
pub fn main(args: Vec<OsString>, local: Local) -> ExitCode {
    let name = if invoked_as_lakectl(&args) {
        "lakectl"
    } else {
        "tarn"
    };
    let mut command = Cli::command().name(name);
    if name == "lakectl" {
        // The server's commands are not offered under lakectl's name.
        command = command.after_help("");
    }
    let cli = match command.try_get_matches_from(&args) {
        Ok(m) => match <Cli as clap::FromArgMatches>::from_arg_matches(&m) {
            Ok(cli) => cli,
            Err(e) => e.exit(),
        },
        // Help and version exit 0, usage errors 2 (clap's codes).
        Err(e) => e.exit(),
    };
    let out = Out::new(cli.global.output == Format::Json, cli.global.no_color);
    let ctx = Ctx {
        out,
        base_uri: cli.global.base_uri.filter(|b| !b.is_empty()),
        config_flag: cli.global.config,
        config: OnceLock::new(),
        local,
        name,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cmd::run(&ctx, cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&ctx, &e),
    }
}

fn report(ctx: &Ctx, e: &CliError) -> ExitCode {
    let text = e.to_string();
    match e {
        CliError::Api { message, status } => {
            eprintln!("{}", ctx.out.paint(message, output::Paint::Red));
            eprintln!("{status}");
        }
        CliError::Usage(_) => {
            eprintln!("error: {text}");
            eprintln!("\nFor more information, try '{} --help'.", ctx.name);
        }
        _ => eprintln!(
            "{}",
            ctx.out.paint(format!("error: {text}"), output::Paint::Red)
        ),
    }
    ExitCode::from(e.exit_code())
}
