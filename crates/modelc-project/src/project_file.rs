//! `project.yml` / `dbt_project.yml` and `profiles.yml`.

use std::path::{Path, PathBuf};

use modelc_core::{did_you_mean, Diagnostic, JsonMap};
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use crate::stamp::{hash_text, pre_stamp, Stamps};
use crate::yaml::{self, Lines, Shape};

/// Top-level keys of a project file.
const PROJECT_KEYS: &[&str] = &[
    "name",
    "version",
    "config-version",
    "profile",
    "model-paths",
    "seed-paths",
    "snapshot-paths",
    "macro-paths",
    "test-paths",
    "analysis-paths",
    "docs-paths",
    "asset-paths",
    "target-path",
    "log-path",
    "packages-install-path",
    "clean-targets",
    "vars",
    "models",
    "seeds",
    "snapshots",
    "tests",
    "data_tests",
    "sources",
    "analyses",
    "on-run-start",
    "on-run-end",
    "require-dbt-version",
    "quoting",
    "dispatch",
    "query-comment",
    "flags",
    "restrict-access",
    "semantic-models",
    "saved-queries",
    "metrics",
    "exposures",
    "unit_tests",
    "duckdb",
];

/// What the keys of a project file hold: a value of another kind is an error
/// (it would otherwise be ignored, and a default used in its place).
const PROJECT_SHAPES: &[(&str, Shape)] = &[
    ("name", Shape::Scalar),
    ("version", Shape::Scalar),
    ("config-version", Shape::Integer),
    ("profile", Shape::Scalar),
    ("model-paths", Shape::TextOrList),
    ("seed-paths", Shape::TextOrList),
    ("snapshot-paths", Shape::TextOrList),
    ("macro-paths", Shape::TextOrList),
    ("test-paths", Shape::TextOrList),
    ("analysis-paths", Shape::TextOrList),
    ("docs-paths", Shape::TextOrList),
    ("asset-paths", Shape::TextOrList),
    ("target-path", Shape::Scalar),
    ("log-path", Shape::Scalar),
    ("packages-install-path", Shape::Scalar),
    ("clean-targets", Shape::ScalarOrList),
    ("vars", Shape::Mapping),
    ("models", Shape::Mapping),
    ("seeds", Shape::Mapping),
    ("snapshots", Shape::Mapping),
    ("tests", Shape::Mapping),
    ("data_tests", Shape::Mapping),
    ("sources", Shape::Mapping),
    ("analyses", Shape::Mapping),
    ("on-run-start", Shape::ScalarOrList),
    ("on-run-end", Shape::ScalarOrList),
    ("require-dbt-version", Shape::ScalarOrList),
    ("quoting", Shape::Mapping),
    ("dispatch", Shape::List),
    ("flags", Shape::Mapping),
    ("duckdb", Shape::Mapping),
];

/// What the keys of modelc's `duckdb:` block (and of a profile's output) hold.
const DB_SHAPES: &[(&str, Shape)] = &[
    ("path", Shape::Scalar),
    ("schema", Shape::Scalar),
    ("threads", Shape::Integer),
    ("extensions", Shape::List),
    ("settings", Shape::Mapping),
    ("attach", Shape::List),
];

/// The database settings modelc reads from `project.yml` (`duckdb:`) or a dbt profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DbSettings {
    /// Database file, relative to the project root unless absolute; `:memory:` allowed.
    pub path: Option<String>,
    /// Target schema (default `main`).
    pub schema: Option<String>,
    /// Threads.
    pub threads: Option<usize>,
    /// DuckDB extensions to load.
    pub extensions: Vec<String>,
    /// `SET` statements to run on every connection.
    pub settings: JsonMap,
    /// `attach:`: other DuckDB files, as (path as written, alias, read-only).
    pub attach: Vec<(String, Option<String>, bool)>,
    /// The target name (dbt's `target.name`), default `dev`.
    pub target_name: Option<String>,
    /// The profile's `type:` (default `duckdb`), one of [`modelc_core::ENGINES`].
    pub engine: Option<String>,
    /// A server engine's connection (`host`, `port`, `user`, `password`, `dbname`).
    pub server: Option<modelc_core::ServerConfig>,
    /// A server engine's database (`dbname`, or dbt's alias `database`).
    pub dbname: Option<String>,
    /// Where the settings came from, for messages.
    pub origin: String,
}

