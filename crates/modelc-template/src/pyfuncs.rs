//! The Python side of dbt's Jinja context: `fromjson`/`tojson`,
//! `fromyaml`/`toyaml`, `zip`, `set`, `print`, `local_md5`, and `modules.re` /
//! `modules.datetime` (dates and datetimes with Python's attributes, `strftime`,
//! `strptime`, `fromisoformat`, `isoformat`, `timestamp`) and `modules.pytz`
//! (IANA time zones, from chrono-tz, with pytz's `localize` and its quirks).
//!
//! `modules.datetime.timedelta` too. Jinja cannot add objects: `date - timedelta(...)`
//! is rewritten into a call of [`datetime_op`] ([`crate::preprocess::datetime_arithmetic`]),
//! and so is `date - name` where the file sets `name` to a timedelta; a timedelta
//! reached otherwise (a macro's return value, a dict entry) and subtracted fails
//! with minijinja's "unsupported operation" naming the line.

use std::fmt;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use minijinja::value::{Kwargs, Object, Rest, Value};
use minijinja::{Environment, Error, ErrorKind, State};

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

fn to_json(v: &Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(v).map_err(|e| err(format!("cannot convert {v} to JSON: {e}")))
}

/// Registers the functions and the `modules` object.
pub fn register(env: &mut Environment<'static>) {
    env.add_function(
        "fromjson",
        |s: String, default: Option<Value>| -> Result<Value, Error> {
            match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(v) => Ok(crate::to_value(&v)),
                Err(e) => default.ok_or_else(|| err(format!("fromjson: {e}"))),
            }
        },
    );
    env.add_function(
        "tojson",
        |v: Value, default: Option<Value>, kwargs: Kwargs| -> Result<Value, Error> {
            let sort_keys = kwargs.get::<Option<bool>>("sort_keys")?.unwrap_or(false);
            match to_json(&v) {
                Ok(j) => Ok(Value::from(modelc_core::python_json(&j, sort_keys))),
                Err(e) => default.ok_or(e),
            }
        },
    );
    env.add_function(
        "fromyaml",
        |s: String, default: Option<Value>| -> Result<Value, Error> {
            match serde_yaml::from_str::<serde_json::Value>(&s) {
                Ok(v) => Ok(crate::to_value(&v)),
                Err(e) => default.ok_or_else(|| err(format!("fromyaml: {e}"))),
            }
        },
    );
    env.add_function("toyaml", |v: Value, default: Option<Value>| -> Result<Value, Error> {
        let yaml = to_json(&v).and_then(|j| serde_yaml::to_string(&j).map_err(|e| err(format!("toyaml: {e}"))));
        match yaml {
            Ok(s) => Ok(Value::from(s)),
            Err(e) => default.ok_or(e),
        }
    });
    env.add_function("zip", |lists: Rest<Value>| -> Result<Value, Error> {
        let columns: Vec<Vec<Value>> = lists
            .iter()
            .map(|l| l.try_iter().map(Iterator::collect))
            .collect::<Result<_, _>>()?;
        let n = columns.iter().map(Vec::len).min().unwrap_or(0);
        Ok(Value::from(
            (0..n)
                .map(|i| Value::from(columns.iter().map(|c| c[i].clone()).collect::<Vec<_>>()))
                .collect::<Vec<_>>(),
        ))
    });
    // A Python set has no order: sorted, two sets of the same items compare equal.
    let set = |items: Value| -> Result<Value, Error> {
        let mut out: Vec<Value> = items.try_iter()?.collect();
        out.sort();
        out.dedup();
        Ok(crate::mutable::List::new_value(out))
    };
    env.add_function("set", set);
    env.add_function("set_strict", set);
    env.add_function("print", |msg: Value| -> Value {
        eprintln!("{msg}");
        Value::from("")
    });
    env.add_function(crate::preprocess::DATETIME_OP_FN, |l: Value, op: String, r: Value| {
        datetime_op(&l, &op, &r)
    });
    env.add_function("local_md5", |s: String| -> Value {
        use md5::{Digest, Md5};
        let digest = Md5::digest(s.as_bytes());
        Value::from(digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
    });
    env.add_global("modules", Value::from_object(Modules));
}

