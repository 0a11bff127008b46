//! html: `--html FILE` writes one self-contained page: one tree node per process of the
//! recording, nothing fetched from the network, and, where a Chromium is installed, a page that
//! loads headless and whose script runs to the end.

use crate::common::{Finished, Trace, fixture, run, run_clonetrace, trace};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh path under the test scratch directory.
fn scratch(name: &str) -> PathBuf {
    crate::common::scratch_path("html", name)
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Traces fixture NAME (recorded with `--json -o`), writes the record to a file and renders it
/// with `clonetrace view REC --html PAGE`; returns the trace and the page's path.
fn page_of(name: &str) -> (Trace, PathBuf) {
    let trace = trace(&[], &[path_str(&fixture(name))]);
    let record = scratch(&format!("{name}.jsonl"));
    let lines: Vec<String> = trace.events.iter().map(Value::to_string).collect();
    std::fs::write(&record, lines.join("\n") + "\n").expect("write recording");
    let page = scratch(&format!("{name}.html"));
    let finished = run_clonetrace(&["view", path_str(&record), "--html", path_str(&page)]);
    assert!(
        finished.status.success(),
        "view --html failed: {}\n{}",
        finished.status,
        finished.stderr
    );
    let _ = std::fs::remove_file(&record);
    (trace, page)
}

/// The pids of the page's tree nodes, in page order.
fn node_pids(page: &str) -> Vec<i64> {
    page.split("<li class=\"process\"")
        .skip(1)
        .filter_map(|node| {
            let start = node.find("data-pid=\"")? + "data-pid=\"".len();
            let end = node[start..].find('"')? + start;
            node[start..end].parse().ok()
        })
        .collect()
}

/// Anything the page would fetch: a `src=` or `href=` to another document, or a URL in CSS.
fn fetches(page: &str) -> Vec<String> {
    let lower = page.to_ascii_lowercase();
    let mut found = Vec::new();
    for attribute in ["src=", "href=", "url("] {
        for (at, _) in lower.match_indices(attribute) {
            let value = lower[at + attribute.len()..].trim_start_matches(['"', '\'']);
            // In-page anchors (#p-3) and the SVG's own patterns (url(#hatch)) stay in the page.
            if !value.starts_with('#') {
                found.push(page[at..(at + 60).min(page.len())].to_string());
            }
        }
    }
    found.extend(
        ["http://", "https://", "//cdn", "@import"]
            .iter()
            .filter(|needle| lower.contains(*needle))
            .map(|needle| format!("contains {needle}")),
    );
    found
}

const FIXTURES: &[&str] = &[
    "threads3",
    "fork_wait",
    "posix_spawn",
    "vfork_exec",
    "subreaper_orphan",
    "killed_by_signal",
    "exit_signal_usr1",
];

#[test]
fn html_page_has_one_tree_node_per_process_and_fetches_nothing() {
    for name in FIXTURES {
        let (trace, page_path) = page_of(name);
        let page = std::fs::read_to_string(&page_path).expect("the page");
        let _ = std::fs::remove_file(&page_path);
        let mut pids = node_pids(&page);
        let mut expected: Vec<i64> = std::iter::once(trace.root_pid())
            .chain(
                trace
                    .creates()
                    .iter()
                    .filter(|c| c["kind"] != "thread")
                    .map(|c| c["child"].as_i64().expect("child pid")),
            )
            .collect();
        pids.sort_unstable();
        expected.sort_unstable();
        assert_eq!(pids, expected, "{name}: tree nodes by pid");
        assert_eq!(pids.len(), trace.processes(), "{name}");
        assert_eq!(fetches(&page), Vec::<String>::new(), "{name}: fetches");
        assert!(page.starts_with("<!DOCTYPE html>") && page.ends_with("</html>\n"));
        assert_eq!(
            page.matches("<script").count(),
            1,
            "{name}: one inline script"
        );
        assert_eq!(page.matches("<svg").count(), 1, "{name}: one timeline");
        // Every call link has its explanation in the page.
        for (at, _) in page.match_indices("href=\"#call-") {
            let rest = &page[at + "href=\"#".len()..];
            let id = &rest[..rest.find('"').expect("closing quote")];
            assert!(page.contains(&format!("id=\"{id}\"")), "{name}: no {id}");
        }
    }
}

#[test]
fn html_page_explains_threads_and_the_clone_child_exit_signal() {
    let (_, path) = page_of("threads3");
    let page = std::fs::read_to_string(&path).expect("the page");
    let _ = std::fs::remove_file(&path);
    assert!(page.contains("<dt><code>THREAD</code></dt>"), "{page}");
    assert!(page.contains("A thread has no exit signal"), "{page}");
    assert!(
        page.contains("<li class=\"threads\""),
        "threads folded: {page}"
    );

    let (_, path) = page_of("exit_signal_usr1");
    let page = std::fs::read_to_string(&path).expect("the page");
    let _ = std::fs::remove_file(&path);
    assert!(page.contains("<dt><code>SIGUSR1</code></dt>"), "{page}");
    assert!(page.contains("__WCLONE"), "{page}");
}

#[test]
fn html_page_is_written_for_a_live_trace() {
    let page = scratch("live.html");
    let finished = run_clonetrace(&[
        "--color",
        "never",
        "--html",
        path_str(&page),
        path_str(&fixture("fork_wait")),
    ]);
    assert!(finished.status.success(), "{}", finished.stderr);
    let text = std::fs::read_to_string(&page).expect("the page");
    let _ = std::fs::remove_file(&page);
    assert_eq!(node_pids(&text).len(), 2, "{text}");
}

/// The installed Chromium, if any.
fn chromium() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn headless(browser: &str, args: &[&str]) -> Finished {
    let mut command = Command::new(browser);
    command.args(["--headless=new", "--no-sandbox", "--disable-gpu"]);
    command.args(args);
    run(command)
}

#[test]
fn html_page_loads_in_a_headless_browser_and_its_script_runs() {
    let Some(browser) = chromium() else {
        eprintln!(
            "note: neither chromium nor chromium-browser is installed; not loading the HTML page \
             in a browser (apt-get install chromium)"
        );
        return;
    };
    let (trace, page) = page_of("threads3");
    let url = format!("file://{}", path_str(&page));
    let finished = headless(browser, &["--dump-dom", &url]);
    let _ = std::fs::remove_file(&page);
    let dom = String::from_utf8_lossy(&finished.stdout);
    assert!(
        finished.status.success(),
        "{browser} --dump-dom: {}\n{}",
        finished.status,
        finished.stderr
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script did not run to the end:\n{}",
        &dom[..dom.len().min(2000)]
    );
    let expected = format!("data-processes=\"{}\"", trace.processes());
    assert!(dom.contains(&expected), "{expected} not in the DOM");
}
