//! `time`, as lakeFS's Lua library has it: times are nanoseconds since the
//! epoch (Lua integers here), layouts are Go's reference-time layouts
//! (`2006-01-02T15:04:05Z07:00`). Zones: `""`, `UTC` and `Local` (the
//! server's, which is UTC); other
//! zone names are refused (no time zone database is compiled in).

use super::limits;
use mlua::{Lua, Table};
use time::{Month, OffsetDateTime, UtcOffset, Weekday};

const ISO: &str = "2006-01-02T15:04:05-07:00";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekday,
    Weekday,
    Day,
    UnderDay,
    ZeroDay,
    YearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    ZoneName,
    /// Numeric offset: with colon, with `Z` for UTC, hours only.
    Offset {
        colon: bool,
        z: bool,
        short: bool,
    },
    /// Fraction of a second: digits, whether trailing zeros go (`9`s).
    Frac(usize, bool),
}

/// The longest layout read (Go's are a few dozen characters).
const MAX_LAYOUT: usize = 256;

fn layout_ok(layout: &str) -> mlua::Result<()> {
    if layout.len() > MAX_LAYOUT {
        return Err(mlua::Error::runtime(format!(
            "a time layout has at most {MAX_LAYOUT} bytes"
        )));
    }
    Ok(())
}

