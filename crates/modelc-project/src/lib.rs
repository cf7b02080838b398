//! Reads a project folder into [`ProjectInput`]: the project file, the profile,
//! every SQL, CSV and YAML file, as typed inputs with their paths.
//!
//! Loading does no templating and no SQL parsing; it only reads and structures
//! files. Every problem found is a [`Diagnostic`] with file, line and column.

pub mod deps;
mod project_file;
mod properties;
pub mod stamp;
pub mod yaml;

use std::path::{Path, PathBuf};

use modelc_core::Diagnostic;

pub use project_file::{parse_project_text, read_profile, read_project_file, DbSettings, ProjectConfig};
pub use properties::{
    parse_property_file, ColumnPatch, ExposurePatch, NodePatch, PropertyFile, RowData, Rows, SourcePatch,
    SourceTablePatch, TestEntry, UnitTestPatch, VersionPatch,
};

/// A text file of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Path relative to the project root, `/`-separated.
    pub path: String,
    /// Path relative to the resource folder it was found in (`staging/stg_x.sql`).
    pub resource_path: String,
    /// Contents.
    pub text: String,
}

impl SourceFile {
    /// The file name without extension.
    pub fn stem(&self) -> &str {
        let name = self.path.rsplit('/').next().unwrap_or(&self.path);
        name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name)
    }

    /// The folders between the resource folder and the file.
    pub fn folders(&self) -> Vec<String> {
        let mut parts: Vec<String> = self.resource_path.split('/').map(str::to_owned).collect();
        parts.pop();
        parts
    }
}

/// A CSV seed file (only its header is read at load time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFile {
    /// Path relative to the project root.
    pub path: String,
    /// Path relative to the seed folder.
    pub resource_path: String,
    /// Column names from the header line (may be wrong for exotic delimiters; DuckDB decides).
    pub header: Vec<String>,
    /// Size and modification time, for cache keys.
    pub fingerprint: String,
}

/// Everything read from a project folder.
#[derive(Debug, Clone)]
pub struct ProjectInput {
    /// The project root (absolute).
    pub root: PathBuf,
    /// The project file.
    pub config: ProjectConfig,
    /// The database settings from `profiles.yml`, when it defines the project's profile.
    pub profile: Option<DbSettings>,
    /// Model SQL files.
    pub models: Vec<SourceFile>,
    /// Analysis SQL files.
    pub analyses: Vec<SourceFile>,
    /// Snapshot SQL files.
    pub snapshots: Vec<SourceFile>,
    /// Macro files.
    pub macros: Vec<SourceFile>,
    /// Singular test SQL files.
    pub singular_tests: Vec<SourceFile>,
    /// Generic test definitions under `<test-path>/generic/`.
    pub generic_tests: Vec<SourceFile>,
    /// Markdown files with `{% docs %}` blocks.
    pub docs: Vec<SourceFile>,
    /// CSV seeds.
    pub seeds: Vec<SeedFile>,
    /// Parsed YAML property files.
    pub properties: Vec<PropertyFile>,
    /// Installed packages (`dbt_packages/*`), each read as a project of its own.
    pub packages: Vec<Package>,
    /// Every file and folder read, to tell later what changed.
    pub stamps: stamp::Stamps,
}

/// An installed package: a dbt project under the root project's
/// `packages-install-path`, loaded with its own project file's paths.
#[derive(Debug, Clone)]
pub struct Package {
    /// Its folder, relative to the root project (`dbt_packages/dbt_utils`).
    pub dir: String,
    /// Its files; `input.config.name` is the package name, `input.profile` is `None`.
    pub input: ProjectInput,
}

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Directory with `profiles.yml`.
    pub profiles_dir: Option<PathBuf>,
    /// Profile target name (`--target`).
    pub target: Option<String>,
}

