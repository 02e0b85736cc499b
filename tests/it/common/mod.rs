//! Shared helpers for the integration tests.

use std::path::{Path, PathBuf};

use spillscope::engine::input::{Input, InputKind};

#[cfg(feature = "gui")]
pub mod gui;

/// Runs the `spillscope` binary from the project folder.
pub fn spillscope(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

/// `spillscope ARGS`, which must succeed, its standard output parsed as JSON
/// (a failure shows the arguments and the standard error).
pub fn json(args: &[&str]) -> serde_json::Value {
    let out = spillscope(args);
    assert!(
        out.status.success(),
        "spillscope {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "spillscope {args:?} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// `spillscope SUBCOMMAND sample-modules/FILE --func FUNC --target x86_64
/// --json`, which must succeed, as JSON.
pub fn sample_json(subcommand: &str, file: &str, func: &str) -> serde_json::Value {
    let sample = samples_dir().join(file);
    json(&[
        subcommand,
        sample.to_str().unwrap(),
        "--func",
        func,
        "--target",
        "x86_64",
        "--json",
    ])
}

/// The folder of one area's golden files, `tests/golden/<area>`.
fn golden_dir(area: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
        .join(area)
}

/// Checks `actual` against the golden file `tests/golden/<area>/<name>`:
/// the one golden mechanism of the tests (`BLESS=1` rewrites the files).
pub fn golden(area: &str, name: &str, actual: &str) {
    check_golden(&golden_dir(area).join(name), actual);
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-modules")
}

/// Paths of every sample input, in sample-modules/ and its folders.
pub fn sample_paths() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir)
            .expect("sample folder exists")
            .flatten()
        {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("wat" | "wasm" | "clif")
            ) {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&samples_dir(), &mut paths);
    paths.sort();
    paths
}

/// Every sample module, loaded.
pub fn samples() -> Vec<Input> {
    let paths = sample_paths();
    paths
        .iter()
        .map(|p| Input::load(p).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

pub fn wasm_samples() -> Vec<Input> {
    samples()
        .into_iter()
        .filter(|i| i.kind() != InputKind::Clif)
        .collect()
}

/// The spec test suite beside the project (`../shared/corpora/spec-testsuite`),
/// if present. Absent, a test using it skips with a message, unless
/// `SPILLSCOPE_REQUIRE_CORPUS` is set (as CI sets it): then it fails.
pub fn spec_corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("corpora")
        .join("spec-testsuite");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("SPILLSCOPE_REQUIRE_CORPUS").is_none(),
        "SPILLSCOPE_REQUIRE_CORPUS is set but ../shared/corpora/spec-testsuite is absent"
    );
    eprintln!("skipped: the spec test suite (../shared/corpora/spec-testsuite) is absent");
    None
}

/// Whether golden files should be rewritten (`BLESS=1`).
pub fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v != "0")
}

/// Compares `actual` with the golden file at `path`, or rewrites it when blessing.
pub fn check_golden(path: &Path, actual: &str) {
    if blessing() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|_| {
        panic!(
            "missing golden {}; run with BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff_line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the output at line {} (run with BLESS=1 to accept):\nexpected: {:?}\nactual:   {:?}",
            path.display(),
            diff_line + 1,
            expected.lines().nth(diff_line),
            actual.lines().nth(diff_line)
        );
    }
}

/// The regalloc2 0.11.3 tool (`tools/ra0113`), if built. `.ci/run` builds it
/// and sets `SPILLSCOPE_REQUIRE_RA0113`, so there a missing tool fails the
/// test; elsewhere the test is skipped with a message.
pub fn ra0113_or_skip() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/ra0113/target/release/ra0113");
    if p.is_file() {
        return Some(p);
    }
    assert!(
        std::env::var_os("SPILLSCOPE_REQUIRE_RA0113").is_none(),
        "tools/ra0113 must be built for this run"
    );
    eprintln!(
        "skipped: tools/ra0113 is not built (cargo build --release --locked --manifest-path tools/ra0113/Cargo.toml)"
    );
    None
}

/// The unpacked source of a registry crate, where cargo keeps it.
pub fn registry_source(name: &str) -> Option<std::path::PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))?;
    std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .filter_map(Result::ok)
        .map(|d| d.path().join(name))
        .find(|p| p.join("Cargo.toml").is_file())
}

/// regalloc2 0.11.3's unpacked source, or `None` after saying the test is
/// skipped (a failure when `SPILLSCOPE_REQUIRE_RA_TREE` is set, as in CI).
pub fn ra0113_source_or_skip() -> Option<std::path::PathBuf> {
    let tree = registry_source("regalloc2-0.11.3");
    if tree.is_none() {
        assert!(
            std::env::var_os("SPILLSCOPE_REQUIRE_RA_TREE").is_none(),
            "SPILLSCOPE_REQUIRE_RA_TREE is set, but regalloc2 0.11.3's source is not unpacked"
        );
        eprintln!("skipped: regalloc2 0.11.3's source is not in cargo's registry");
    }
    tree
}
