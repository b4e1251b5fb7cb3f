//! `tarn actions ...` (lakectl actions): checking action files.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use tarn_domain::actions::Action;

/// `tarn actions validate FILE`: parses and checks the file as the server
/// reads `_lakefs_actions/`; says what it holds, or what is wrong (exit 1).
pub fn validate(file: &Path) -> ExitCode {
    let bytes = if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map(|_| buf)
    } else {
        std::fs::read(file)
    };
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            eprintln!("tarn: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    match Action::parse(&bytes) {
        Ok(action) => {
            let events: Vec<String> = action
                .on
                .iter()
                .map(|(event, branches)| {
                    if branches.is_empty() {
                        event.to_string()
                    } else {
                        format!("{event} ({})", branches.join(", "))
                    }
                })
                .collect();
            println!(
                "{}: valid action {:?}: {} hook(s) on {}",
                file.display(),
                action.name,
                action.hooks.len(),
                events.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            ExitCode::FAILURE
        }
    }
}