/// Reads the project at `root`. Returns `None` only when there is no usable project
/// file; every other problem is a diagnostic and loading goes on.
pub fn load_project(root: &Path, opts: &LoadOptions, diags: &mut Vec<Diagnostic>) -> Option<ProjectInput> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let mut stamps = stamp::Stamps::default();
    let project_files = ["project.yml", "dbt_project.yml"].map(|f| stamp::pre_stamp(&root.join(f)));
    let config = project_file::read_project_file(&root, diags)?;
    for mut f in project_files {
        if f.path.ends_with(&config.file) {
            f.hash = Some(stamp::hash_text(&config.text));
        }
        stamps.files.push(f);
    }
    let profile = project_file::read_profile_stamped(
        &root,
        opts.profiles_dir.as_deref(),
        config.profile.as_deref().unwrap_or(&config.name),
        opts.target.as_deref(),
        diags,
        &mut stamps,
    );
    let mut input = read_unit(&root, &root, config, profile, stamps, diags);
    input.packages = load_packages(&root, &input.config, diags, &mut input.stamps);
    Some(input)
}

/// Loads every package installed under the project's `packages-install-path`: each
/// folder with a `dbt_project.yml`, read as a project of its own (its own paths and
/// configs), its file paths relative to the root project. Sorted by name.
fn load_packages(
    root: &Path,
    config: &ProjectConfig,
    diags: &mut Vec<Diagnostic>,
    stamps: &mut stamp::Stamps,
) -> Vec<Package> {
    let dir = root.join(&config.packages_install_path);
    let meta = std::fs::metadata(&dir).ok().map(|m| stamp::Meta::of(&m));
    let entries = match stamp::list_dir(&dir) {
        Ok(e) => e,
        Err(_) => {
            stamps.dirs.push(stamp::DirStamp {
                path: dir,
                meta: None,
                entries: stamp::entries_hash(&mut []),
            });
            return Vec::new();
        }
    };
    let mut names: Vec<(String, bool)> = entries.iter().map(|(n, is_dir, _)| (n.clone(), *is_dir)).collect();
    stamps.dirs.push(stamp::DirStamp {
        path: dir,
        meta,
        entries: stamp::entries_hash(&mut names),
    });
    let mut packages: Vec<Package> = Vec::new();
    for (_, _, path) in entries {
        // Installed packages may be symlinks (dbt links `local:` packages).
        if !path.is_dir() {
            continue;
        }
        let project_file = path.join("dbt_project.yml");
        stamps.files.push(stamp::pre_stamp(&project_file));
        if !project_file.is_file() {
            continue;
        }
        let Some(mut pconfig) = project_file::read_project_file(&path, diags) else {
            continue;
        };
        let dir = rel_path(root, &path);
        pconfig.file = format!("{dir}/{}", pconfig.file);
        if let Some(last) = stamps.files.last_mut() {
            last.hash = Some(stamp::hash_text(&pconfig.text));
        }
        match modelc_core::version_satisfies(modelc_core::DBT_VERSION, &pconfig.require_dbt_version) {
            Ok(true) => {}
            Ok(false) => diags.push(
                Diagnostic::warning(
                    "dbt-version",
                    format!(
                        "package '{}' requires dbt {}; modelc behaves as dbt {}",
                        pconfig.name,
                        pconfig.require_dbt_version.join(", "),
                        modelc_core::DBT_VERSION
                    ),
                )
                .in_file(&pconfig.file),
            ),
            Err(e) => diags
                .push(Diagnostic::warning("dbt-version", format!("require-dbt-version: {e}")).in_file(&pconfig.file)),
        }
        if pconfig.name == config.name {
            diags.push(
                Diagnostic::error(
                    "package",
                    format!("package in {dir} has the root project's name '{}'", pconfig.name),
                )
                .in_file(&pconfig.file),
            );
            continue;
        }
        if let Some(prev) = packages.iter().find(|p| p.input.config.name == pconfig.name) {
            diags.push(
                Diagnostic::error(
                    "package",
                    format!("two installed packages are named '{}'", pconfig.name),
                )
                .in_file(&pconfig.file)
                .with_help(format!("the other one is in {}", prev.dir)),
            );
            continue;
        }
        let mut input = read_unit(root, &path, pconfig, None, std::mem::take(stamps), diags);
        *stamps = std::mem::take(&mut input.stamps);
        packages.push(Package { dir, input });
    }
    packages.sort_by(|a, b| a.input.config.name.cmp(&b.input.config.name));
    packages
}