/// `modules`: `re`, `datetime`.
#[derive(Debug)]
struct Modules;

impl Object for Modules {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "re" => Some(Value::from_object(Re)),
            "datetime" => Some(Value::from_object(DatetimeModule)),
            "pytz" => Some(Value::from_object(Pytz)),
            _ => None,
        }
    }
}

/// Python's `re`, on the `regex` crate (same syntax for what dbt code uses).
#[derive(Debug)]
struct Re;

fn regex(pattern: &str, flags: Option<&Value>) -> Result<regex::Regex, Error> {
    let ignore_case = flags.and_then(Value::as_i64).is_some_and(|f| f & 2 != 0);
    regex::RegexBuilder::new(pattern)
        .case_insensitive(ignore_case)
        .build()
        .map_err(|e| err(format!("re: bad pattern {pattern:?}: {e}")))
}

fn str_arg(args: &[Value], i: usize, what: &str) -> Result<String, Error> {
    args.get(i)
        .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
        .ok_or_else(|| Error::new(ErrorKind::MissingArgument, format!("re.{what} needs more arguments")))
}

impl Object for Re {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "IGNORECASE" | "I" => Some(Value::from(2)),
            _ => None,
        }
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let pattern = str_arg(args, 0, method)?;
        match method {
            "match" | "search" | "fullmatch" => {
                let text = str_arg(args, 1, method)?;
                let re = regex(&pattern, args.get(2))?;
                let found = re.captures(&text).filter(|c| {
                    c.get(0).is_some_and(|m| match method {
                        "match" => m.start() == 0,
                        "fullmatch" => m.start() == 0 && m.end() == text.len(),
                        _ => true,
                    })
                });
                Ok(match found {
                    Some(c) => Value::from_object(Match(c.iter().map(|g| g.map(|m| m.as_str().to_string())).collect())),
                    None => Value::from(()),
                })
            }
            "sub" => {
                let repl = str_arg(args, 1, method)?;
                let text = str_arg(args, 2, method)?;
                // Python's `\1` is the regex crate's `${1}`.
                let repl = regex::Regex::new(r"\\(\d+)")
                    .map(|r| r.replace_all(&repl, "$${$1}").into_owned())
                    .unwrap_or(repl);
                Ok(Value::from(
                    regex(&pattern, args.get(3))?
                        .replace_all(&text, repl.as_str())
                        .into_owned(),
                ))
            }
            "findall" => {
                let text = str_arg(args, 1, method)?;
                let re = regex(&pattern, args.get(2))?;
                Ok(Value::from(
                    re.captures_iter(&text)
                        .map(|c| {
                            let g = if c.len() > 1 { c.get(1) } else { c.get(0) };
                            Value::from(g.map(|m| m.as_str()).unwrap_or_default())
                        })
                        .collect::<Vec<_>>(),
                ))
            }
            "split" => {
                let text = str_arg(args, 1, method)?;
                Ok(Value::from(
                    regex(&pattern, None)?.split(&text).map(Value::from).collect::<Vec<_>>(),
                ))
            }
            "escape" => Ok(Value::from(regex::escape(&pattern))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// A match: truthy, with `group(n)` and `groups()`.
#[derive(Debug)]
struct Match(Vec<Option<String>>);

impl Object for Match {
    truthy!();

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let group = |i: usize| Value::from(self.0.get(i).cloned().flatten());
        match method {
            "group" => Ok(group(args.first().and_then(Value::as_usize).unwrap_or(0))),
            "groups" => Ok(Value::from((1..self.0.len()).map(group).collect::<Vec<_>>())),
            "start" | "end" => Err(err(format!("match.{method}() is not supported by modelc"))),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// `modules.datetime`: `datetime`, `date`.
#[derive(Debug)]
struct DatetimeModule;

impl Object for DatetimeModule {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "datetime" => Some(Value::from_object(DatetimeClass { date_only: false })),
            "date" => Some(Value::from_object(DatetimeClass { date_only: true })),
            "timedelta" => Some(Value::from_object(TimedeltaClass)),
            _ => None,
        }
    }
}

/// `datetime.timedelta(days, seconds, microseconds, milliseconds, minutes, hours,
/// weeks)`, each positional or by name, integers or floats, as in Python.
#[derive(Debug)]
struct TimedeltaClass;

impl Object for TimedeltaClass {
    truthy!();

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
        const UNITS: [(&str, f64); 7] = [
            ("days", 86_400e6),
            ("seconds", 1e6),
            ("microseconds", 1.0),
            ("milliseconds", 1e3),
            ("minutes", 60e6),
            ("hours", 3_600e6),
            ("weeks", 604_800e6),
        ];
        if args.len() > UNITS.len() {
            return Err(err("timedelta() takes at most 7 arguments"));
        }
        let mut micros = 0f64;
        for (i, (name, scale)) in UNITS.iter().enumerate() {
            let v = match args.get(i) {
                Some(v) => Some(v.clone()),
                None => kwargs.get::<Option<Value>>(name)?,
            };
            if let Some(v) = v {
                let n = f64::try_from(v.clone())
                    .map_err(|_| err(format!("timedelta(): {name} must be a number, not {v}")))?;
                micros += n * scale;
            }
        }
        kwargs.assert_all_used()?;
        Ok(Value::from_object(Timedelta(micros.round() as i64)))
    }
}

/// A `datetime.timedelta`, in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timedelta(i64);

impl Timedelta {
    const DAY: i64 = 86_400_000_000;

    /// Python's normalized parts: days (any sign), seconds and microseconds (not negative).
    fn parts(self) -> (i64, i64, i64) {
        let days = self.0.div_euclid(Self::DAY);
        let rest = self.0.rem_euclid(Self::DAY);
        (days, rest / 1_000_000, rest % 1_000_000)
    }
}

impl Object for Timedelta {
    /// False only when zero, as in Python.
    fn is_true(self: &Arc<Self>) -> bool {
        self.0 != 0
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let (days, seconds, micros) = self.parts();
        Some(match key.as_str()? {
            "days" => Value::from(days),
            "seconds" => Value::from(seconds),
            "microseconds" => Value::from(micros),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        _args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "total_seconds" => Ok(Value::from(self.0 as f64 / 1e6)),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    /// Python's `str()`: `10 days, 2:03:04`, `-1 day, 23:59:59`, `0:00:00.500000`.
    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, seconds, micros) = self.parts();
        if days != 0 {
            write!(f, "{days} day{}, ", if days.abs() == 1 { "" } else { "s" })?;
        }
        write!(f, "{}:{:02}:{:02}", seconds / 3600, seconds % 3600 / 60, seconds % 60)?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        Ok(())
    }

    fn custom_cmp(self: &Arc<Self>, other: &minijinja::value::DynObject) -> Option<std::cmp::Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Timedelta>()?.0))
    }
}

