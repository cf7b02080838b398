//! `modelc deps`: local and git packages installed with dbt's lock file, and the
//! exit codes of a malformed packages.yml (2) and an unreachable hub (1).

use std::path::Path;
use std::process::Command;

use crate::support::{Fixture, Output, PROJECT_YML};

/// Runs `modelc deps <args> --project-dir <dir>` with extra environment variables.
fn deps(f: &Fixture, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_modelc"));
    cmd.arg("deps")
        .args(args)
        .arg("--project-dir")
        .arg(f.path())
        .env("NO_COLOR", "1")
        .env_remove("DBT_PROJECT_DIR")
        .env_remove("DBT_PACKAGE_HUB_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run modelc");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// git with a fixed identity and clock, so commits (and the lock file) are the same on every run.
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
        .env("GIT_AUTHOR_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2024-01-01T00:00:00Z")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repository under `remote/` with package `git_pkg` and, in `sub/`,
/// `git_sub_pkg`; tag `v1` on the first commit, `main` one commit ahead.
fn remote(f: &Fixture) -> String {
    let work = f.path().join("remote/work");
    std::fs::create_dir_all(&work).expect("mkdir");
    git(&work, &["init", "-q"]);
    f.write("remote/work/dbt_project.yml", "name: git_pkg\nversion: '1.0'\n");
    f.write("remote/work/sub/dbt_project.yml", "name: git_sub_pkg\nversion: '1.0'\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "one"]);
    git(&work, &["tag", "v1"]);
    f.write("remote/work/later.txt", "later\n");
    git(&work, &["add", "."]);
    git(&work, &["commit", "-qm", "two"]);
    let bare = f.path().join("remote/bare.git");
    git(f.path(), &["clone", "-q", "--bare", "remote/work", "remote/bare.git"]);
    format!("file://{}", bare.display())
}

const PACKAGES_YML: &str = "packages:
  - local: vendor/a
  - git: \"{{ env_var('MODELC_TEST_REMOTE') }}\"
    revision: v1
  - git: \"{{ env_var('MODELC_TEST_REMOTE') }}\"
    revision: main
    subdirectory: sub
    warn-unpinned: false
";

#[test]
fn deps_installs_local_and_git_packages_with_dbts_lock_file() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("packages.yml", PACKAGES_YML),
        ("vendor/a/dbt_project.yml", "name: pkg_a\n"),
        // Local paths of packages are relative to the root project, as in dbt.
        ("vendor/a/packages.yml", "packages:\n  - local: vendor/b\n"),
        ("vendor/b/dbt_project.yml", "name: pkg_b\n"),
    ]);
    let url = remote(&f);
    let env = [("MODELC_TEST_REMOTE", url.clone())];
    let out = deps(&f, &[], &env);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    insta::assert_snapshot!("deps_output", out.redacted(f.path()));
    // The lock keeps the URL as written (secrets in env vars stay out of it). Its
    // hash is dbt's (pinned by the vectors of modelc-project's deps tests) and covers
    // the rendered URL, a temp path here: it is masked. dbt-core 1.10 wrote this
    // same file, byte for byte, for this fixture.
    let lock = std::fs::read_to_string(f.path().join("package-lock.yml")).expect("lock");
    let (body, hash) = lock.split_once("sha1_hash: ").expect("a sha1_hash");
    let hash = hash.trim_end();
    assert!(
        hash.len() == 40 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{hash}"
    );
    insta::assert_snapshot!(
        "deps_lock_file",
        format!("{body}sha1_hash: <sha1 of packages.yml>\n").replace(f.path().to_string_lossy().as_ref(), "<project>")
    );
    let pkgs = f.path().join("dbt_packages");
    assert_eq!(
        std::fs::read_link(pkgs.join("pkg_a")).expect("pkg_a is a link"),
        f.path().join("vendor/a")
    );
    assert!(pkgs.join("pkg_b/dbt_project.yml").is_file());
    assert!(pkgs.join("git_pkg/dbt_project.yml").is_file());
    assert!(!pkgs.join("git_pkg/later.txt").exists(), "v1 is the first commit");
    assert!(pkgs.join("git_sub_pkg/dbt_project.yml").is_file());

    // Again: the lock matches, so it is installed as it is, not rewritten.
    let again = deps(&f, &[], &env);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(!again.stdout.contains("Updating lock file"), "{}", again.stdout);
    assert_eq!(
        std::fs::read_to_string(f.path().join("package-lock.yml")).expect("lock"),
        lock
    );
}

#[test]
fn deps_lock_writes_only_the_lock_file() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("packages.yml", "packages:\n  - local: vendor/a\n"),
        ("vendor/a/dbt_project.yml", "name: pkg_a\n"),
    ]);
    let out = deps(&f, &["--lock"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(f.path().join("package-lock.yml")).expect("lock"),
        // What dbt-core 1.10 writes for this packages.yml.
        "packages:\n  - local: vendor/a\n    name: pkg_a\nsha1_hash: ec5e37741800591c3e66a30550c04c33a93cfd5d\n"
    );
    assert!(!f.path().join("dbt_packages").exists());
}

#[test]
fn deps_unreachable_hub_fails_and_keeps_installed_packages() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("packages.yml", "packages:\n  - local: vendor/a\n"),
        ("vendor/a/dbt_project.yml", "name: pkg_a\n"),
    ]);
    assert_eq!(deps(&f, &[], &[]).code, 0);
    let lock = std::fs::read_to_string(f.path().join("package-lock.yml")).expect("lock");
    f.write(
        "packages.yml",
        "packages:\n  - local: vendor/a\n  - package: dbt-labs/dbt_utils\n    version: [\">=1.0.0\", \"<2.0.0\"]\n",
    );
    // Nothing listens on port 9: the hub cannot be reached.
    let out = deps(&f, &[], &[("DBT_PACKAGE_HUB_URL", "http://127.0.0.1:9/".into())]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("cannot reach 127.0.0.1:9 to resolve dbt-labs/dbt_utils: curl: (7)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the packages installed before are unchanged"),
        "{}",
        out.stderr
    );
    let pkgs = f.path().join("dbt_packages");
    let names: Vec<_> = std::fs::read_dir(&pkgs)
        .expect("dbt_packages")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["pkg_a"]);
    assert_eq!(
        std::fs::read_to_string(f.path().join("package-lock.yml")).expect("lock"),
        lock
    );
}

#[test]
fn deps_malformed_packages_yml_is_located_and_exits_2() {
    let f = Fixture::new(&[
        ("project.yml", PROJECT_YML),
        (
            "packages.yml",
            "packages:\n  - local: vendor/a\n  - git: https://example.invalid/x.git\n    revison: v1\n",
        ),
    ]);
    let out = deps(&f, &[], &[]);
    assert_eq!(out.code, 2);
    insta::assert_snapshot!("deps_malformed", out.redacted(f.path()));
    assert!(!f.path().join("dbt_packages").exists());
}