/// A parsed project file.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The file it was read from, relative to the project root.
    pub file: String,
    /// Its text, to locate keys in diagnostics.
    pub text: String,
    /// Project name.
    pub name: String,
    /// Project version.
    pub version: Option<String>,
    /// dbt profile name.
    pub profile: Option<String>,
    /// Folders of models.
    pub model_paths: Vec<String>,
    /// Folders of seeds.
    pub seed_paths: Vec<String>,
    /// Folders of snapshots.
    pub snapshot_paths: Vec<String>,
    /// Folders of macros.
    pub macro_paths: Vec<String>,
    /// Folders of singular tests (and `generic/` test definitions).
    pub test_paths: Vec<String>,
    /// Folders of analyses.
    pub analysis_paths: Vec<String>,
    /// Folders of docs blocks (default: every resource folder).
    pub docs_paths: Vec<String>,
    /// Where artifacts go.
    pub target_path: String,
    /// `vars:` (global values and per-package maps).
    pub vars: JsonMap,
    /// Folder-level configs, by resource key (`models`, `seeds`, `snapshots`, `data_tests`, `sources`).
    pub resource_configs: JsonMap,
    /// `on-run-start` hooks.
    pub on_run_start: Vec<String>,
    /// `on-run-end` hooks.
    pub on_run_end: Vec<String>,
    /// modelc's own `duckdb:` block.
    pub duckdb: DbSettings,
    /// Where `modelc deps` installs packages and where they are loaded from
    /// (`packages-install-path`, default `dbt_packages`).
    pub packages_install_path: String,
    /// `dispatch:` entries: a macro namespace and the packages searched for it, in order.
    pub dispatch: Vec<(String, Vec<String>)>,
    /// `require-dbt-version`, as written (a string or a list of range strings).
    pub require_dbt_version: Vec<String>,
}

/// Finds and parses the project file in `root`: `project.yml`, else `dbt_project.yml`.
pub fn read_project_file(root: &Path, diags: &mut Vec<Diagnostic>) -> Option<ProjectConfig> {
    let file = ["project.yml", "dbt_project.yml"]
        .into_iter()
        .find(|f| root.join(f).is_file());
    let Some(file) = file else {
        diags.push(
            Diagnostic::error(
                "no-project",
                format!("no project.yml or dbt_project.yml in {}", root.display()),
            )
            .with_help("run modelc from a project folder, or pass --project-dir"),
        );
        return None;
    };
    let text = match std::fs::read_to_string(root.join(file)) {
        Ok(mut t) => {
            crate::strip_bom(&mut t);
            t
        }
        Err(e) => {
            diags.push(Diagnostic::error("io", format!("cannot read {file}: {e}")).in_file(file));
            return None;
        }
    };
    parse_project_text(file, &text, diags)
}

