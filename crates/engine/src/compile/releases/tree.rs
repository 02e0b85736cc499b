//! Your own regalloc2: a source tree (a git checkout or an unpacked crate of
//! 0.9 or later). A small runner is built against it once (cargo, its
//! `trace-log`, `enable-serde` and `checker` features; cached under the
//! user's cache directory, keyed by the tree's content), fed the function as
//! the reproducer file of the built-in release of the same line, and its
//! `trace!` records are read as they come into the same trace builder and
//! live loop detector as an in-process allocation. The record budget, the
//! deadline and the loop detector end the runner's process group.

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::capture::{CaptureLimits, CaptureStop, RecordSink as _, Source, Verdict};
use crate::compile::realloc::EditCounts;
use crate::compile::rebuild::RebuiltFunction;
use crate::input::release::Release;
use crate::trace::{StepObserver, Trace, TraceBuilder};

/// A regalloc2 source tree.
#[derive(Clone, Debug)]
pub struct Tree {
    pub path: PathBuf,
    /// Its version, from its Cargo.toml.
    pub version: String,
    /// The built-in release whose reproducer format it reads (the same line;
    /// the newest for a line newer than every built-in one).
    pub format: Release,
}

impl Tree {
    /// The tree at `path`, or why it is not one: one line.
    pub fn open(path: &Path) -> Result<Tree, String> {
        let manifest = path.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).map_err(|e| {
            format!(
                "{}: not a regalloc2 source tree (no readable Cargo.toml: {e})",
                path.display()
            )
        })?;
        let (name, version) = package_of(&text);
        if name.as_deref() != Some("regalloc2") {
            return Err(format!(
                "{}: not a regalloc2 source tree (its Cargo.toml is for `{}`)",
                path.display(),
                name.unwrap_or_else(|| "no package".into())
            ));
        }
        let version = version
            .ok_or_else(|| format!("{}: its Cargo.toml gives no version", path.display()))?;
        let minor = version
            .strip_prefix("0.")
            .and_then(|r| r.split('.').next())
            .and_then(|m| m.parse::<u32>().ok())
            .ok_or_else(|| format!("{}: version `{version}` is not 0.M.P", path.display()))?;
        if minor < Release::OLDEST.minor() {
            return Err(format!(
                "{}: regalloc2 {version} is older than 0.9, the first release with a reproducer format",
                path.display()
            ));
        }
        if !path.join("src/lib.rs").is_file() {
            return Err(format!("{}: has no src/lib.rs", path.display()));
        }
        for feature in ["trace-log", "enable-serde", "checker"] {
            if !text.contains(&format!("{feature} ="))
                && !text.contains(&format!("\"{feature}\" ="))
            {
                return Err(format!(
                    "{}: regalloc2 {version} has no `{feature}` feature, which the runner needs",
                    path.display()
                ));
            }
        }
        let format = Release::ALL
            .into_iter()
            .find(|r| r.minor() == minor)
            .unwrap_or(Release::NEWEST);
        Ok(Tree {
            path: path.to_path_buf(),
            version,
            format,
        })
    }

    /// A key for its content: the manifest and every file under `src/`,
    /// with the runner's own source.
    fn key(&self) -> Result<String, String> {
        let mut files = Vec::new();
        collect(&self.path.join("src"), &mut files)
            .map_err(|e| format!("{}: cannot read its src/: {e}", self.path.display()))?;
        files.sort();
        let mut h = Sha256::new();
        h.update(RUNNER_MANIFEST.as_bytes());
        h.update(RUNNER_MAIN.as_bytes());
        for f in std::iter::once(self.path.join("Cargo.toml")).chain(files) {
            let bytes = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            h.update(
                f.strip_prefix(&self.path)
                    .unwrap_or(&f)
                    .to_string_lossy()
                    .as_bytes(),
            );
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(&bytes);
        }
        Ok(h.finalize()
            .iter()
            .take(10)
            .map(|b| format!("{b:02x}"))
            .collect())
    }
}

