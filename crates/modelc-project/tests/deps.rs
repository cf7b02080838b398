//! `deps::run` on fixture projects: local packages, git packages from a bare
//! repository made here (served over `file://`), a hub served from a folder, and
//! the errors a user meets.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use modelc_project::deps::{self, DepsError, DepsOptions, DepsOutcome, Event};

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
        ])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repository with a package at the top (`gitpkg`) and one in `sub/`
/// (`subpkg`): commit `one` (tagged `v1`, annotated) and `two` on `main`,
/// `three` on branch `feature`.
struct Repo {
    url: String,
    work: PathBuf,
    one: String,
    two: String,
    three: String,
}

fn repo(base: &Path) -> Repo {
    let work = base.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q"]);
    write(&work, "dbt_project.yml", "name: gitpkg\nversion: '1.0'\n");
    write(&work, "sub/dbt_project.yml", "name: subpkg\nversion: '1.0'\n");
    write(&work, "sub/macros/m.sql", "{% macro m() %}1{% endmacro %}\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "one"]);
    git(&work, &["tag", "-a", "v1", "-m", "v1"]);
    let one = git(&work, &["rev-parse", "HEAD"]);
    write(&work, "two.txt", "2\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "two"]);
    let two = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["checkout", "-qb", "feature"]);
    write(&work, "three.txt", "3\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "three"]);
    let three = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["checkout", "-q", "main"]);
    let bare = base.join("bare.git");
    git(
        base,
        &["clone", "-q", "--bare", work.to_str().unwrap(), bare.to_str().unwrap()],
    );
    Repo {
        url: format!("file://{}", bare.display()),
        work,
        one,
        two,
        three,
    }
}

impl Repo {
    /// Commits on `feature` and pushes it to the bare repository.
    fn advance_feature(&self) -> String {
        git(&self.work, &["checkout", "-q", "feature"]);
        write(&self.work, "four.txt", "4\n");
        git(&self.work, &["add", "."]);
        git(&self.work, &["commit", "-qm", "four"]);
        let sha = git(&self.work, &["rev-parse", "HEAD"]);
        let bare = self.url.trim_start_matches("file://");
        git(&self.work, &["push", "-q", bare, "feature"]);
        sha
    }
}

struct Run {
    result: Result<DepsOutcome, DepsError>,
    lines: Vec<String>,
    warnings: Vec<String>,
}

fn run_with(root: &Path, opts: &DepsOptions) -> Run {
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let result = deps::run(root, opts, &mut |e| match e {
        Event::Info(l) => lines.push(l),
        Event::Warning(d) => warnings.push(d.to_string()),
    });
    Run {
        result,
        lines,
        warnings,
    }
}

fn opts() -> DepsOptions {
    DepsOptions {
        upgrade: false,
        lock_only: false,
        hub_url: "http://127.0.0.1:9/".into(),
    }
}

fn run(root: &Path) -> Run {
    run_with(root, &opts())
}

fn ok(r: &Run) {
    if let Err(e) = &r.result {
        panic!("deps failed: {e:?}\n{}", r.lines.join("\n"));
    }
}

fn failure(r: &Run) -> String {
    match &r.result {
        Err(DepsError::Failed(d)) => d.message.clone(),
        other => panic!("expected a failed install, got {other:?}"),
    }
}

fn project(base: &Path) -> PathBuf {
    let root = base.join("proj");
    write(&root, "dbt_project.yml", "name: proj\nprofile: proj\n");
    root
}

fn lock(root: &Path) -> String {
    std::fs::read_to_string(root.join("package-lock.yml")).unwrap()
}

fn installed(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("dbt_packages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// No staging folder is left next to the install path.
fn no_leftovers(root: &Path) {
    let left: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".modelc-deps"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn local_packages_are_linked_with_their_own_local_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(tmp.path());
    write(tmp.path(), "pkgs/a/dbt_project.yml", "name: pkg_a\n");
    // As in dbt, a package's local paths are relative to the root project.
    write(tmp.path(), "pkgs/a/packages.yml", "packages:\n  - local: ../pkgs/b\n");
    write(tmp.path(), "pkgs/b/dbt_project.yml", "name: pkg_b\n");
    write(&root, "packages.yml", "packages:\n  - local: ../pkgs/a\n");
    let r = run(&root);
    ok(&r);
    assert_eq!(installed(&root), ["pkg_a", "pkg_b"]);
    for (name, target) in [("pkg_a", "pkgs/a"), ("pkg_b", "pkgs/b")] {
        let link = root.join("dbt_packages").join(name);
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_link(&link).unwrap(), tmp.path().join(target));
    }
    // dbt-core 1.10 wrote this lock for the same packages.yml.
    assert_eq!(
        lock(&root),
        "packages:\n  - local: ../pkgs/a\n    name: pkg_a\n  - local: ../pkgs/b\n    name: pkg_b\nsha1_hash: 86c0fc602330867cb78e030aceca2a0c3e309855\n"
    );
    let lock_line = format!(
        "Updating lock file in file path: {}",
        root.join("package-lock.yml").display()
    );
    assert_eq!(
        r.lines,
        [
            lock_line.as_str(),
            "Installing ../pkgs/a",
            "Installed from <local @ ../pkgs/a>",
            "Installing ../pkgs/b",
            "Installed from <local @ ../pkgs/b>"
        ]
    );
    no_leftovers(&root);
    // Removing the installed links never touches the packages' folders.
    let again = run(&root);
    ok(&again);
    assert!(tmp.path().join("pkgs/a/dbt_project.yml").is_file());
    assert!(
        !again.lines.iter().any(|l| l.starts_with("Updating lock")),
        "the lock matched"
    );
}

/// (revision, subdirectory, installed folder, commit expected, a file that must be there)
#[test]
fn git_packages_at_a_branch_a_tag_a_commit_and_a_subdirectory() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(&tmp.path().join("git"));
    type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a str, &'a str, &'a str);
    let cases: [Case; 6] = [
        (None, None, "gitpkg", &repo.two, "two.txt"),
        (Some("feature"), None, "gitpkg", &repo.three, "three.txt"),
        (Some("v1"), None, "gitpkg", &repo.one, "dbt_project.yml"),
        (Some(&repo.one), None, "gitpkg", &repo.one, "sub/dbt_project.yml"),
        (Some("v1"), Some("sub"), "subpkg", &repo.one, "macros/m.sql"),
        (Some("feature"), Some("sub"), "subpkg", &repo.three, "dbt_project.yml"),
    ];
    for (revision, sub, folder, sha, file) in cases {
        let root = project(&tmp.path().join(format!("{revision:?}-{sub:?}")));
        let mut spec = format!("packages:\n  - git: \"{}\"\n", repo.url);
        if let Some(r) = revision {
            spec.push_str(&format!("    revision: {r}\n"));
        }
        if let Some(s) = sub {
            spec.push_str(&format!("    subdirectory: {s}\n"));
        }
        spec.push_str("    warn-unpinned: false\n");
        write(&root, "packages.yml", &spec);
        let r = run(&root);
        ok(&r);
        let case = format!("{revision:?} {sub:?}");
        assert_eq!(installed(&root), [folder], "{case}");
        let dir = root.join("dbt_packages").join(folder);
        assert!(dir.join(file).is_file(), "{case}: {file}");
        if sub.is_none() {
            assert_eq!(git(&dir, &["rev-parse", "HEAD"]), sha, "{case}");
            assert!(!(revision == Some("v1") && dir.join("two.txt").exists()), "{case}");
        } else {
            assert!(!dir.join("two.txt").exists() && !dir.join("sub").exists(), "{case}");
        }
        let lock = lock(&root);
        assert!(lock.contains(&format!("    revision: {sha}\n")), "{case}\n{lock}");
        assert!(lock.contains(&format!("    name: {folder}\n")), "{case}\n{lock}");
        assert!(
            r.lines.contains(&format!("Installed from revision {sha}")),
            "{case}: {:?}",
            r.lines
        );
        if let Some(s) = sub {
            assert!(r.lines.contains(&format!("and subdirectory {s}")), "{case}");
            assert!(r.lines.contains(&format!("Installing {}/{s}", repo.url)), "{case}");
        }
        no_leftovers(&root);
    }
}