/// Parses the text of a project file (`file` names it in diagnostics): what
/// [`read_project_file`] does once it has read the file.
pub fn parse_project_text(file: &str, text: &str, diags: &mut Vec<Diagnostic>) -> Option<ProjectConfig> {
    let doc = match yaml::parse(file, text) {
        Ok(doc) => doc,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    parse_project(file, text, &doc, diags)
}

fn parse_project(file: &str, text: &str, doc: &Yaml, diags: &mut Vec<Diagnostic>) -> Option<ProjectConfig> {
    let lines = Lines::new(text);
    let Some(map) = doc.as_mapping() else {
        diags.push(Diagnostic::error("project-file", "the project file must be a YAML mapping").at(file, 1, 1));
        return None;
    };
    for key in map.keys().map(yaml::key_string) {
        if !PROJECT_KEYS.contains(&key.as_str()) {
            let (line, col) = lines.find_key(&key, 1);
            let mut d = Diagnostic::warning("unknown-key", format!("unknown key '{key}' in the project file"))
                .at(file, line, col);
            if let Some(s) = did_you_mean(&key, PROJECT_KEYS.iter().copied()) {
                d = d.with_help(format!("did you mean '{s}'?"));
            }
            diags.push(d);
        }
    }
    let wrong = yaml::check_shapes(file, &lines, doc, PROJECT_SHAPES, "the project file", 1);
    let mut wrong_db = Vec::new();
    if let Some(db) = doc.get("duckdb").filter(|v| v.is_mapping()) {
        let from = lines.find_key("duckdb", 1).0;
        wrong_db = yaml::check_shapes(file, &lines, db, DB_SHAPES, "'duckdb:'", from);
    }
    if !wrong.is_empty() || !wrong_db.is_empty() {
        diags.extend(wrong);
        diags.extend(wrong_db);
        return None;
    }
    let Some(name) = yaml::get_str(doc, "name") else {
        let d = Diagnostic::error("project-file", "the project file has no 'name'").at(file, 1, 1);
        diags.push(d);
        return None;
    };
    let paths = |key: &str, default: &str| -> Vec<String> {
        match doc.get(key) {
            Some(Yaml::Sequence(items)) => items.iter().filter_map(|v| v.as_str().map(trim_slash)).collect(),
            Some(Yaml::String(s)) => vec![trim_slash(s)],
            _ => vec![default.to_string()],
        }
    };
    let resource_configs: JsonMap = [
        "models",
        "seeds",
        "snapshots",
        "data_tests",
        "tests",
        "sources",
        "analyses",
    ]
    .into_iter()
    .filter_map(|k| {
        doc.get(k).map(|v| {
            (
                if k == "tests" { "data_tests" } else { k }.to_string(),
                yaml::to_json(v),
            )
        })
    })
    .collect();
    let strings = |key: &str| -> Vec<String> {
        match doc.get(key) {
            Some(Yaml::Sequence(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
            Some(Yaml::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    let model_paths = paths("model-paths", "models");
    let seed_paths = paths("seed-paths", "seeds");
    let snapshot_paths = paths("snapshot-paths", "snapshots");
    let macro_paths = paths("macro-paths", "macros");
    let docs_paths = match doc.get("docs-paths") {
        Some(_) => paths("docs-paths", "docs"),
        None => [&model_paths, &seed_paths, &snapshot_paths, &macro_paths]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
    };
    Some(ProjectConfig {
        file: file.to_string(),
        text: text.to_string(),
        name,
        version: yaml::get_str(doc, "version"),
        profile: yaml::get_str(doc, "profile"),
        model_paths,
        seed_paths,
        snapshot_paths,
        macro_paths,
        test_paths: paths("test-paths", "tests"),
        analysis_paths: paths("analysis-paths", "analyses"),
        docs_paths,
        target_path: yaml::get_str(doc, "target-path").unwrap_or_else(|| "target".into()),
        vars: doc.get("vars").map(yaml::to_json_map).unwrap_or_default(),
        resource_configs,
        on_run_start: strings("on-run-start"),
        on_run_end: strings("on-run-end"),
        duckdb: doc
            .get("duckdb")
            .map(|v| db_settings(v, &format!("{file} (duckdb:)")))
            .unwrap_or_default(),
        packages_install_path: yaml::get_str(doc, "packages-install-path")
            .map(|p| trim_slash(&p))
            .unwrap_or_else(|| "dbt_packages".into()),
        dispatch: match doc.get("dispatch") {
            Some(Yaml::Sequence(items)) => items
                .iter()
                .filter_map(|i| {
                    let ns = yaml::get_str(i, "macro_namespace")?;
                    let order = match i.get("search_order") {
                        Some(Yaml::Sequence(o)) => o.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                        _ => Vec::new(),
                    };
                    Some((ns, order))
                })
                .collect(),
            _ => Vec::new(),
        },
        require_dbt_version: strings("require-dbt-version"),
    })
}

fn trim_slash(s: &str) -> String {
    s.trim_end_matches('/').trim_start_matches("./").to_string()
}

fn db_settings(v: &Yaml, origin: &str) -> DbSettings {
    DbSettings {
        path: yaml::get_str(v, "path"),
        schema: yaml::get_str(v, "schema"),
        threads: v.get("threads").and_then(Yaml::as_u64).map(|t| t as usize),
        extensions: match v.get("extensions") {
            Some(Yaml::Sequence(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned).or_else(|| yaml::get_str(i, "name")))
                .collect(),
            _ => Vec::new(),
        },
        settings: v.get("settings").map(yaml::to_json_map).unwrap_or_default(),
        attach: match v.get("attach") {
            Some(Yaml::Sequence(items)) => items
                .iter()
                .filter_map(|i| {
                    let read_only = i.get("read_only").and_then(Yaml::as_bool).unwrap_or(false);
                    Some((yaml::get_str(i, "path")?, yaml::get_str(i, "alias"), read_only))
                })
                .collect(),
            _ => Vec::new(),
        },
        target_name: None,
        engine: None,
        server: None,
        dbname: None,
        origin: origin.to_string(),
    }
}

/// Reads the project's dbt profile, if a `profiles.yml` defines it.
///
/// Looks in `profiles_dir` when given, else `DBT_PROFILES_DIR`, the project root and
/// `~/.dbt`. Strings may use `{{ env_var('X', 'default') }}` as in dbt.
pub fn read_profile(
    root: &Path,
    profiles_dir: Option<&Path>,
    profile: &str,
    target: Option<&str>,
    diags: &mut Vec<Diagnostic>,
) -> Option<DbSettings> {
    read_profile_stamped(root, profiles_dir, profile, target, diags, &mut Stamps::default())
}

/// [`read_profile`], stamping every `profiles.yml` looked for.
pub(crate) fn read_profile_stamped(
    root: &Path,
    profiles_dir: Option<&Path>,
    profile: &str,
    target: Option<&str>,
    diags: &mut Vec<Diagnostic>,
    stamps: &mut Stamps,
) -> Option<DbSettings> {
    let candidates: Vec<PathBuf> = match profiles_dir {
        Some(dir) => vec![dir.join("profiles.yml")],
        None => {
            let mut c = Vec::new();
            if let Ok(dir) = std::env::var("DBT_PROFILES_DIR") {
                c.push(PathBuf::from(dir).join("profiles.yml"));
            }
            c.push(root.join("profiles.yml"));
            if let Ok(home) = std::env::var("HOME") {
                c.push(PathBuf::from(home).join(".dbt").join("profiles.yml"));
            }
            c
        }
    };
    let mut found = None;
    for c in candidates {
        let stamp = pre_stamp(&c);
        let exists = stamp.meta.is_some();
        stamps.files.push(stamp);
        if exists {
            found = Some(c);
            break;
        }
    }
    let Some(path) = found else {
        if let Some(dir) = profiles_dir {
            diags.push(
                Diagnostic::error(
                    "profile",
                    format!("no profiles.yml in {} (given with --profiles-dir)", dir.display()),
                )
                .with_help("pass the folder that holds profiles.yml, or leave --profiles-dir out"),
            );
        }
        return None;
    };
    let shown = path.strip_prefix(root).unwrap_or(&path).display().to_string();
    let text = match std::fs::read_to_string(&path) {
        Ok(mut t) => {
            crate::strip_bom(&mut t);
            if let Some(s) = stamps.files.last_mut() {
                s.hash = Some(hash_text(&t));
            }
            t
        }
        Err(e) => {
            diags.push(Diagnostic::error("io", format!("cannot read {shown}: {e}")));
            return None;
        }
    };
    let doc = match yaml::parse(&shown, &text) {
        Ok(d) => d,
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    let lines = Lines::new(&text);
    let Some(prof) = doc.get(profile) else {
        // A profiles.yml passed explicitly must define the project's profile; one found
        // by searching may be another project's.
        if profiles_dir.is_some() {
            diags.push(
                Diagnostic::error("profile", format!("{shown} has no profile named '{profile}'"))
                    .at(&shown, 1, 1)
                    .with_help("the project file's 'profile:' (else its 'name:') names the profile"),
            );
        }
        return None;
    };
    if let Some(d) = (!prof.is_mapping()).then(|| {
        let (line, col) = lines.find_key(profile, 1);
        Diagnostic::error(
            "profile",
            format!(
                "profile '{profile}' must be a mapping with 'outputs:', not {}",
                yaml::kind_of(prof)
            ),
        )
        .at(&shown, line, col)
    }) {
        diags.push(d);
        return None;
    }
    let target_name = target
        .map(str::to_owned)
        .or_else(|| yaml::get_str(prof, "target"))
        .unwrap_or_else(|| "dev".into());
    let Some(output) = prof.get("outputs").and_then(|o| o.get(target_name.as_str())) else {
        let profile_line = lines.find_key(profile, 1).0;
        // Where the target was chosen: the profile's `target:`, else the profile.
        let (line, col) = match target {
            None if prof.get("target").is_some() => lines.find_key("target", profile_line),
            _ => lines.find_key(profile, 1),
        };
        diags.push(
            Diagnostic::error(
                "profile",
                format!("profile '{profile}' has no output named '{target_name}'"),
            )
            .at(shown, line, col),
        );
        return None;
    };
    let before = diags.len();
    let rendered = render_env_vars(&yaml::to_json(output), diags, &shown, "profile");
    // A template that fails is located at the line that holds it.
    for d in &mut diags[before..] {
        let template = d.message.strip_prefix("in '").and_then(|m| m.split("': ").next());
        if let Some(i) = template.and_then(|t| text.lines().position(|l| l.contains(t))) {
            let col = text
                .lines()
                .nth(i)
                .and_then(|l| l.find(template.unwrap_or_default()))
                .unwrap_or(0);
            d.line = i + 1;
            d.column = col + 1;
        }
    }
    let kind = rendered
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or("duckdb")
        .to_string();
    let output_line = lines.find_key(&target_name, lines.find_key(profile, 1).0).0;
    if modelc_core::engine(&kind).is_none() {
        let (line, col) = lines.find_key("type", output_line);
        diags.push(
            Diagnostic::error(
                "profile",
                format!(
                    "target '{target_name}' of profile '{profile}' has type '{kind}', an engine modelc does not have"
                ),
            )
            .at(shown, line, col)
            .with_help(format!("modelc runs on: {}", modelc_core::engine_names())),
        );
        return None;
    }
    let yaml_back: Yaml = serde_yaml::to_value(&rendered).unwrap_or(Yaml::Null);
    if kind != "duckdb" {
        let settings = server_settings(&yaml_back, &kind, &shown, &lines, output_line, diags)?;
        return Some(DbSettings {
            origin: format!("{shown} ({profile}.{target_name})"),
            target_name: Some(target_name),
            ..settings
        });
    }
    // A profile's strings may be rendered numbers (`threads: "{{ env_var('T') }}"`).
    let shapes: Vec<(&str, Shape)> = DB_SHAPES.iter().copied().filter(|(k, _)| *k != "threads").collect();
    let wrong = yaml::check_shapes(
        &shown,
        &lines,
        &yaml_back,
        &shapes,
        &format!("target '{target_name}'"),
        output_line,
    );
    if !wrong.is_empty() {
        diags.extend(wrong);
        return None;
    }
    let mut settings = db_settings(&yaml_back, &format!("{shown} ({profile}.{target_name})"));
    settings.target_name = Some(target_name);
    Some(settings)
}

/// What the keys of a server engine's profile output hold.
const SERVER_SHAPES: &[(&str, Shape)] = &[
    ("host", Shape::Scalar),
    ("port", Shape::Integer),
    ("user", Shape::Scalar),
    ("password", Shape::Scalar),
    ("pass", Shape::Scalar),
    ("dbname", Shape::Scalar),
    ("database", Shape::Scalar),
    ("schema", Shape::Scalar),
    ("sslmode", Shape::Scalar),
    ("connect_timeout", Shape::Integer),
    ("method", Shape::Scalar),
    ("file_format", Shape::Scalar),
];

/// The settings of a server engine's profile output. PostgreSQL (dbt-postgres's
/// keys): `host`, `user`, `dbname` and `schema` are required, as in dbt; `port`
/// defaults to 5432. Spark (dbt-spark's keys, `method: connect`): `host` and
/// `schema` are required; `port` defaults to 15002 (Spark Connect's), `file_format`
/// to `parquet`.
fn server_settings(
    v: &Yaml,
    kind: &str,
    shown: &str,
    lines: &Lines,
    output_line: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<DbSettings> {
    // Rendered strings may hold numbers (`port: "{{ env_var('PGPORT') }}"`).
    let shapes: Vec<(&str, Shape)> = SERVER_SHAPES
        .iter()
        .copied()
        .filter(|(k, _)| !matches!(*k, "port" | "connect_timeout"))
        .collect();
    let wrong = yaml::check_shapes(shown, lines, v, &shapes, "the profile's target", output_line);
    if !wrong.is_empty() {
        diags.extend(wrong);
        return None;
    }
    let text = |key: &str| yaml::get_str(v, key).filter(|s| !s.is_empty());
    let number = |key: &str, diags: &mut Vec<Diagnostic>| -> Result<Option<u64>, ()> {
        let Some(value) = v.get(key) else { return Ok(None) };
        let parsed = value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()));
        match parsed {
            Some(n) => Ok(Some(n)),
            None => {
                let (line, col) = lines.find_key(key, output_line);
                diags.push(
                    Diagnostic::error(
                        "profile",
                        format!("'{key}' must be a whole number, not {}", yaml::kind_of(value)),
                    )
                    .at(shown, line, col),
                );
                Err(())
            }
        }
    };
    let port = number("port", diags).ok()?;
    let connect_timeout = number("connect_timeout", diags).ok()?;
    let spark = kind == "spark";
    let port = match port {
        None if spark => 15002,
        None => 5432,
        Some(p) => match u16::try_from(p) {
            Ok(p) if p > 0 => p,
            _ => {
                let (line, col) = lines.find_key("port", output_line);
                diags.push(
                    Diagnostic::error("profile", format!("port {p} is not a TCP port (1 to 65535)"))
                        .at(shown, line, col),
                );
                return None;
            }
        },
    };
    let dbname = text("dbname").or_else(|| text("database"));
    let missing: Vec<&str> = [
        ("host", text("host").is_some()),
        ("user", spark || text("user").is_some()),
        ("dbname", spark || dbname.is_some()),
        ("schema", text("schema").is_some()),
    ]
    .into_iter()
    .filter(|(_, present)| !present)
    .map(|(k, _)| k)
    .collect();
    if !missing.is_empty() {
        let (line, col) = lines.find_key("type", output_line);
        let keys = if spark {
            "dbt-spark's keys: method (connect), host, port, schema, threads, file_format"
        } else {
            "dbt-postgres's keys: host, port, user, password, dbname, schema, threads, sslmode"
        };
        diags.push(
            Diagnostic::error("profile", format!("a '{kind}' target needs {}", missing.join(", ")))
                .at(shown, line, col)
                .with_help(keys),
        );
        return None;
    }
    let mut wrong_value = |key: &str, value: &str, message: String, help: &str| {
        let (line, col) = lines.find_key(key, output_line);
        diags.push(
            Diagnostic::error("profile", format!("{key} '{value}': {message}"))
                .at(shown, line, col)
                .with_help(help.to_string()),
        );
    };
    let file_format = text("file_format").map(|f| f.to_ascii_lowercase());
    if spark {
        if let Some(method) = text("method").filter(|m| m != "connect") {
            wrong_value(
                "method",
                &method,
                "modelc reaches Spark through Spark Connect only".into(),
                "use method: connect, and start the server with sbin/start-connect-server.sh",
            );
            return None;
        }
        if let Some(f) = file_format
            .as_deref()
            .filter(|f| !modelc_core::FILE_FORMATS.contains(f))
        {
            wrong_value(
                "file_format",
                f,
                "not a table format modelc writes".into(),
                &format!("one of: {}", modelc_core::FILE_FORMATS.join(", ")),
            );
            return None;
        }
    }
    let threads = number("threads", diags).ok()?;
    Some(DbSettings {
        schema: text("schema"),
        threads: threads.map(|t| t as usize),
        engine: Some(kind.to_string()),
        server: Some(modelc_core::ServerConfig {
            host: text("host").unwrap_or_default(),
            port,
            user: text("user").unwrap_or_default(),
            password: yaml::get_str(v, "password").or_else(|| yaml::get_str(v, "pass")),
            sslmode: text("sslmode"),
            connect_timeout,
            file_format,
        }),
        dbname,
        ..DbSettings::default()
    })
}

/// Renders `{{ env_var(...) }}` in every string of a profile output (or of a
/// `packages.yml` entry); a failure is a diagnostic with `code`.
pub(crate) fn render_env_vars(value: &Json, diags: &mut Vec<Diagnostic>, file: &str, code: &'static str) -> Json {
    match value {
        Json::String(s) if s.contains("{{") => {
            let mut env = minijinja::Environment::new();
            env.add_function("env_var", |name: String, default: Option<String>| {
                std::env::var(&name).ok().or(default).ok_or_else(|| {
                    minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("env var '{name}' is not set and has no default"),
                    )
                })
            });
            match env.render_str(s, ()) {
                Ok(out) => Json::String(out),
                Err(e) => {
                    diags.push(Diagnostic::error(code, format!("in '{s}': {e}")).in_file(file));
                    value.clone()
                }
            }
        }
        Json::Object(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), render_env_vars(v, diags, file, code)))
                .collect(),
        ),
        Json::Array(a) => Json::Array(a.iter().map(|v| render_env_vars(v, diags, file, code)).collect()),
        other => other.clone(),
    }
}
