//! How results are shown: boxed tables and colours on a terminal, plain
//! tab-separated lines in pipes, JSON with `--output json`.

use comfy_table::{presets, ContentArrangement, Table};
use serde_json::Value;
use std::io::{IsTerminal, Write};
use time::OffsetDateTime;

/// A colour for `Out::paint`.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    Red,
    Green,
    Yellow,
    HiYellow,
    Bold,
}

/// The output mode of this run.
#[derive(Debug, Clone, Copy)]
pub struct Out {
    /// `--output json`.
    pub json: bool,
    /// stdout is a terminal (or LAKECTL_INTERACTIVE=true), colours allowed.
    pub terminal: bool,
    /// stderr is a terminal: progress bars are drawn there.
    pub progress: bool,
}

fn env_bool(name: &str) -> Option<bool> {
    let v = std::env::var(name).ok()?;
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" => Some(true),
        "0" | "false" | "f" | "no" => Some(false),
        _ => None,
    }
}

impl Out {
    pub fn new(json: bool, no_color: bool) -> Out {
        let no_color =
            no_color || std::env::var("NO_COLOR").is_ok_and(|v| !v.is_empty() && v != "0");
        let interactive = env_bool("LAKECTL_INTERACTIVE");
        let terminal = !no_color && interactive.unwrap_or_else(|| std::io::stdout().is_terminal());
        let progress = interactive.unwrap_or_else(|| std::io::stderr().is_terminal());
        Out {
            json,
            terminal,
            progress,
        }
    }

    /// Writes a line to stdout; a closed pipe ends the program quietly.
    pub fn line(&self, text: impl AsRef<str>) {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, "{}", text.as_ref()) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }

    /// `text` in `paint` on a terminal; as is otherwise.
    pub fn paint(&self, text: impl AsRef<str>, paint: Paint) -> String {
        let text = text.as_ref();
        if !self.terminal {
            return text.to_owned();
        }
        let code = match paint {
            Paint::Red => "31",
            Paint::Green => "32",
            Paint::Yellow => "33",
            Paint::HiYellow => "93",
            Paint::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    /// A table: boxed with upper-case headers on a terminal, tab-separated
    /// rows with no header in pipes.
    pub fn table(&self, headers: &[&str], rows: &[Vec<String>]) {
        if !self.terminal {
            for row in rows {
                self.line(row.join("\t"));
            }
            return;
        }
        let mut table = Table::new();
        table
            .load_preset(presets::ASCII_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled)
            .set_header(headers.iter().map(|h| h.to_uppercase()));
        for row in rows {
            table.add_row(row);
        }
        self.line(table.to_string());
    }

    /// A JSON document, indented.
    pub fn json(&self, value: &Value) {
        self.line(serde_json::to_string_pretty(value).unwrap_or_default());
    }

    /// lakectl's "more results" hint, on a terminal only.
    pub fn more_hint(&self, pagination: &Value, amount: usize) {
        if self.terminal && pagination["has_more"].as_bool() == Some(true) && amount > 0 {
            let next = pagination["next_offset"].as_str().unwrap_or_default();
            let hint = self.paint(
                format!("--amount {amount} --after \"{next}\""),
                Paint::HiYellow,
            );
            self.line(format!("for more results run with {hint}"));
        }
    }
}

/// Seconds since the epoch as lakectl prints dates (in UTC).
pub fn date(unix: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => unix.to_string(),
    }
}

/// Sizes in decimal units as lakectl prints them (`1.5 kB`).
pub fn human_bytes(n: u64) -> String {
    if n < 1000 {
        return format!("{n} B");
    }
    let units = ['k', 'M', 'G', 'T', 'P', 'E'];
    let mut value = n as f64 / 1000.0;
    let mut i = 0;
    while value >= 1000.0 && i < units.len() - 1 {
        value /= 1000.0;
        i += 1;
    }
    format!("{value:.1} {}B", units[i])
}

/// A string field of a JSON object ("" if absent).
pub fn s<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key].as_str().unwrap_or_default()
}

/// An integer field of a JSON object (0 if absent).
pub fn n(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates_as_lakectl_prints_them() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1500), "1.5 kB");
        assert_eq!(human_bytes(12_300_000), "12.3 MB");
        assert_eq!(date(0), "1970-01-01 00:00:00 +0000 UTC");
    }
}
