//! The docs site in a real browser: headless Chromium, driven over the DevTools
//! protocol. It loads the generated site from `file://`, counts the nodes the graph
//! drew, clicks one, checks that its page opens and saves screenshots.
//!
//! Chromium must be installed (`apt-get install -y chromium`, done by `.ci/run`);
//! `MODELC_CHROMIUM` names another binary. Without one the test fails: a docs site
//! nobody loaded in a browser is not tested.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use crate::support::run_modelc;

fn chromium_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MODELC_CHROMIUM") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "the docs browser test needs Chromium, and none was found on PATH.\n\
         Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu; .ci/run does this),\n\
         or set MODELC_CHROMIUM to a Chromium or Chrome binary."
    );
}

/// How long any one wait on the browser may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A headless Chromium with one page, attached over the DevTools protocol.
struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    /// Events received while waiting for replies, oldest first.
    events: std::collections::VecDeque<Value>,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch() -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(chromium_binary())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1400,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start Chromium");
        // Chromium prints its DevTools address on stderr.
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("Chromium did not print its DevTools address within 30 s");
        let (ws, _) = tungstenite::connect(url.as_str()).expect("connect to DevTools");
        // A read that waits longer than this fails the test instead of hanging it.
        if let MaybeTlsStream::Plain(stream) = ws.get_ref() {
            stream.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
        }
        let mut b = Browser {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            events: std::collections::VecDeque::new(),
            _profile: profile,
        };
        let targets = b.call("Target.getTargets", json!({}));
        let page = targets["targetInfos"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["targetId"].as_str())
            .expect("a page target")
            .to_string();
        let attached = b.call("Target.attachToTarget", json!({"targetId": page, "flatten": true}));
        b.session = attached["sessionId"].as_str().expect("session id").to_string();
        b.call("Page.enable", json!({}));
        b
    }

    /// The next message from DevTools.
    fn read(&mut self) -> Value {
        loop {
            let msg = self
                .ws
                .read()
                .unwrap_or_else(|e| panic!("no message from DevTools within {TIMEOUT:?}: {e}"));
            if let Message::Text(text) = msg {
                return serde_json::from_str(text.as_str()).expect("DevTools JSON");
            }
        }
    }

    /// Sends a command and waits for its result or error; events received meanwhile
    /// are kept for [`Browser::wait_event`].
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            msg["sessionId"] = json!(self.session);
        }
        self.ws.send(Message::text(msg.to_string())).expect("send");
        loop {
            let v = self.read();
            if v["id"] == id {
                return match v.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(v["result"].clone()),
                };
            }
            if v.get("method").is_some() {
                self.events.push_back(v);
            }
        }
    }

    /// Sends a command and waits for its result.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    /// Waits for the first event, kept or new, that `matches`; the events before it
    /// are dropped.
    fn wait_event(&mut self, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            while let Some(e) = self.events.pop_front() {
                if matches(&e) {
                    return e;
                }
            }
            assert!(start.elapsed() < TIMEOUT, "timed out waiting for {what}");
            let v = self.read();
            if v.get("method").is_some() {
                self.events.push_back(v);
            }
        }
    }

    /// Waits until the top frame has navigated to a URL containing `url_part` and
    /// that document has loaded, from the Page domain's events.
    fn wait_navigated(&mut self, url_part: &str) {
        self.wait_event(&format!("the page to navigate to {url_part}"), |e| {
            e["method"] == "Page.frameNavigated"
                && e["params"]["frame"].get("parentId").is_none()
                && e["params"]["frame"]["url"]
                    .as_str()
                    .is_some_and(|u| u.contains(url_part))
        });
        self.wait_event(&format!("{url_part} to load"), |e| e["method"] == "Page.loadEventFired");
    }

    /// Evaluates a JS expression in the page and returns its value. An evaluation
    /// that meets the page's document being replaced (its execution context gone)
    /// is tried again once the new document has loaded; any other error fails.
    fn eval(&mut self, expr: &str) -> Value {
        let params = json!({"expression": expr, "returnByValue": true, "awaitPromise": true});
        let start = Instant::now();
        let r = loop {
            match self.try_call("Runtime.evaluate", params.clone()) {
                Ok(r) => break r,
                Err(e) if context_replaced(&e) && start.elapsed() < TIMEOUT => {
                    self.wait_event("the new document to load", |e| e["method"] == "Page.loadEventFired");
                }
                Err(e) => panic!("Runtime.evaluate of {expr} failed: {e}"),
            }
        };
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expr} threw: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Polls `expr` until it is truthy.
    fn wait_for(&mut self, expr: &str, what: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.eval(expr);
            if !(v.is_null() || v == json!(false) || v == json!("") || v == json!(0)) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Opens `url` and waits until it has loaded.
    fn navigate(&mut self, url: &str) {
        self.events.clear();
        self.call("Page.navigate", json!({"url": url}));
        self.wait_navigated(url);
    }

    /// A real left click at page coordinates, as a user's mouse makes it.
    fn click(&mut self, x: f64, y: f64) {
        for (kind, buttons) in [("mouseMoved", 0), ("mousePressed", 1), ("mouseReleased", 0)] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1}),
            );
        }
    }

    fn press_enter(&mut self) {
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}),
            );
        }
    }

    fn screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = data_encoding::BASE64
            .decode(shot["data"].as_str().expect("screenshot data").as_bytes())
            .expect("base64");
        std::fs::write(path, png).expect("write screenshot");
        eprintln!("screenshot: {}", path.display());
    }
}