#[test]
fn a_lock_that_matches_is_installed_as_is_and_upgrade_resolves_again() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(&tmp.path().join("git"));
    let root = project(tmp.path());
    write(
        &root,
        "packages.yml",
        &format!("packages:\n  - git: \"{}\"\n    revision: feature\n", repo.url),
    );
    let first = run(&root);
    ok(&first);
    assert!(lock(&root).contains(&repo.three));
    let head = |root: &Path| git(&root.join("dbt_packages/gitpkg"), &["rev-parse", "HEAD"]);
    let four = repo.advance_feature();
    // The lock pins `three`: it is installed again, and the lock is not rewritten.
    let second = run(&root);
    ok(&second);
    assert_eq!(head(&root), repo.three);
    assert!(!second.lines.iter().any(|l| l.starts_with("Updating lock")));
    // --lock resolves and writes the lock only.
    let locked = run_with(
        &root,
        &DepsOptions {
            upgrade: true,
            lock_only: true,
            ..opts()
        },
    );
    ok(&locked);
    assert!(lock(&root).contains(&four));
    assert_eq!(head(&root), repo.three, "--lock installs nothing");
    // Back to the old lock, then --upgrade re-resolves and installs.
    let old = lock(&root).replace(&four, &repo.three);
    std::fs::write(root.join("package-lock.yml"), old).unwrap();
    let upgraded = run_with(
        &root,
        &DepsOptions {
            upgrade: true,
            ..opts()
        },
    );
    ok(&upgraded);
    assert_eq!(head(&root), four);
    // A changed packages.yml no longer matches the lock's hash: resolved again.
    write(
        &root,
        "packages.yml",
        &format!("packages:\n  - git: \"{}\"\n    revision: v1\n", repo.url),
    );
    ok(&run(&root));
    assert_eq!(head(&root), repo.one);
}

