//! End-to-end tests of the `lending-datagen` binary: arguments, help text
//! and error exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lending-datagen"))
}

#[test]
fn writes_files_and_prints_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    let o = bin()
        .args(["--applications", "300", "--seed", "5", "--out"])
        .arg(&out)
        .args([
            "--start-date",
            "2024-01-01",
            "--end-date",
            "2024-06-30",
            "--as-of",
            "2024-12-31",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("rows/s"), "{stderr}");
    assert!(o.stdout.is_empty());
    let apps = std::fs::read_to_string(out.join("raw_loan_applications.csv")).unwrap();
    assert_eq!(apps.lines().count(), 301);
    assert!(apps
        .lines()
        .skip(1)
        .all(|l| l[l.find(',').unwrap() + 1..].contains(",2024-0")));
}

#[test]
fn invalid_window_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["--applications", "10", "--seed", "1", "--out"])
        .arg(dir.path())
        .args(["--as-of", "2024-06-30"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--as-of"));
}

#[test]
fn unwritable_output_exits_with_1() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let o = bin()
        .args(["--applications", "10", "--seed", "1", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("error"));
}

#[test]
fn bad_date_is_rejected_and_help_documents_the_model() {
    let o = bin()
        .args([
            "--applications",
            "1",
            "--seed",
            "1",
            "--out",
            "x",
            "--start-date",
            "2023-02-30",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("2023-02-30"));
    let help = bin().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    assert!(
        text.contains("A >= 740, B 680-739, C 620-679, D 560-619, E < 560"),
        "{text}"
    );
    assert!(text.contains("--applications"));
}