/// `left + right` or `left - right` with Python's date arithmetic, for what
/// [`crate::preprocess::datetime_arithmetic`] rewrites: a date or datetime and a
/// timedelta (a date moves by whole days, as in Python), or two timedeltas.
pub fn datetime_op(left: &Value, op: &str, right: &Value) -> Result<Value, Error> {
    let sign = match op {
        "+" => 1,
        "-" => -1,
        _ => return Err(err(format!("unknown operator {op:?}"))),
    };
    let date = |v: &Value| v.downcast_object_ref::<DateTime>().cloned();
    let delta = |v: &Value| v.downcast_object_ref::<Timedelta>().copied();
    match (date(left), delta(left), delta(right)) {
        (Some(d), _, Some(t)) => {
            let micros = if d.date_only { t.parts().0 * Timedelta::DAY } else { t.0 };
            let dt =
                d.dt.checked_add_signed(chrono::Duration::microseconds(sign * micros))
                    .ok_or_else(|| err("date value out of range"))?;
            Ok(Value::from_object(DateTime { dt, ..d }))
        }
        (_, Some(a), Some(b)) => Ok(Value::from_object(Timedelta(a.0 + sign * b.0))),
        _ => Err(err(format!(
            "unsupported operand types for {op}: {} and {}",
            left.kind(),
            right.kind()
        ))),
    }
}