/// Reads the resource files of one project: the root project, or a package at
/// `unit` (paths relative to `root` all the same).
fn read_unit(
    root: &Path,
    unit: &Path,
    config: ProjectConfig,
    profile: Option<DbSettings>,
    stamps: stamp::Stamps,
    diags: &mut Vec<Diagnostic>,
) -> ProjectInput {
    let mut input = ProjectInput {
        root: root.to_path_buf(),
        profile,
        models: Vec::new(),
        analyses: Vec::new(),
        snapshots: Vec::new(),
        macros: Vec::new(),
        singular_tests: Vec::new(),
        generic_tests: Vec::new(),
        docs: Vec::new(),
        seeds: Vec::new(),
        properties: Vec::new(),
        packages: Vec::new(),
        stamps,
        config,
    };
    let cfg = input.config.clone();
    // Every file to read, found first; then all read (and property files parsed) in
    // one parallel pass, so a large YAML file parses while the SQL files are read.
    let mut found: Vec<(PathBuf, String, String, Kind)> = Vec::new();
    let kinds: [(&Vec<String>, KindOf); 7] = [
        (&cfg.model_paths, |ext, _| sql_or_yaml(ext, Kind::Model)),
        (&cfg.analysis_paths, |ext, _| sql_or_yaml(ext, Kind::Analysis)),
        (&cfg.snapshot_paths, |ext, _| sql_or_yaml(ext, Kind::Snapshot)),
        (&cfg.macro_paths, |ext, _| match ext {
            "jinja" => Some(Kind::Macro),
            _ => sql_or_yaml(ext, Kind::Macro),
        }),
        (&cfg.test_paths, |ext, resource_path| {
            // `<test-path>/fixtures/` holds unit tests' input files, not tests.
            if resource_path.starts_with("fixtures/") {
                return None;
            }
            let sql = if resource_path.starts_with("generic/") {
                Kind::GenericTest
            } else {
                Kind::SingularTest
            };
            sql_or_yaml(ext, sql)
        }),
        (&cfg.seed_paths, |ext, _| match ext {
            "csv" => Some(Kind::Seed),
            "yml" | "yaml" => Some(Kind::Properties),
            _ => None,
        }),
        (&cfg.docs_paths, |ext, _| (ext == "md").then_some(Kind::Doc)),
    ];
    for (dirs, kind_of) in kinds {
        for dir in dirs {
            for f in walk_paths(unit, dir, diags, &mut input.stamps) {
                let rel = rel_path(root, &f);
                let resource_path = rel_path(&unit.join(dir), &f);
                let kind = kind_of(ext(&rel), &resource_path);
                match kind {
                    // Docs folders may overlap: each file once.
                    Some(Kind::Doc) if found.iter().any(|(_, r, _, _)| *r == rel) => {}
                    Some(kind) => found.push((f, rel, resource_path, kind)),
                    None => {}
                }
            }
        }
    }
    let loaded: Vec<Loaded> = {
        use rayon::prelude::*;
        found
            .into_par_iter()
            .map(|(p, rel, resource_path, kind)| match kind {
                Kind::Seed => {
                    let stamp = stamp::metadata_stamp(&p);
                    let mut file_diags = Vec::new();
                    let seed = read_seed(&p, rel, resource_path, &mut file_diags);
                    Loaded::Seed(seed, stamp, file_diags)
                }
                Kind::Doc => Loaded::Text(try_read_text(&p, rel.clone(), rel), kind),
                Kind::Properties => match try_read_text(&p, rel, resource_path) {
                    Ok((f, stamp)) => {
                        let mut file_diags = Vec::new();
                        let parsed = parse_property_file(&f.path, &f.text, &mut file_diags);
                        Loaded::Properties(parsed, stamp, file_diags)
                    }
                    Err(d) => Loaded::Text(Err(d), kind),
                },
                _ => Loaded::Text(try_read_text(&p, rel, resource_path), kind),
            })
            .collect()
    };
    for l in loaded {
        match l {
            Loaded::Seed(seed, stamp, file_diags) => {
                input.stamps.files.push(stamp);
                input.seeds.push(seed);
                diags.extend(file_diags);
            }
            Loaded::Properties(parsed, stamp, file_diags) => {
                input.stamps.files.push(stamp);
                input.properties.push(parsed);
                diags.extend(file_diags);
            }
            Loaded::Text(Err(d), _) => diags.push(d),
            Loaded::Text(Ok((f, stamp)), kind) => {
                input.stamps.files.push(stamp);
                let list = match kind {
                    Kind::Model => &mut input.models,
                    Kind::Analysis => &mut input.analyses,
                    Kind::Snapshot => &mut input.snapshots,
                    Kind::Macro => &mut input.macros,
                    Kind::GenericTest => &mut input.generic_tests,
                    Kind::SingularTest => &mut input.singular_tests,
                    Kind::Doc => &mut input.docs,
                    Kind::Seed | Kind::Properties => continue,
                };
                list.push(f);
            }
        }
    }
    input
}