/// Splits a Go layout into its parts.
fn tokens(layout: &str) -> Vec<Tok> {
    const TABLE: &[(&str, Tok)] = &[
        ("January", Tok::LongMonth),
        ("Jan", Tok::Month),
        ("Monday", Tok::LongWeekday),
        ("Mon", Tok::Weekday),
        ("MST", Tok::ZoneName),
        ("2006", Tok::LongYear),
        (
            "Z07:00",
            Tok::Offset {
                colon: true,
                z: true,
                short: false,
            },
        ),
        (
            "Z0700",
            Tok::Offset {
                colon: false,
                z: true,
                short: false,
            },
        ),
        (
            "Z07",
            Tok::Offset {
                colon: false,
                z: true,
                short: true,
            },
        ),
        (
            "-07:00",
            Tok::Offset {
                colon: true,
                z: false,
                short: false,
            },
        ),
        (
            "-0700",
            Tok::Offset {
                colon: false,
                z: false,
                short: false,
            },
        ),
        (
            "-07",
            Tok::Offset {
                colon: false,
                z: false,
                short: true,
            },
        ),
        ("002", Tok::YearDay),
        ("01", Tok::ZeroMonth),
        ("02", Tok::ZeroDay),
        ("03", Tok::ZeroHour12),
        ("04", Tok::ZeroMinute),
        ("05", Tok::ZeroSecond),
        ("06", Tok::Year),
        ("_2", Tok::UnderDay),
        ("15", Tok::Hour),
        ("1", Tok::NumMonth),
        ("2", Tok::Day),
        ("3", Tok::Hour12),
        ("4", Tok::Minute),
        ("5", Tok::Second),
        ("PM", Tok::PM),
        ("pm", Tok::Pm),
    ];
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        // A fraction: `.` or `,` then 0s or 9s, not followed by a digit.
        if rest.starts_with(['.', ',']) {
            let digits: String = rest[1..]
                .chars()
                .take_while(|c| *c == '0' || *c == '9')
                .collect();
            let next = rest[1 + digits.len()..].chars().next();
            let same = digits.chars().all(|c| digits.starts_with(c));
            if !digits.is_empty() && same && !next.is_some_and(|c| c.is_ascii_digit()) {
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                out.push(Tok::Frac(digits.len(), digits.starts_with('9')));
                rest = &rest[1 + digits.len()..];
                continue;
            }
        }
        for (name, tok) in TABLE {
            if rest.starts_with(name) {
                if !lit.is_empty() {
                    out.push(Tok::Lit(std::mem::take(&mut lit)));
                }
                out.push(tok.clone());
                rest = &rest[name.len()..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        lit.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if !lit.is_empty() {
        out.push(Tok::Lit(lit));
    }
    out
}

fn month_name(m: Month) -> String {
    format!("{m}")
}

fn weekday_name(w: Weekday) -> String {
    format!("{w}")
}

fn offset_text(off: UtcOffset, colon: bool, z: bool, short: bool) -> String {
    if z && off.is_utc() {
        return "Z".to_owned();
    }
    let secs = off.whole_seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let (h, m) = (secs.abs() / 3600, (secs.abs() % 3600) / 60);
    match (short, colon) {
        (true, _) => format!("{sign}{h:02}"),
        (false, true) => format!("{sign}{h:02}:{m:02}"),
        (false, false) => format!("{sign}{h:02}{m:02}"),
    }
}

/// Formats `t` by a Go layout.
fn format(t: OffsetDateTime, layout: &str) -> String {
    let mut out = String::new();
    let h12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    for tok in tokens(layout) {
        let s = match tok {
            Tok::Lit(s) => s,
            Tok::LongMonth => month_name(t.month()),
            Tok::Month => month_name(t.month())[..3].to_owned(),
            Tok::NumMonth => (t.month() as u8).to_string(),
            Tok::ZeroMonth => format!("{:02}", t.month() as u8),
            Tok::LongWeekday => weekday_name(t.weekday()),
            Tok::Weekday => weekday_name(t.weekday())[..3].to_owned(),
            Tok::Day => t.day().to_string(),
            Tok::UnderDay => format!("{:>2}", t.day()),
            Tok::ZeroDay => format!("{:02}", t.day()),
            Tok::YearDay => format!("{:03}", t.ordinal()),
            Tok::Hour => format!("{:02}", t.hour()),
            Tok::Hour12 => h12.to_string(),
            Tok::ZeroHour12 => format!("{h12:02}"),
            Tok::Minute => t.minute().to_string(),
            Tok::ZeroMinute => format!("{:02}", t.minute()),
            Tok::Second => t.second().to_string(),
            Tok::ZeroSecond => format!("{:02}", t.second()),
            Tok::LongYear => format!("{:04}", t.year()),
            Tok::Year => format!("{:02}", t.year().rem_euclid(100)),
            Tok::PM => if t.hour() >= 12 { "PM" } else { "AM" }.to_owned(),
            Tok::Pm => if t.hour() >= 12 { "pm" } else { "am" }.to_owned(),
            Tok::ZoneName => {
                if t.offset().is_utc() {
                    "UTC".to_owned()
                } else {
                    offset_text(t.offset(), false, false, false)
                }
            }
            Tok::Offset { colon, z, short } => offset_text(t.offset(), colon, z, short),
            Tok::Frac(n, trim) => {
                let digits = format!("{:09}", t.nanosecond());
                let mut d = digits[..n.min(9)].to_owned();
                if trim {
                    d = d.trim_end_matches('0').to_owned();
                }
                if d.is_empty() {
                    String::new()
                } else {
                    format!(".{d}")
                }
            }
        };
        out.push_str(&s);
    }
    out
}

fn take_num(s: &mut &str, min: usize, max: usize) -> Result<i64, String> {
    let n = s.chars().take(max).take_while(char::is_ascii_digit).count();
    if n < min {
        return Err(format!("cannot parse {s:?}: expected a number"));
    }
    let v = s[..n].parse::<i64>().map_err(|e| e.to_string())?;
    *s = &s[n..];
    Ok(v)
}

fn take_name<T: Copy>(s: &mut &str, names: &[(String, T)]) -> Result<T, String> {
    for (name, v) in names {
        let head = s.as_bytes().get(..name.len());
        // Names are ASCII: a match ends on a character boundary.
        if head.is_some_and(|h| h.eq_ignore_ascii_case(name.as_bytes())) {
            *s = &s[name.len()..];
            return Ok(*v);
        }
    }
    Err(format!("cannot parse {s:?}: expected a name"))
}

const MONTHS: [Month; 12] = [
    Month::January,
    Month::February,
    Month::March,
    Month::April,
    Month::May,
    Month::June,
    Month::July,
    Month::August,
    Month::September,
    Month::October,
    Month::November,
    Month::December,
];

/// Parses `value` by a Go layout, as nanoseconds since the epoch.
fn parse(layout: &str, value: &str) -> Result<i64, String> {
    let err = |e: String| format!("parsing time {value:?} as {layout:?}: {e}");
    let (mut year, mut month, mut day, mut hour, mut min, mut sec, mut nanos) =
        (1i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0i64);
    let (mut pm, mut offset) = (None, 0i64);
    let mut s = value;
    let long_months: Vec<(String, usize)> = MONTHS
        .iter()
        .enumerate()
        .map(|(i, m)| (month_name(*m), i + 1))
        .collect();
    let short_months: Vec<(String, usize)> = long_months
        .iter()
        .map(|(n, i)| (n[..3].to_owned(), *i))
        .collect();
    for tok in tokens(layout) {
        match tok {
            Tok::Lit(l) => {
                s = s
                    .strip_prefix(l.as_str())
                    .ok_or_else(|| err(format!("cannot parse {s:?} as {l:?}")))?;
            }
            Tok::LongMonth => month = take_name(&mut s, &long_months).map_err(err)? as i64,
            Tok::Month => month = take_name(&mut s, &short_months).map_err(err)? as i64,
            Tok::NumMonth => month = take_num(&mut s, 1, 2).map_err(err)?,
            Tok::ZeroMonth => month = take_num(&mut s, 2, 2).map_err(err)?,
            Tok::LongWeekday | Tok::Weekday => {
                let n = s.chars().take_while(char::is_ascii_alphabetic).count();
                s = &s[n..];
            }
            Tok::Day => day = take_num(&mut s, 1, 2).map_err(err)?,
            Tok::UnderDay => {
                s = s.strip_prefix(' ').unwrap_or(s);
                day = take_num(&mut s, 1, 2).map_err(err)?;
            }
            Tok::ZeroDay => day = take_num(&mut s, 2, 2).map_err(err)?,
            Tok::YearDay => {
                take_num(&mut s, 3, 3).map_err(err)?;
            }
            Tok::Hour => hour = take_num(&mut s, 1, 2).map_err(err)?,
            Tok::Hour12 => hour = take_num(&mut s, 1, 2).map_err(err)?,
            Tok::ZeroHour12 => hour = take_num(&mut s, 2, 2).map_err(err)?,
            Tok::Minute => min = take_num(&mut s, 1, 2).map_err(err)?,
            Tok::ZeroMinute => min = take_num(&mut s, 2, 2).map_err(err)?,
            Tok::Second | Tok::ZeroSecond => {
                sec = take_num(&mut s, 1, 2).map_err(err)?;
                // Go accepts a fraction after seconds even when the layout
                // has none.
                if let Some(rest) = s.strip_prefix('.') {
                    if rest.starts_with(|c: char| c.is_ascii_digit()) {
                        s = rest;
                        nanos = fraction(&mut s);
                    }
                }
            }
            Tok::LongYear => year = take_num(&mut s, 4, 4).map_err(err)?,
            Tok::Year => {
                let y = take_num(&mut s, 2, 2).map_err(err)?;
                year = if y >= 69 { 1900 + y } else { 2000 + y };
            }
            Tok::PM | Tok::Pm => {
                let names = [("PM".to_owned(), true), ("AM".to_owned(), false)];
                pm = Some(take_name(&mut s, &names).map_err(err)?);
            }
            Tok::ZoneName => {
                let n = s.chars().take_while(char::is_ascii_alphabetic).count();
                s = &s[n..];
            }
            Tok::Offset { colon, z, short } => {
                if z && s.starts_with('Z') {
                    s = &s[1..];
                    continue;
                }
                let sign = match s.chars().next() {
                    Some('+') => 1,
                    Some('-') => -1,
                    _ => return Err(err(format!("cannot parse {s:?} as a zone offset"))),
                };
                s = &s[1..];
                let h = take_num(&mut s, 2, 2).map_err(err)?;
                let m = if short {
                    0
                } else {
                    if colon {
                        s = s
                            .strip_prefix(':')
                            .ok_or_else(|| err("expected ':' in the offset".to_owned()))?;
                    }
                    take_num(&mut s, 2, 2).map_err(err)?
                };
                offset = sign * (h * 3600 + m * 60);
            }
            Tok::Frac(..) => {
                if let Some(rest) = s.strip_prefix(['.', ',']) {
                    s = rest;
                    nanos = fraction(&mut s);
                }
            }
        }
    }
    if !s.is_empty() {
        return Err(err(format!("extra text: {s:?}")));
    }
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or_else(|| err("month out of range".to_owned()))?;
    let as_u8 =
        |v: i64, what: &str| u8::try_from(v).map_err(|_| err(format!("{what} out of range")));
    let date = time::Date::from_calendar_date(year as i32, month, as_u8(day, "day")?)
        .map_err(|e| err(e.to_string()))?;
    let clock = time::Time::from_hms_nano(
        as_u8(hour, "hour")?,
        as_u8(min, "minute")?,
        as_u8(sec, "second")?,
        nanos as u32,
    )
    .map_err(|e| err(e.to_string()))?;
    let off = UtcOffset::from_whole_seconds(offset as i32).map_err(|e| err(e.to_string()))?;
    let t = time::PrimitiveDateTime::new(date, clock).assume_offset(off);
    i64::try_from(t.unix_timestamp_nanos()).map_err(|e| err(e.to_string()))
}

fn fraction(s: &mut &str) -> i64 {
    let n = s.chars().take_while(char::is_ascii_digit).count();
    let digits = &s[..n];
    *s = &s[n..];
    let mut padded = format!("{:0<9}", digits);
    padded.truncate(9);
    padded.parse().unwrap_or(0)
}

fn zone(name: &str) -> mlua::Result<UtcOffset> {
    match name {
        // The server's zone: Tarn keeps time in UTC.
        "" | "UTC" | "Local" => Ok(UtcOffset::UTC),
        other => Err(mlua::Error::runtime(format!("unknown time zone {other}"))),
    }
}

/// The time at `ns`, truncated to whole seconds (as lakeFS's formatting
/// does), in `zone`.
fn at(ns: i64, zone_name: &str) -> mlua::Result<OffsetDateTime> {
    let secs = ns.div_euclid(1_000_000_000);
    OffsetDateTime::from_unix_timestamp(secs)
        .map(|t| t.to_offset(zone(zone_name).unwrap_or(UtcOffset::UTC)))
        .map_err(|e| mlua::Error::runtime(e.to_string()))
}

fn now_ns() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// The `time` module.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set("now", lua.create_function(|_, ()| Ok(now_ns()))?)?;
    m.set(
        "since",
        lua.create_function(|_, t: i64| Ok(now_ns().saturating_sub(t)))?,
    )?;
    m.set(
        "sleep",
        lua.create_function(|lua, ns: i64| {
            // Never past the hook's deadline: a sleep that would end after
            // it sleeps until it and stops the hook.
            let deadline = limits(lua).deadline;
            let want = std::time::Duration::from_nanos(ns.max(0) as u64);
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            std::thread::sleep(want.min(left));
            if want > left {
                return Err(mlua::Error::runtime(
                    "the Lua hook ran out of time (actions.lua.timeout_secs)",
                ));
            }
            Ok(ns)
        })?,
    )?;
    m.set(
        "add",
        lua.create_function(|_, (t, d): (i64, Table)| {
            let h: i64 = d.get::<Option<i64>>("hour")?.unwrap_or(0);
            let mi: i64 = d.get::<Option<i64>>("minute")?.unwrap_or(0);
            let s: i64 = d.get::<Option<i64>>("second")?.unwrap_or(0);
            let secs = h
                .saturating_mul(3600)
                .saturating_add(mi.saturating_mul(60))
                .saturating_add(s);
            Ok(t.saturating_add(secs.saturating_mul(1_000_000_000)))
        })?,
    )?;
    m.set(
        "parse",
        lua.create_function(|_, (layout, value): (String, String)| {
            layout_ok(&layout)?;
            parse(&layout, &value).map_err(mlua::Error::runtime)
        })?,
    )?;
    m.set(
        "parse_iso",
        lua.create_function(|_, value: String| parse(ISO, &value).map_err(mlua::Error::runtime))?,
    )?;
    m.set(
        "format",
        lua.create_function(|_, (t, layout, z): (i64, String, String)| {
            layout_ok(&layout)?;
            zone(&z)?;
            Ok(format(at(t, &z)?, &layout))
        })?,
    )?;
    m.set(
        "format_iso",
        lua.create_function(|_, (t, z): (i64, Option<String>)| {
            let z = z.unwrap_or_default();
            zone(&z)?;
            Ok(format(at(t, &z)?, ISO))
        })?,
    )?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_layouts_format_and_parse_back() {
        let ns = parse("2006-01-02T15:04:05Z07:00", "2024-03-05T07:08:09+02:00").unwrap();
        let t = at(ns, "UTC").unwrap();
        assert_eq!(
            format(t, "2006-01-02T15:04:05Z07:00"),
            "2024-03-05T05:08:09Z"
        );
        assert_eq!(format(t, ISO), "2024-03-05T05:08:09+00:00");
        assert_eq!(format(t, "Jan _2 3:04PM Mon"), "Mar  5 5:08AM Tue");
        assert_eq!(parse(ISO, "2024-03-05T05:08:09+00:00").unwrap(), ns);
        assert_eq!(
            parse("2006-01-02 15:04:05.000", "2024-03-05 05:08:09.250").unwrap(),
            ns + 250_000_000
        );
        assert!(parse(ISO, "2024-03-05T05:08:09Z").is_err());
        assert!(parse("2006-01-02", "2024-13-01").is_err());
    }
}
