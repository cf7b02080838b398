//! Interrupted and concurrent invocations: Ctrl-C cancels a build and exits 130
//! with a summary; a second build on a database in use fails at once naming the
//! process holding it, or waits with `--lock-timeout`; `compile` and `docs` work
//! while a build holds the database.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{connect, Fixture, PROJECT_YML};

fn spawn(f: &Fixture, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_modelc"))
        .args(args)
        .arg("--project-dir")
        .arg(f.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start modelc")
}

/// Reads line by line until a line contains `needle` (or the end); returns the lines read.
fn read_until(stream: &mut impl BufRead, needle: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    while stream.read_line(&mut line).expect("read output") > 0 {
        let found = line.contains(needle);
        lines.push(std::mem::take(&mut line));
        if found {
            break;
        }
    }
    lines
}

/// Waits for the child to exit, killing it (and failing) after `limit`.
fn wait_at_most(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("modelc did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rest(mut stream: impl std::io::Read) -> String {
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
    text
}

/// `quick` then `slow`, a table that takes hours to rebuild once `slow_rows` is huge.
fn slow_project() -> Fixture {
    Fixture::new(&[
        ("project.yml", PROJECT_YML),
        ("models/quick.sql", "{{ config(materialized='table') }}\nselect 1 as v"),
        (
            "models/slow.sql",
            "{{ config(materialized='table') }}\n\
             select count(*) as n from {{ ref('quick') }}, range({{ var('rows', 10) }})",
        ),
        ("models/after.sql", "select * from {{ ref('slow') }}"),
    ])
}

#[test]
fn ctrl_c_cancels_the_running_statement_keeps_the_old_table_and_exits_130() {
    let f = slow_project();
    assert_eq!(f.modelc(&["build"]).code, 0);
    let mut child = spawn(&f, &["build", "--vars", "{rows: 100000000000}"]);
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    // `slow` starts right after `quick` finishes, and then runs for hours.
    let mut lines = read_until(&mut stdout, "main.quick");
    std::thread::sleep(Duration::from_millis(300));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(sent.success());
    let status = wait_at_most(&mut child, Duration::from_secs(60));
    lines.push(rest(stdout));
    let stdout = lines.concat();
    let stderr = rest(child.stderr.take().expect("stderr"));
    assert_eq!(status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stderr.contains("Cancelling"), "{stderr}");
    assert!(
        stdout.contains("Done. PASS=1"),
        "the summary says what was done: {stdout}"
    );
    assert!(stdout.contains("Cancelled (Ctrl-C)"), "{stdout}");
    // The cancelled rebuild rolled back: the first build's table remains.
    assert_eq!(f.query("select n from slow"), vec![vec!["10".to_string()]]);
    let results = std::fs::read_to_string(f.path().join("target/run_results.json")).expect("run_results.json");
    assert!(results.contains("cancelled"), "{results}");
}

#[test]
fn a_second_build_fails_at_once_naming_the_process_that_holds_the_database() {
    let f = slow_project();
    assert_eq!(f.modelc(&["build"]).code, 0);
    let results = std::fs::read_to_string(f.path().join("target/run_results.json")).expect("run_results.json");
    // This test process holds the database, as a running build would.
    let held = connect(&f.db_path());
    let out = f.modelc(&["build"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("is in use by another process"), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("PID {}", std::process::id())),
        "names the process: {}",
        out.stderr
    );
    // The refused build touched neither the database nor the artifacts of the
    // build that holds it.
    let after = std::fs::read_to_string(f.path().join("target/run_results.json")).expect("run_results.json");
    assert_eq!(after, results);
    // What needs no write lock works meanwhile.
    let compile = f.modelc(&["compile"]);
    assert_eq!(compile.code, 0, "{compile:?}");
    let docs = f.modelc(&["docs"]);
    assert_eq!(docs.code, 0, "{docs:?}");
    drop(held);
}

#[test]
fn with_lock_timeout_a_second_build_waits_for_the_first() {
    let f = slow_project();
    assert_eq!(f.modelc(&["build"]).code, 0);
    let held = connect(&f.db_path());
    let mut child = spawn(&f, &["build", "--lock-timeout", "120"]);
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let waiting = read_until(&mut stderr, "waiting up to 120s");
    assert!(
        waiting.last().is_some_and(|l| l.contains("in use by another process")),
        "{waiting:?}"
    );
    // The other process ends: the waiting build goes on and succeeds.
    drop(held);
    let status = wait_at_most(&mut child, Duration::from_secs(120));
    let stdout = rest(child.stdout.take().expect("stdout"));
    assert_eq!(status.code(), Some(0), "{stdout}{}", rest(stderr));
    assert!(stdout.contains("Done. PASS=3"), "{stdout}");
}