/// What a project file is loaded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Model,
    Analysis,
    Snapshot,
    Macro,
    GenericTest,
    SingularTest,
    Seed,
    Properties,
    Doc,
}

/// What a file is loaded as, from its extension and path in its resource folder.
type KindOf = fn(&str, &str) -> Option<Kind>;

/// A SQL file of the given kind, or a property file.
fn sql_or_yaml(ext: &str, sql: Kind) -> Option<Kind> {
    match ext {
        "sql" => Some(sql),
        "yml" | "yaml" => Some(Kind::Properties),
        _ => None,
    }
}

/// A file read.
enum Loaded {
    Text(Result<(SourceFile, stamp::FileStamp), Diagnostic>, Kind),
    Properties(PropertyFile, stamp::FileStamp, Vec<Diagnostic>),
    Seed(SeedFile, stamp::FileStamp, Vec<Diagnostic>),
}

fn ext(path: &str) -> &str {
    path.rsplit_once('.').map(|(_, e)| e).unwrap_or("")
}

/// A path relative to `base` with bytes that are not UTF-8 shown as `\xNN`.
fn shown_path(base: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(base).unwrap_or(p);
    rel.as_os_str()
        .as_encoded_bytes()
        .utf8_chunks()
        .map(|c| {
            let bad: String = c.invalid().iter().map(|b| format!("\\x{b:02X}")).collect();
            format!("{}{bad}", c.valid())
        })
        .collect()
}