#[test]
fn unpinned_git_packages_warn_once() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(&tmp.path().join("git"));
    let root = project(tmp.path());
    write(
        &root,
        "packages.yml",
        &format!("packages:\n  - git: \"{}\"\n", repo.url),
    );
    let r = run(&root);
    ok(&r);
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].contains("is not pinned, using HEAD (default branch)"),
        "{}",
        r.warnings[0]
    );
}

#[test]
fn the_same_git_package_at_two_revisions_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo(&tmp.path().join("git"));
    let root = project(tmp.path());
    // `.git` or not, dbt takes both URLs for one package.
    let other = repo.url.trim_end_matches(".git");
    write(
        &root,
        "packages.yml",
        &format!(
            "packages:\n  - git: \"{}\"\n    revision: v1\n  - git: \"{other}\"\n    revision: feature\n",
            repo.url
        ),
    );
    let msg = failure(&run(&root));
    assert!(
        msg.starts_with("git dependencies should contain exactly one version."),
        "{msg}"
    );
    assert!(msg.contains("'feature'") && msg.contains("'v1'"), "{msg}");
    assert!(!root.join("dbt_packages").exists());
    assert!(!root.join("package-lock.yml").exists());
}

/// A hub served from a folder: `acme/util` at 0.9.0, 1.0.0, 1.1.0, 1.2.0-rc1 and
/// 2.0.0, and `acme/other` 1.0.0, which needs `acme/util` `[">=1.0.0", "<2.0.0"]`.
fn hub(base: &Path) -> String {
    let hub = base.join("hub");
    let mut versions = Vec::new();
    for v in ["0.9.0", "1.0.0", "1.1.0", "1.2.0-rc1", "2.0.0"] {
        let pkg = hub.join("src").join(format!("util-{v}"));
        write(&pkg, "dbt_project.yml", &format!("name: acme_util\nversion: '{v}'\n"));
        write(&pkg, "VERSION", v);
        let tarball = hub.join(format!("util-{v}.tar.gz"));
        let st = Command::new("tar")
            .arg("-czf")
            .arg(&tarball)
            .arg("-C")
            .arg(hub.join("src"))
            .arg(format!("util-{v}"))
            .status()
            .unwrap();
        assert!(st.success());
        versions.push(format!(
            "\"{v}\": {{\"name\": \"acme_util\", \"packages\": [], \"downloads\": {{\"tarball\": \"file://{}\"}}}}",
            tarball.display()
        ));
    }
    write(
        &hub,
        "api/v1/acme/util.json",
        &format!(
            "{{\"name\": \"util\", \"namespace\": \"acme\", \"versions\": {{{}}}}}",
            versions.join(", ")
        ),
    );
    let other = hub.join("src/other-1.0.0");
    write(&other, "dbt_project.yml", "name: acme_other\n");
    let st = Command::new("tar")
        .arg("-czf")
        .arg(hub.join("other-1.0.0.tar.gz"))
        .arg("-C")
        .arg(hub.join("src"))
        .arg("other-1.0.0")
        .status()
        .unwrap();
    assert!(st.success());
    write(
        &hub,
        "api/v1/acme/other.json",
        &format!(
            "{{\"name\": \"other\", \"namespace\": \"acme\", \"versions\": {{\"1.0.0\": {{\"name\": \"acme_other\", \"packages\": [{{\"package\": \"acme/util\", \"version\": [\">=1.0.0\", \"<2.0.0\"]}}], \"downloads\": {{\"tarball\": \"file://{}\"}}, \"require_dbt_version\": [\">=1.3.0\", \"<2.0.0\"]}}}}}}",
            hub.join("other-1.0.0.tar.gz").display()
        ),
    );
    format!("file://{}/", hub.display())
}