/// The `[package]` name and version of a Cargo.toml.
fn package_of(text: &str) -> (Option<String>, Option<String>) {
    let mut in_package = false;
    let (mut name, mut version) = (None, None);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
            continue;
        }
        if !in_package {
            continue;
        }
        let value = |key: &str| {
            let rest = line.strip_prefix(key)?.trim_start().strip_prefix('=')?;
            Some(rest.trim().trim_matches('"').to_string())
        };
        name = name.or_else(|| value("name"));
        version = version.or_else(|| value("version"));
    }
    (name, version)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let t = entry.file_type()?;
        if t.is_dir() {
            collect(&entry.path(), out)?;
        } else if t.is_file() {
            out.push(entry.path());
        }
    }
    Ok(())
}

/// Where runners are kept: `SPILLSCOPE_CACHE_DIR`, else the user's cache
/// directory (`XDG_CACHE_HOME`, `~/.cache`) under `spillscope`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SPILLSCOPE_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("spillscope");
    }
    match std::env::var_os("HOME") {
        Some(h) => PathBuf::from(h).join(".cache/spillscope"),
        None => std::env::temp_dir().join("spillscope-cache"),
    }
}

const RUNNER_NAME: &str = "spillscope-regalloc2-runner";

const RUNNER_MANIFEST: &str = r#"[package]
name = "spillscope-regalloc2-runner"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
regalloc2 = { path = "TREE", features = ["trace-log", "enable-serde", "checker"] }
bincode = "1"
log = { version = "0.4", features = ["std"] }
"#;

/// The runner: reads a reproducer file, allocates it with the backtracking
/// allocator and the checker, and prints each `trace!` record as
/// `LEVEL<TAB>target<TAB>message` (backslashes and newlines escaped). With
/// `--count BUDGET` it only counts the records, stops past the budget, and
/// prints one `summary` line: records, spills, reloads, moves, stack moves,
/// spill slots and the allocation's microseconds. Exit codes: 0 allocated
/// and checked, 2 unreadable file, 3 refused, 4 checker failed, 5 over the
/// budget. Written against the API every release from 0.9 shares.
const RUNNER_MAIN: &str = r#"use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

static OUT: OnceLock<Mutex<std::io::BufWriter<std::io::Stdout>>> = OnceLock::new();
static RECORDS_SEEN: AtomicU64 = AtomicU64::new(0);
/// 0: print every record; otherwise count them against this budget.
static BUDGET: AtomicU64 = AtomicU64::new(0);

struct Records;

impl log::Log for Records {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        let seen = RECORDS_SEEN.fetch_add(1, Ordering::Relaxed) + 1;
        let budget = BUDGET.load(Ordering::Relaxed);
        if budget != 0 {
            if seen >= budget {
                eprintln!("over the budget of {budget} records");
                std::process::exit(5);
            }
            return;
        }
        let message = format!("{}", r.args()).replace('\\', "\\\\").replace('\n', "\\n");
        if let Some(out) = OUT.get() {
            if let Ok(mut out) = out.lock() {
                let _ = writeln!(out, "{}\t{}\t{}", r.level(), r.target(), message);
            }
        }
    }
    fn flush(&self) {
        if let Some(out) = OUT.get() {
            if let Ok(mut out) = out.lock() {
                let _ = out.flush();
            }
        }
    }
}