fn rel_path(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// All files under `root/dir`, sorted, skipping hidden entries; every folder listed
/// (or found missing) is stamped.
///
/// Symbolic links to folders are followed, except one that leads back to a folder
/// the walk is inside (a loop: an error naming the link). A name that is not UTF-8
/// is an error naming the file: nodes and relations are named after files.
fn walk_paths(root: &Path, dir: &str, diags: &mut Vec<Diagnostic>, stamps: &mut stamp::Stamps) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.join(dir)];
    while let Some(d) = stack.pop() {
        let real = std::fs::canonicalize(&d).ok();
        let meta = std::fs::metadata(&d).ok().map(|m| stamp::Meta::of(&m));
        let entries = match stamp::list_dir(&d) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                stamps.dirs.push(stamp::DirStamp {
                    path: d,
                    meta: None,
                    entries: stamp::entries_hash(&mut []),
                });
                continue;
            }
            Err(e) => {
                let rel = rel_path(root, &d);
                diags.push(Diagnostic::error("io", format!("cannot read folder {rel}: {e}")).in_file(rel));
                continue;
            }
        };
        let mut names: Vec<(String, bool)> = entries.iter().map(|(n, is_dir, _)| (n.clone(), *is_dir)).collect();
        stamps.dirs.push(stamp::DirStamp {
            path: d,
            meta,
            entries: stamp::entries_hash(&mut names),
        });
        for (_, is_dir, path) in entries {
            if path.file_name().is_some_and(|n| n.to_str().is_none()) {
                diags.push(
                    Diagnostic::error(
                        "file-name",
                        format!("the name of {} is not valid UTF-8", shown_path(root, &path)),
                    )
                    .in_file(rel_path(root, &path))
                    .with_help("nodes and relations are named after their files: rename it with UTF-8 characters"),
                );
                continue;
            }
            if is_dir {
                let is_link = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
                if is_link {
                    let target = std::fs::canonicalize(&path).ok();
                    if let (Some(target), Some(real)) = (target, &real) {
                        if real.starts_with(&target) {
                            diags.push(
                                Diagnostic::error(
                                    "symlink-loop",
                                    format!(
                                        "{} links to {}, a folder it is in: a loop",
                                        rel_path(root, &path),
                                        rel_path(&std::fs::canonicalize(root).unwrap_or_default(), &target)
                                    ),
                                )
                                .in_file(rel_path(root, &path))
                                .with_help("remove the link, or point it outside the folders it is in"),
                            );
                            continue;
                        }
                    }
                }
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Reads a text file, with its stamp (metadata taken before the read, from the same
/// open file: one system call fewer per file than a separate `stat`).
fn try_read_text(p: &Path, path: String, resource_path: String) -> Result<(SourceFile, stamp::FileStamp), Diagnostic> {
    use std::io::Read;
    let read = std::fs::File::open(p).and_then(|mut f| {
        let meta = f.metadata()?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        f.read_to_end(&mut bytes)?;
        Ok((meta, bytes))
    });
    let read = match read {
        Ok((meta, bytes)) => match String::from_utf8(bytes) {
            Ok(text) => match text.find('\0') {
                // DuckDB takes SQL as a C string: it would fail at run time, unplaced.
                Some(i) => {
                    let line = text[..i].matches('\n').count() + 1;
                    let col = text[..i].rfind('\n').map_or(i, |n| i - n - 1) + 1;
                    return Err(Diagnostic::error(
                        "encoding",
                        format!("{path} contains a NUL byte at line {line}, column {col}: is it a text file?"),
                    )
                    .at(&path, line, col));
                }
                None => Ok((meta, text)),
            },
            Err(e) => return Err(not_utf8(&path, e.as_bytes(), e.utf8_error())),
        },
        Err(e) => Err(e),
    };
    match read {
        Ok((meta, mut text)) => {
            strip_bom(&mut text);
            let stamp = stamp::FileStamp {
                path: p.to_path_buf(),
                meta: Some(stamp::Meta::of(&meta)),
                hash: Some(stamp::hash_text(&text)),
            };
            Ok((
                SourceFile {
                    path,
                    resource_path,
                    text,
                },
                stamp,
            ))
        }
        Err(e) => Err(Diagnostic::error("io", format!("cannot read {path}: {e}")).in_file(path)),
    }
}

/// The error for a file that is not UTF-8, at the line and column of its first
/// bad byte.
pub fn not_utf8(path: &str, bytes: &[u8], e: std::str::Utf8Error) -> Diagnostic {
    let valid = &bytes[..e.valid_up_to()];
    let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
    let bad = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
    let mut d = Diagnostic::error(
        "encoding",
        format!("{path} is not valid UTF-8: byte 0x{bad:02X} at line {line}, column {column}"),
    )
    .at(path, line, column);
    d = if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        d.with_help("the file is UTF-16: save it as UTF-8")
    } else {
        d.with_help("save the file as UTF-8 (it may be Latin-1 or Windows-1252)")
    };
    d
}

/// Drops a leading UTF-8 byte order mark, which Windows editors write: every text
/// file of a project is read through this (a seed's header too; DuckDB skips the
/// mark itself when it reads the data), and the content stamps hash the text
/// without it.
pub fn strip_bom(text: &mut String) {
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
}

fn read_seed(p: &Path, path: String, resource_path: String, diags: &mut Vec<Diagnostic>) -> SeedFile {
    use std::io::BufRead;
    let mut header = Vec::new();
    let mut fingerprint = String::new();
    match std::fs::File::open(p) {
        Ok(f) => {
            if let Ok(meta) = f.metadata() {
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                fingerprint = format!("{}-{mtime}", meta.len());
            }
            let mut line = Vec::new();
            match std::io::BufReader::new(f).read_until(b'\n', &mut line) {
                Ok(_) => match String::from_utf8(line) {
                    Ok(line) => {
                        header = seed_header(&line);
                        if header.iter().all(String::is_empty) {
                            diags.push(
                                Diagnostic::error(
                                    "seed-empty",
                                    format!("seed {path} has no header: its first line must name the columns"),
                                )
                                .at(&path, 1, 1)
                                .with_help("a seed is a CSV file whose first line names its columns"),
                            );
                        }
                    }
                    Err(e) => diags.push(not_utf8(&path, e.as_bytes(), e.utf8_error())),
                },
                Err(e) => {
                    diags.push(Diagnostic::error("io", format!("cannot read seed {path}: {e}")).in_file(&path));
                }
            }
        }
        Err(e) => diags.push(Diagnostic::error("io", format!("cannot read seed {path}: {e}")).in_file(&path)),
    }
    SeedFile {
        path,
        resource_path,
        header,
        fingerprint,
    }
}

/// The column names of a seed from its text (only the first line is read): the
/// header split on commas, honouring double quotes, without a byte order mark.
pub fn seed_header(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line = text.split('\n').next().unwrap_or_default();
    split_header(line.trim_end())
}

/// Splits a CSV header line on commas, honouring double quotes.
fn split_header(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    if !cur.is_empty() || !out.is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Files written by Windows editors: a byte order mark and CRLF line endings in
    /// every kind of file load as the plain files do.
    #[test]
    fn byte_order_marks_and_crlf_load_as_plain_files() {
        let files = [
            ("dbt_project.yml", "name: shop\nprofile: shop\nmodels:\n  shop:\n    +materialized: table\n"),
            (
                "profiles.yml",
                "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: shop.duckdb\n",
            ),
            ("models/a.sql", "{% if true %}\nselect 1 as id\n{% endif %}\n"),
            (
                "models/schema.yml",
                "version: 2\nmodels:\n  - name: a\n    description: >\n      An\n      a.\n    config:\n      tags: [x]\n",
            ),
            ("seeds/s.csv", "id,\"full name\"\n1,ann\n"),
        ];
        let load = |windows: bool| {
            let dir = tempfile::tempdir().unwrap();
            for (path, text) in files {
                let p = dir.path().join(path);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                let text = if windows {
                    format!("\u{feff}{}", text.replace('\n', "\r\n"))
                } else {
                    text.to_string()
                };
                std::fs::write(p, text).unwrap();
            }
            let opts = LoadOptions {
                profiles_dir: Some(dir.path().to_path_buf()),
                target: None,
            };
            let mut diags = Vec::new();
            let input = load_project(dir.path(), &opts, &mut diags);
            let shown: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            assert!(shown.is_empty(), "{shown:#?}");
            (dir, input.unwrap())
        };
        let (_plain_dir, plain) = load(false);
        let (_dir, windows) = load(true);
        assert_eq!(windows.config.name, "shop");
        assert_eq!(windows.config.resource_configs, plain.config.resource_configs);
        assert_eq!(
            windows.profile.as_ref().and_then(|p| p.path.clone()).as_deref(),
            Some("shop.duckdb")
        );
        assert_eq!(windows.models[0].text, plain.models[0].text.replace('\n', "\r\n"));
        assert_eq!(windows.properties[0].models, plain.properties[0].models);
        assert_eq!(windows.seeds[0].header, vec!["id", "full name"]);
        assert_eq!(windows.seeds[0].header, plain.seeds[0].header);
    }

    #[test]
    fn header_split_honours_quotes() {
        assert_eq!(split_header(r#"id,"name, full",x"#), vec!["id", "name, full", "x"]);
        assert!(split_header("").is_empty());
    }

    #[test]
    fn seed_header_reads_the_first_line_without_a_bom() {
        assert_eq!(seed_header("\u{feff}id,name\r\n1,ann\n"), vec!["id", "name"]);
        assert_eq!(seed_header("id"), vec!["id"]);
        assert!(seed_header("").is_empty());
    }

    #[test]
    fn project_text_parses_like_the_project_file() {
        let mut diags = Vec::new();
        let config = parse_project_text("project.yml", "name: lending\nprofile: lending\n", &mut diags);
        assert_eq!(config.map(|c| c.name), Some("lending".to_string()));
        let none = parse_project_text("project.yml", "name: [", &mut diags);
        assert!(none.is_none());
        assert_eq!(diags.len(), 1, "{diags:?}");
    }
}