#[test]
fn hub_packages_intersect_their_ranges_and_install_from_tarballs() {
    let tmp = tempfile::tempdir().unwrap();
    let hub_url = hub(tmp.path());
    let root = project(tmp.path());
    write(
        &root,
        "packages.yml",
        "packages:\n  - package: acme/other\n    version: 1.0.0\n  - package: acme/util\n    version: \">=0.9.0\"\n",
    );
    let o = DepsOptions {
        hub_url: hub_url.clone(),
        ..opts()
    };
    let r = run_with(&root, &o);
    ok(&r);
    assert_eq!(installed(&root), ["acme_other", "acme_util"]);
    // >=0.9.0 and >=1.0.0,<2.0.0: 1.1.0 (1.2.0-rc1 is a prerelease).
    let version = std::fs::read_to_string(root.join("dbt_packages/acme_util/VERSION")).unwrap();
    assert_eq!(version, "1.1.0");
    let lock = lock(&root);
    assert!(
        lock.starts_with("packages:\n  - name: acme_other\n    package: acme/other\n    version: 1.0.0\n  - name: acme_util\n    package: acme/util\n    version: 1.1.0\n"),
        "{lock}"
    );
    assert!(
        r.lines.contains(&"Installed from version 1.1.0".to_string()),
        "{:?}",
        r.lines
    );
    assert!(
        r.lines.contains(&"Updated version available: 2.0.0".to_string()),
        "{:?}",
        r.lines
    );
    assert!(r.lines.contains(&"Up to date!".to_string()), "{:?}", r.lines);
    // Ranges that cannot meet.
    write(
        &root,
        "packages.yml",
        "packages:\n  - package: acme/other\n    version: 1.0.0\n  - package: acme/util\n    version: \"<1.0.0\"\n",
    );
    let msg = failure(&run_with(&root, &o));
    assert_eq!(
        msg,
        "Version error for package acme/util: Could not find a satisfactory version from options: ['<1.0.0', '>=1.0.0', '<2.0.0']"
    );
    assert_eq!(installed(&root), ["acme_other", "acme_util"], "left as it was");
    // A package the hub does not know.
    write(
        &root,
        "packages.yml",
        "packages:\n  - package: acme/nope\n    version: 1.0.0\n",
    );
    let msg = failure(&run_with(&root, &o));
    assert!(
        msg.starts_with("Package acme/nope was not found in the package index"),
        "{msg}"
    );
}