/// A time zone: UTC, or an IANA zone from `modules.pytz.timezone(name)`.
#[derive(Debug, Clone, PartialEq)]
struct Zone {
    name: String,
    tz: chrono_tz::Tz,
}

impl Zone {
    fn utc() -> Zone {
        Zone {
            name: "UTC".into(),
            tz: chrono_tz::UTC,
        }
    }

    /// The offset (seconds east of UTC) of a local wall time here.
    fn local_offset(&self, local: &NaiveDateTime) -> i32 {
        use chrono::{Offset, TimeZone};
        self.tz
            .offset_from_local_datetime(local)
            .earliest()
            .map(|o| o.fix().local_minus_utc())
            .unwrap_or(0)
    }

    /// The offset at a UTC instant.
    fn utc_offset(&self, utc: &NaiveDateTime) -> i32 {
        use chrono::{Offset, TimeZone};
        self.tz.offset_from_utc_datetime(utc).fix().local_minus_utc()
    }

    /// What pytz gives `datetime(..., tzinfo=zone)`: the zone's first offset (its
    /// local mean time), rounded to the minute as pytz rounds it.
    fn pytz_default_offset(&self) -> i32 {
        let first = NaiveDate::from_ymd_opt(1800, 1, 1).map(|d| d.and_time(chrono::NaiveTime::MIN));
        let secs = first.map(|t| self.utc_offset(&t)).unwrap_or(0);
        (f64::from(secs) / 60.0).round() as i32 * 60
    }
}

/// `modules.pytz`: `timezone(name)`, `utc`.
#[derive(Debug)]
struct Pytz;