static RECORDS: Records = Records;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).cloned().unwrap_or_default();
    if let Some(b) = args.iter().position(|a| a == "--count").and_then(|i| args.get(i + 1)) {
        BUDGET.store(b.parse().unwrap_or(u64::MAX).max(1), Ordering::Relaxed);
    }
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }
    };
    let f: regalloc2::serialize::SerializableFunction = match bincode::deserialize(&bytes) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{path} is not this regalloc2's reproducer format: {e}");
            std::process::exit(2);
        }
    };
    let _ = OUT.set(Mutex::new(std::io::BufWriter::with_capacity(1 << 16, std::io::stdout())));
    let _ = log::set_logger(&RECORDS);
    log::set_max_level(log::LevelFilter::Trace);
    let mut options = regalloc2::RegallocOptions::default();
    options.verbose_log = false;
    options.validate_ssa = false;
    let env = f.machine_env();
    let started = std::time::Instant::now();
    let result = regalloc2::run(&f, env, &options);
    let micros = started.elapsed().as_micros();
    log::logger().flush();
    match result {
        Ok(out) => {
            if BUDGET.load(Ordering::Relaxed) != 0 {
                let (mut spills, mut reloads, mut moves, mut stack_moves) = (0, 0, 0, 0);
                for (_, edit) in &out.edits {
                    let regalloc2::Edit::Move { from, to } = edit;
                    match (from.is_stack(), to.is_stack()) {
                        (false, false) => moves += 1,
                        (false, true) => spills += 1,
                        (true, false) => reloads += 1,
                        (true, true) => stack_moves += 1,
                    }
                }
                println!(
                    "summary\t{}\t{spills}\t{reloads}\t{moves}\t{stack_moves}\t{}\t{micros}",
                    RECORDS_SEEN.load(Ordering::Relaxed),
                    out.num_spillslots
                );
            }
            let mut checker = regalloc2::checker::Checker::new(&f, env);
            checker.prepare(&out);
            if let Err(e) = checker.run() {
                eprintln!("checker: {e:?}");
                std::process::exit(4);
            }
            eprintln!("checker: ok");
        }
        Err(e) => {
            eprintln!("regalloc2 refused the function: {e:?}");
            std::process::exit(3);
        }
    }
}
"#;

/// The runner built against `tree`, from the cache when its content was
/// built before. A build failure says cargo's first error.
pub fn build_runner(tree: &Tree) -> Result<PathBuf, String> {
    let dir = cache_dir().join("regalloc2-runners").join(tree.key()?);
    let bin = dir.join("target/release").join(RUNNER_NAME);
    if bin.is_file() {
        return Ok(bin);
    }
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let tree_path = std::fs::canonicalize(&tree.path).unwrap_or_else(|_| tree.path.clone());
    let tree_text = tree_path
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    write("Cargo.toml", &RUNNER_MANIFEST.replace("TREE", &tree_text))?;
    write("src/main.rs", RUNNER_MAIN)?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let build = |offline: bool| {
        let mut c = Command::new(&cargo);
        c.args(["build", "--release", "--quiet"])
            .current_dir(&dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .env_remove("RUSTFLAGS")
            .stdin(Stdio::null());
        if offline {
            c.arg("--offline");
        }
        c.output()
    };
    // Offline first: every dependency a release needs is usually in the
    // local registry already (spillscope builds them).
    let mut out = build(true).map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        out = build(false).map_err(|e| format!("cannot run cargo: {e}"))?;
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut lines = stderr.lines();
        let first = lines
            .by_ref()
            .find(|l| l.starts_with("error"))
            .unwrap_or("cargo failed without a message");
        // Cargo explains a resolution failure a few lines on.
        let why = lines
            .find(|l| l.contains(" but "))
            .map(|l| format!(" ({})", l.trim()))
            .unwrap_or_default();
        return Err(format!(
            "building a runner against {} failed: {first}{why}",
            tree.path.display()
        ));
    }
    Ok(bin)
}

/// How the runner's allocation ended.
#[derive(Clone, Debug, PartialEq)]
pub enum TreeEnd {
    /// Allocated; the checker's verdict (`ok` or its error).
    Allocated { checker: String },
    /// The budget, the deadline or the loop detector stopped it.
    Stopped(CaptureStop),
    /// regalloc2 refused it, or the runner failed: its words.
    Failed(String),
}

/// Passes records to the builder, counting them against the budget.
struct Feed {
    builder: TraceBuilder,
    records: u64,
}