#[test]
fn an_unreachable_hub_names_the_package_and_leaves_installed_packages_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(tmp.path());
    write(tmp.path(), "pkgs/a/dbt_project.yml", "name: pkg_a\n");
    write(&root, "packages.yml", "packages:\n  - local: ../pkgs/a\n");
    ok(&run(&root));
    let before = lock(&root);
    write(
        &root,
        "packages.yml",
        "packages:\n  - local: ../pkgs/a\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"]\n",
    );
    let msg = failure(&run(&root));
    assert!(
        msg.starts_with("cannot reach 127.0.0.1:9 to resolve dbt-labs/dbt_utils: curl: (7)"),
        "{msg}"
    );
    assert_eq!(installed(&root), ["pkg_a"]);
    assert_eq!(lock(&root), before);
    no_leftovers(&root);
}

/// (packages.yml, line, column, start of the message)
#[test]
fn malformed_packages_yml_is_located() {
    let cases = [
        (
            "packages:\n  - local: a\n    bogus: 1\n",
            3,
            5,
            "unknown key 'bogus' in a local package",
        ),
        (
            "packages:\n  - local: a\n  - gti: x\n",
            3,
            5,
            "unknown package entry 'gti'",
        ),
        (
            "packages:\n  - package: dbt-labs/dbt_utils\n",
            2,
            5,
            "dbt-labs/dbt_utils is missing the version",
        ),
        (
            "packages:\n  - package: dbt_utils\n    version: 1.0.0\n",
            2,
            5,
            "dbt_utils was not found in the package index",
        ),
        (
            "packages:\n  - package: a/b\n    version: \"1.0\"\n",
            3,
            5,
            "\"1.0\" is not a valid semantic version.",
        ),
        (
            "packages:\n  - git: x\n    revision: [a, b]\n",
            3,
            5,
            "'revision' must be one branch, tag or commit",
        ),
        (
            "packages:\n  - git: x\n    warn-unpinned: maybe\n",
            3,
            5,
            "'warn-unpinned' must be true or false",
        ),
        (
            "packages:\n  - local: ''\n",
            2,
            5,
            "a local package is missing the value of 'local'",
        ),
        (
            "packages:\n  - local: a\n    git: b\n",
            3,
            5,
            "a package has one of 'local', 'git' or 'package', but this one has",
        ),
        (
            "packages:\n  - tarball: http://x/y.tgz\n",
            2,
            5,
            "a tarball package is missing the value of 'name'",
        ),
        (
            "packages:\n  - private: org/repo\n",
            2,
            5,
            "private packages need dbt Cloud",
        ),
        (
            "packages:\n  - local: a\n  - just-a-name\n",
            3,
            3,
            "a package must be a mapping",
        ),
        (
            "packages:\n  - git: \"{{ env_var('MODELC_DEPS_TEST_SURELY_UNSET') }}\"\n",
            2,
            3,
            "in '{{ env_var('MODELC_DEPS_TEST_SURELY_UNSET') }}': ",
        ),
        ("packages: {local: a}\n", 1, 1, "'packages' must be a list"),
        (
            "packages:\n  - local: a\npackage:\n  - local: b\n",
            3,
            1,
            "unknown key 'package' in packages.yml",
        ),
        ("packages:\n  - local: [a\n", 3, 1, "invalid YAML"),
    ];
    for (text, line, col, message) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let root = project(tmp.path());
        write(&root, "packages.yml", text);
        let r = run(&root);
        let Err(DepsError::Invalid(diags)) = &r.result else {
            panic!("{text}: {:?}", r.result);
        };
        let d = &diags[0];
        assert_eq!(d.file.as_deref(), Some(Path::new("packages.yml")), "{text}");
        assert_eq!((d.line, d.column), (line, col), "{text}: {d}");
        assert!(d.message.starts_with(message), "{text}: {d}");
        assert!(!root.join("dbt_packages").exists() && !root.join("package-lock.yml").exists());
    }
}