/// Whether a DevTools error says the evaluation's execution context went away
/// because the page is navigating ("Inspected target navigated or closed",
/// "Execution context was destroyed", "Cannot find context with specified id").
fn context_replaced(error: &Value) -> bool {
    let msg = error["message"].as_str().unwrap_or_default();
    ["navigated or closed", "context was destroyed", "Cannot find context"]
        .iter()
        .any(|m| msg.contains(m))
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.canonicalize().expect("canonical path").display())
}

#[test]
fn docs_site_renders_the_graph_and_opens_a_node_page_on_click() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    std::fs::copy(repo.join("project.yml"), root.join("project.yml")).expect("copy");
    for d in ["models", "macros", "seeds", "snapshots", "tests"] {
        crate::lending::copy_dir(&repo.join(d), &root.join(d));
    }
    let out = run_modelc(root, &["build"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let out = run_modelc(root, &["docs"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);

    let lineage: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("target/lineage.json")).expect("lineage.json"))
            .expect("lineage json");
    let expected = lineage["nodes"].as_array().expect("nodes").len();
    assert!(
        expected > 90,
        "the example has seeds, sources, models, a snapshot and tests"
    );

    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs-browser");
    std::fs::create_dir_all(&shots).expect("screenshot dir");

    let mut b = Browser::launch();
    b.navigate(&file_url(&root.join("target/docs/index.html")));
    b.wait_for(
        "document.body && document.body.dataset.ready === '1'",
        "the graph to render",
    );
    let drawn = b.eval("document.querySelectorAll('#graph g.node').length");
    assert_eq!(drawn, json!(expected), "one drawn node per lineage node");
    let attr = b.eval("document.querySelector('#graph').getAttribute('data-node-count')");
    assert_eq!(attr, json!(expected.to_string()));
    b.screenshot(&shots.join("index.png"));

    // Search for a mart: the graph centres on the first match, Enter moves to the next
    // (its tests match too); then click it.
    let target = "model.lending.default_rate_by_industry_risk_band";
    b.eval("(() => { const s = document.querySelector('#search'); s.focus(); return true; })()");
    b.call(
        "Input.insertText",
        json!({"text": "default_rate_by_industry_risk_band"}),
    );
    let matches = b.wait_for(
        "document.querySelectorAll('#graph g.node.match').length",
        "the search to mark its matches",
    );
    let matches = matches.as_u64().expect("match count");
    assert!(matches >= 2, "the mart and its tests match: {matches}");
    let mut focused = Value::Null;
    for _ in 0..=matches {
        focused = b.eval("(document.querySelector('#graph g.node.focus') || {dataset: {}}).dataset.id || null");
        if focused == json!(target) {
            break;
        }
        b.press_enter();
    }
    assert_eq!(focused, json!(target), "Enter cycles through the matches");
    std::thread::sleep(Duration::from_millis(100));
    let rect = b.eval(&format!(
        "(() => {{ const r = document.querySelector('#graph g.node[data-id=\"{target}\"]').getBoundingClientRect(); \
           return [r.left + r.width / 2, r.top + r.height / 2, r.width, r.height, window.innerWidth, window.innerHeight]; }})()"
    ));
    let r: Vec<f64> = rect
        .as_array()
        .expect("rect")
        .iter()
        .map(|v| v.as_f64().expect("number"))
        .collect();
    assert!(
        r[2] > 4.0 && r[3] > 4.0,
        "the searched node is drawn large enough to click: {r:?}"
    );
    assert!(
        r[0] > 0.0 && r[0] < r[4] && r[1] > 0.0 && r[1] < r[5],
        "the searched node is in view: {r:?}"
    );
    b.screenshot(&shots.join("search.png"));
    // The click opens the node's page: wait for that navigation to finish before
    // evaluating anything (an evaluation during it fails: "Inspected target
    // navigated or closed").
    b.events.clear();
    b.click(r[0], r[1]);
    b.wait_navigated(&format!("/nodes/{target}"));
    let href = b.wait_for(
        &format!("location.href.includes('{target}') && document.readyState === 'complete' && location.href"),
        "the node page to open",
    );
    assert!(href.as_str().expect("href").contains("/nodes/"), "{href}");
    let title = b.eval("document.querySelector('h1').textContent");
    assert!(
        title
            .as_str()
            .expect("title")
            .contains("default_rate_by_industry_risk_band"),
        "{title}"
    );
    // The page shows the compiled SQL, the column lineage and the heatmap of the built mart.
    let text = b.eval("document.body.innerText");
    let text = text.as_str().expect("text");
    assert!(text.contains("default_rate"), "columns listed");
    assert!(text.contains("fact_loans"), "upstream and lineage listed");
    let cells = b.eval("document.querySelectorAll('svg.chart g.cell rect').length");
    assert!(
        cells.as_u64().unwrap_or(0) >= 5,
        "heatmap cells drawn from the database: {cells}"
    );
    b.screenshot(&shots.join("node.png"));
}