/// Allocates `func` with the runner built against `tree`, reading its
/// records live under `limits`, shown to `watch` (a loop detector: its stop
/// is reported as a loop).
pub fn allocate(
    tree: &Tree,
    runner: &Path,
    func: &RebuiltFunction,
    limits: CaptureLimits,
    watch: impl StepObserver + 'static,
) -> Result<(Trace, TreeEnd), String> {
    let (_file, mut child, err_thread) = start(tree, runner, func, &[])?;
    let pid = child.id();
    let mut feed = Feed {
        builder: TraceBuilder::new()
            .allocated_by(crate::input::isa::Algorithm::Backtracking)
            .observed_by(watch),
        records: 0,
    };
    let started = Instant::now();
    let mut stop = None;
    if let Some(stdout) = child.stdout.take() {
        let mut reader = BufReader::with_capacity(1 << 16, stdout);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let Some((level, rest)) = line.trim_end_matches('\n').split_once('\t') else {
                continue;
            };
            let Some((target, message)) = rest.split_once('\t') else {
                continue;
            };
            if !target.starts_with("regalloc2") {
                continue;
            }
            feed.records += 1;
            let level = level.parse::<log::Level>().unwrap_or(log::Level::Trace);
            let message = unescape(message);
            if let Some(source) = Source::from_target(target)
                && feed.builder.record(source, level, &message) == Verdict::Stop
            {
                stop = Some(CaptureStop::SinkStopped);
                break;
            }
            if feed.records >= limits.max_records {
                stop = Some(CaptureStop::RecordBudget {
                    records: feed.records,
                });
                break;
            }
            if feed.records.is_multiple_of(4096)
                && let Some(deadline) = limits.deadline
                && Instant::now() >= deadline
            {
                stop = Some(CaptureStop::Deadline {
                    elapsed_ms: started.elapsed().as_millis() as u64,
                });
                break;
            }
        }
    }
    if stop.is_some() {
        crate::process::kill_group(pid);
    }
    let status = child.wait().map_err(|e| format!("the runner: {e}"))?;
    let stderr = err_thread.join().unwrap_or_default();
    let looped = feed.builder.stopped_by_observer();
    let mut trace = feed.builder.finish();
    trace.records = feed.records;
    trace.vcode_before = func.vcode.clone();
    let end = match stop {
        Some(CaptureStop::SinkStopped) if looped => {
            let s = CaptureStop::LoopDetected {
                steps: trace.steps.len(),
            };
            trace.stopped = Some(s.clone());
            TreeEnd::Stopped(s)
        }
        Some(s) => {
            trace.stopped = Some(s.clone());
            TreeEnd::Stopped(s)
        }
        None if status.success() => TreeEnd::Allocated {
            checker: stderr
                .lines()
                .find_map(|l| l.strip_prefix("checker: "))
                .unwrap_or("ok")
                .to_string(),
        },
        None => {
            let words = stderr.lines().rev().find(|l| !l.trim().is_empty());
            let why = match (status.code(), words) {
                (Some(4), Some(w)) => {
                    trace.checker_error = Some(w.to_string());
                    return Ok((
                        trace,
                        TreeEnd::Allocated {
                            checker: w.trim_start_matches("checker: ").to_string(),
                        },
                    ));
                }
                (_, Some(w)) => w.to_string(),
                (Some(c), None) => format!("the runner exited with code {c}"),
                (None, None) => "the runner was killed by a signal".to_string(),
            };
            TreeEnd::Failed(why)
        }
    };
    Ok((trace, end))
}

/// Writes `func` as the tree's reproducer file and starts the runner on it
/// with `args`, in its own process group; the file (kept until the runner
/// is done), the child, and a thread reading its first 64 KiB of stderr.
fn start(
    tree: &Tree,
    runner: &Path,
    func: &RebuiltFunction,
    args: &[&str],
) -> Result<(tempfile::NamedTempFile, Child, JoinHandle<String>), String> {
    let bin = super::to_bin(tree.format, func, &func.env)?;
    let mut file = tempfile::Builder::new()
        .prefix("spillscope-")
        .suffix(".bin")
        .tempfile()
        .map_err(|e| format!("cannot write the reproducer file: {e}"))?;
    file.write_all(&bin)
        .and_then(|_| file.flush())
        .map_err(|e| format!("cannot write the reproducer file: {e}"))?;
    let mut cmd = Command::new(runner);
    cmd.arg(file.path())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        cmd.process_group(0);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start the runner: {e}"))?;
    let stderr = child.stderr.take();
    let err_thread = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut e) = stderr {
            let _ = e.by_ref().take(1 << 16).read_to_string(&mut text);
        }
        text
    });
    Ok((file, child, err_thread))
}