#[test]
fn packages_in_both_files_is_an_error_and_dependencies_yml_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(tmp.path());
    write(tmp.path(), "pkgs/a/dbt_project.yml", "name: pkg_a\n");
    write(&root, "dependencies.yml", "packages:\n  - local: ../pkgs/a\n");
    ok(&run(&root));
    assert_eq!(installed(&root), ["pkg_a"]);
    write(&root, "packages.yml", "packages:\n  - local: ../pkgs/a\n");
    let r = run(&root);
    let Err(DepsError::Invalid(diags)) = &r.result else {
        panic!("{:?}", r.result);
    };
    assert!(diags[0]
        .message
        .contains("cannot be specified in both packages.yml and dependencies.yml"));
    assert_eq!(diags[0].file.as_deref(), Some(Path::new("dependencies.yml")));
}

#[test]
fn no_packages_leaves_an_empty_install_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(tmp.path());
    let r = run(&root);
    ok(&r);
    assert_eq!(r.lines[0], "Warning: No packages were found in packages.yml");
    assert!(installed(&root).is_empty());
    assert!(!root.join("package-lock.yml").exists());
}

#[test]
fn an_unreachable_git_remote_names_the_package_and_leaves_installed_packages_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let root = project(tmp.path());
    write(tmp.path(), "pkgs/a/dbt_project.yml", "name: pkg_a\n");
    write(&root, "packages.yml", "packages:\n  - local: ../pkgs/a\n");
    ok(&run(&root));
    let missing = format!("file://{}/missing.git", tmp.path().display());
    write(
        &root,
        "packages.yml",
        &format!("packages:\n  - local: ../pkgs/a\n  - git: \"{missing}\"\n    revision: v1\n"),
    );
    let msg = failure(&run(&root));
    assert!(
        msg.starts_with(&format!("cannot fetch the git package {missing} at revision 'v1': ")),
        "{msg}"
    );
    assert!(msg.contains("does not appear to be a git repository"), "{msg}");
    assert_eq!(installed(&root), ["pkg_a"]);
    no_leftovers(&root);
}

#[test]
fn tarball_packages_are_installed_under_their_name() {
    let tmp = tempfile::tempdir().unwrap();
    let hub_url = hub(tmp.path());
    let tarball = format!("{hub_url}util-1.0.0.tar.gz");
    let root = project(tmp.path());
    write(
        &root,
        "packages.yml",
        &format!("packages:\n  - tarball: \"{tarball}\"\n    name: my_util\n"),
    );
    let r = run(&root);
    ok(&r);
    assert_eq!(installed(&root), ["my_util"]);
    assert_eq!(
        std::fs::read_to_string(root.join("dbt_packages/my_util/VERSION")).unwrap(),
        "1.0.0"
    );
    let lock = lock(&root);
    assert!(
        lock.starts_with(&format!(
            "packages:\n  - name: my_util\n    tarball: {tarball}\nsha1_hash: "
        )),
        "{lock}"
    );
    assert_eq!(
        &r.lines[1..],
        [
            "Installing my_util",
            &format!("Installed from tarball (url: {tarball})")
        ]
    );
    // A tarball that is not there.
    write(
        &root,
        "packages.yml",
        &format!("packages:\n  - tarball: \"{hub_url}nope.tar.gz\"\n    name: nope\n"),
    );
    let msg = failure(&run(&root));
    assert!(
        msg.starts_with("cannot download the tarball package nope from "),
        "{msg}"
    );
    assert_eq!(installed(&root), ["my_util"]);
}