impl Object for Pytz {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "utc" | "UTC" => Some(Value::from_object(Zone::utc())),
            _ => None,
        }
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "timezone" => {
                let name = str_arg(args, 0, method)?;
                let tz: chrono_tz::Tz = name
                    .parse()
                    .map_err(|_| err(format!("pytz: unknown time zone {name:?}")))?;
                Ok(Value::from_object(Zone { name, tz }))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

impl Object for Zone {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match key.as_str()? {
            "zone" => Some(Value::from(self.name.as_str())),
            _ => None,
        }
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            // `tz.localize(naive)`: the same wall time, with the zone's offset then.
            "localize" => {
                let dt = args
                    .first()
                    .and_then(|v| v.downcast_object_ref::<DateTime>())
                    .ok_or_else(|| err("localize() takes a datetime"))?;
                Ok(Value::from_object(DateTime {
                    offset: Some(self.local_offset(&dt.dt)),
                    zone: Some((**self).clone()),
                    ..dt.clone()
                }))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// `datetime.datetime` / `datetime.date`: constructors and class methods.
#[derive(Debug)]
struct DatetimeClass {
    date_only: bool,
}

fn int_arg(args: &[Value], kwargs: &Kwargs, i: usize, name: &str, default: Option<i64>) -> Result<i64, Error> {
    match args.get(i) {
        Some(v) => v.as_i64().ok_or_else(|| err(format!("{name} must be an integer"))),
        None => match kwargs.get::<Option<i64>>(name)? {
            Some(v) => Ok(v),
            None => default.ok_or_else(|| Error::new(ErrorKind::MissingArgument, format!("missing {name}"))),
        },
    }
}

impl DatetimeClass {
    fn make(&self, dt: NaiveDateTime, offset: Option<i32>, zone: Option<Zone>) -> Value {
        Value::from_object(DateTime {
            dt,
            date_only: self.date_only,
            offset,
            zone,
        })
    }
}

impl Object for DatetimeClass {
    truthy!();

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let (args, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
        let n = |i, name, default| int_arg(args, &kwargs, i, name, default);
        let (y, m, d) = (n(0, "year", None)?, n(1, "month", None)?, n(2, "day", None)?);
        let (h, mi, s, us) = if self.date_only {
            (0, 0, 0, 0)
        } else {
            (
                n(3, "hour", Some(0))?,
                n(4, "minute", Some(0))?,
                n(5, "second", Some(0))?,
                n(6, "microsecond", Some(0))?,
            )
        };
        let tzinfo = match args.get(7) {
            Some(v) => Some(v.clone()),
            None => kwargs.get::<Option<Value>>("tzinfo")?,
        };
        let zone = tzinfo.as_ref().and_then(|v| v.downcast_object_ref::<Zone>()).cloned();
        let date = NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32).ok_or_else(|| err("date out of range"))?;
        let dt = date
            .and_hms_micro_opt(h as u32, mi as u32, s as u32, us as u32)
            .ok_or_else(|| err("time out of range"))?;
        let offset = zone.as_ref().map(Zone::pytz_default_offset);
        Ok(self.make(dt, offset, zone))
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "now" | "today" => Ok(self.make(chrono::Local::now().naive_local(), None, None)),
            "utcnow" => Ok(self.make(chrono::Utc::now().naive_utc(), None, None)),
            "strptime" => {
                let s = str_arg(args, 0, method)?;
                let fmt = python_format(&str_arg(args, 1, method)?);
                let dt = NaiveDateTime::parse_from_str(&s, &fmt)
                    .or_else(|_| NaiveDate::parse_from_str(&s, &fmt).map(|d| d.and_time(chrono::NaiveTime::MIN)))
                    .map_err(|e| err(format!("strptime({s:?}): {e}")))?;
                Ok(self.make(dt, None, None))
            }
            "fromisoformat" => {
                let s = str_arg(args, 0, method)?;
                parse_iso(&s)
                    .map(|(dt, offset)| self.make(dt, offset, None))
                    .ok_or_else(|| err(format!("Invalid isoformat string: {s:?}")))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}

/// An ISO 8601 text: the wall time and, when it has one, its offset.
fn parse_iso(s: &str) -> Option<(NaiveDateTime, Option<i32>)> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(&s.replace(' ', "T")) {
        return Some((dt.naive_local(), Some(dt.offset().local_minus_utc())));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some((dt, None));
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| (d.and_time(chrono::NaiveTime::MIN), None))
}

/// Python's `strftime` directives in chrono's words (`%f` is microseconds there).
fn python_format(fmt: &str) -> String {
    fmt.replace("%f", "%6f")
}

/// `+HH:MM` (with `:SS` when there are seconds), as Python prints an offset.
fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.unsigned_abs();
    let (h, m, s) = (a / 3600, a % 3600 / 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

/// A `datetime.datetime` or `datetime.date`: a wall time, aware when it has an
/// offset (seconds east of UTC).
#[derive(Debug, Clone)]
pub struct DateTime {
    dt: NaiveDateTime,
    date_only: bool,
    offset: Option<i32>,
    zone: Option<Zone>,
}

impl DateTime {
    /// `run_started_at`: an aware UTC datetime.
    pub fn utc_value(dt: chrono::DateTime<chrono::Utc>) -> Value {
        Value::from_object(DateTime {
            dt: dt.naive_utc(),
            date_only: false,
            offset: Some(0),
            zone: Some(Zone::utc()),
        })
    }

    /// The UTC instant of an aware datetime (a naive one is taken as UTC).
    fn instant(&self) -> NaiveDateTime {
        self.dt - chrono::Duration::seconds(i64::from(self.offset.unwrap_or(0)))
    }

    fn isoformat(&self, sep: &str) -> String {
        if self.date_only {
            return self.dt.format("%Y-%m-%d").to_string();
        }
        let mut s = self.dt.format(&format!("%Y-%m-%d{sep}%H:%M:%S")).to_string();
        if self.dt.nanosecond() >= 1_000 {
            s.push_str(&format!(".{:06}", self.dt.nanosecond() / 1_000));
        }
        if let Some(o) = self.offset {
            s.push_str(&offset_text(o));
        }
        s
    }
}

impl Object for DateTime {
    truthy!();

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let d = &self.dt;
        Some(match key.as_str()? {
            "year" => Value::from(d.year()),
            "month" => Value::from(d.month()),
            "day" => Value::from(d.day()),
            "hour" if !self.date_only => Value::from(d.hour()),
            "minute" if !self.date_only => Value::from(d.minute()),
            "second" if !self.date_only => Value::from(d.second()),
            "microsecond" if !self.date_only => Value::from(d.nanosecond() / 1_000),
            "tzinfo" if !self.date_only => match (&self.zone, self.offset) {
                (Some(z), _) => Value::from_object(z.clone()),
                (None, Some(o)) => Value::from(format!("UTC{}", offset_text(o))),
                (None, None) => Value::from(()),
            },
            _ => return None,
        })
    }

    fn call_method(self: &Arc<Self>, _state: &mut State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        match method {
            "strftime" => {
                let fmt = python_format(&str_arg(args, 0, method)?);
                let mut out = String::new();
                let written = match self.offset.and_then(chrono::FixedOffset::east_opt) {
                    Some(o) => {
                        let aware =
                            chrono::DateTime::<chrono::FixedOffset>::from_naive_utc_and_offset(self.instant(), o);
                        fmt::write(&mut out, format_args!("{}", aware.format(&fmt)))
                    }
                    None => fmt::write(&mut out, format_args!("{}", self.dt.format(&fmt))),
                };
                written.map_err(|_| err(format!("strftime: bad format {fmt:?}")))?;
                Ok(Value::from(out))
            }
            "isoformat" => Ok(Value::from(
                self.isoformat(args.first().and_then(Value::as_str).unwrap_or("T")),
            )),
            "date" => Ok(Value::from_object(DateTime {
                date_only: true,
                offset: None,
                zone: None,
                ..(**self).clone()
            })),
            "astimezone" => {
                let zone = args
                    .first()
                    .and_then(|v| v.downcast_object_ref::<Zone>())
                    .cloned()
                    .ok_or_else(|| err("astimezone() takes a time zone"))?;
                let utc = self.instant();
                let offset = zone.utc_offset(&utc);
                Ok(Value::from_object(DateTime {
                    dt: utc + chrono::Duration::seconds(i64::from(offset)),
                    date_only: false,
                    offset: Some(offset),
                    zone: Some(zone),
                }))
            }
            "timestamp" => Ok(Value::from(self.instant().and_utc().timestamp_micros() as f64 / 1e6)),
            "weekday" => Ok(Value::from(self.dt.weekday().num_days_from_monday())),
            "isoweekday" => Ok(Value::from(self.dt.weekday().number_from_monday())),
            "replace" => {
                let (_, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
                let get =
                    |k: &str, cur: u32| -> Result<u32, Error> { Ok(kwargs.get::<Option<u32>>(k)?.unwrap_or(cur)) };
                let d = &self.dt;
                let date = NaiveDate::from_ymd_opt(
                    kwargs.get::<Option<i32>>("year")?.unwrap_or(d.year()),
                    get("month", d.month())?,
                    get("day", d.day())?,
                )
                .ok_or_else(|| err("date out of range"))?;
                let dt = date
                    .and_hms_micro_opt(
                        get("hour", d.hour())?,
                        get("minute", d.minute())?,
                        get("second", d.second())?,
                        get("microsecond", d.nanosecond() / 1_000)?,
                    )
                    .ok_or_else(|| err("time out of range"))?;
                let mut out = DateTime { dt, ..(**self).clone() };
                if let Some(tz) = kwargs.get::<Option<Value>>("tzinfo")? {
                    out.zone = tz.downcast_object_ref::<Zone>().cloned();
                    out.offset = out.zone.as_ref().map(Zone::pytz_default_offset);
                }
                Ok(Value::from_object(out))
            }
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Python's str(): a space between date and time.
        f.write_str(&self.isoformat(" "))
    }

    fn custom_cmp(self: &Arc<Self>, other: &minijinja::value::DynObject) -> Option<std::cmp::Ordering> {
        let other = other.downcast_ref::<DateTime>()?;
        Some(self.instant().cmp(&other.instant()))
    }
}