/// How a counted allocation ([`allocate_counted`]) ended.
#[derive(Clone, Debug, PartialEq)]
pub enum CountedEnd {
    /// Allocated: its edits, spill slots and time; the checker's error, if
    /// it failed.
    Allocated {
        edits: EditCounts,
        slots: usize,
        micros: u64,
        checker_error: Option<String>,
    },
    /// The budget or the deadline stopped it.
    Stopped(CaptureStop),
    /// regalloc2 refused the function: its words.
    Refused(String),
    /// The runner panicked: the panic's message.
    Panicked(String),
    /// The runner could not run, or failed otherwise.
    Failed(String),
}

/// Allocates `func` with the runner built against `tree`, counting its
/// records without printing them (a corpus gate): the outcome, and the
/// number of records. The budget stops the runner from inside; the
/// deadline ends its process group.
pub fn allocate_counted(
    tree: &Tree,
    runner: &Path,
    func: &RebuiltFunction,
    limits: CaptureLimits,
) -> Result<(CountedEnd, u64), String> {
    let budget = limits.max_records.max(1).to_string();
    let started = Instant::now();
    let (_file, mut child, err_thread) = start(tree, runner, func, &["--count", &budget])?;
    let pid = child.id();
    // A killer waits for the deadline unless told the runner is done.
    let (done, wait) = std::sync::mpsc::channel::<()>();
    let deadline = limits.deadline;
    let killer = std::thread::spawn(move || {
        let Some(deadline) = deadline else {
            let _ = wait.recv();
            return false;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        match wait.recv_timeout(left) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                crate::process::kill_group(pid);
                true
            }
            _ => false,
        }
    });
    let mut out = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = stdout.take(1 << 16).read_to_string(&mut out);
    }
    let status = child.wait().map_err(|e| format!("the runner: {e}"));
    let _ = done.send(());
    let killed = killer.join().unwrap_or(false);
    let stderr = err_thread.join().unwrap_or_default();
    let status = status?;
    let summary: Option<Vec<u64>> = out
        .lines()
        .find_map(|l| l.strip_prefix("summary\t"))
        .map(|l| l.split('\t').filter_map(|n| n.parse().ok()).collect());
    let records = summary
        .as_ref()
        .and_then(|n| n.first().copied())
        .unwrap_or(0);
    if killed {
        let stop = CaptureStop::Deadline {
            elapsed_ms: started.elapsed().as_millis() as u64,
        };
        return Ok((CountedEnd::Stopped(stop), records));
    }
    let last_words = || {
        stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_string()
    };
    let allocated = |checker_error| match summary.as_deref() {
        Some(&[records, spills, reloads, moves, stack_moves, slots, micros]) => Ok((
            CountedEnd::Allocated {
                edits: EditCounts {
                    spills: spills as usize,
                    reloads: reloads as usize,
                    moves: moves as usize,
                    stack_moves: stack_moves as usize,
                },
                slots: slots as usize,
                micros,
                checker_error,
            },
            records,
        )),
        _ => Err(format!(
            "the runner allocated the function but printed no summary (is it this build's runner?): {}",
            last_words()
        )),
    };
    match status.code() {
        Some(0) => allocated(None),
        Some(4) => allocated(Some(
            last_words().trim_start_matches("checker: ").to_string(),
        )),
        Some(5) => Ok((
            CountedEnd::Stopped(CaptureStop::RecordBudget {
                records: limits.max_records,
            }),
            limits.max_records,
        )),
        Some(3) => Ok((CountedEnd::Refused(last_words()), 0)),
        Some(101) => {
            // Rust's panic message: "thread 'main' panicked at FILE:LINE:" then the message.
            let message = stderr
                .lines()
                .skip_while(|l| !l.contains("panicked at"))
                .nth(1)
                .unwrap_or("")
                .to_string();
            Ok((CountedEnd::Panicked(message), 0))
        }
        Some(c) => Ok((
            CountedEnd::Failed(format!("the runner exited with code {c}: {}", last_words())),
            0,
        )),
        None => Ok((
            CountedEnd::Failed("the runner was killed by a signal".into()),
            0,
        )),
    }
}

fn unescape(m: &str) -> String {
    if !m.contains('\\') {
        return m.to_string();
    }
    let mut out = String::with_capacity(m.len());
    let mut chars = m.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}
