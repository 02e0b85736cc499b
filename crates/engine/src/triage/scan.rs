//! Scanning many functions for allocations that do not end, fail regalloc2's
//! checker, or panic: every defined function of every input, each compiled once
//! under a record budget and a wall-clock deadline, on worker threads.
//!
//! The pipeline per input is the one of [`crate::session`], arranged for volume:
//! - a Wasm module's environment is translated once
//!   ([`session::prepare_module`]) and shared by every function's compile,
//!   on every worker: each function is compiled alone inside Wasmtime's own
//!   compiler, as `trace` and the app compile it, so a verdict is about
//!   Wasmtime's code; compilers are built once per module and settings, and
//!   keep Cranelift's contexts between compiles, as Wasmtime's own do;
//! - each function is compiled with the checker on inside a capture that parses
//!   only the summary records ([`compile::compile_checked_within`]), writing no
//!   CLIF and disassembling nothing, but counts
//!   every record regalloc2 logs against the budget, so the budget and the
//!   checker come in one compile, close to the cost of an untraced one;
//! - a function that hits the budget or the deadline is compiled again, traced
//!   under the same limits, and the trace goes to [`diagnose::diagnose`];
//! - a watchdog gives up on a worker whose task outlives its deadline by far (a
//!   loop that logs nothing cannot be stopped from inside): the task is reported
//!   over budget and a fresh worker takes its place.
//!
//! - [`ScanOptions::unchecked`] compiles untraced, with neither checker nor
//!   budget: only the watchdog stops a compile that does not end;
//! - [`ScanOptions::gate`] makes the scan a release gate ([`gate`]): each
//!   function rebuilt once and allocated by two releases.
//!
//! Inputs are read twice: once, all of them, to list their functions (the
//! shard needs the whole list), then again batch by batch (about
//! [`BATCH_BYTES`] each) to translate and compile, so memory stays bounded by
//! a batch however big the corpus.
//!
//! With a test command ([`ScanOptions::test`]) the built-in compile is not
//! run: each function is rendered as a CLIF file the way `spillscope reduce`
//! writes its candidates ([`reduce::render_in`], with the input's `set`/`target`
//! lines or, for Wasm, [`reduce::header_for_isa`]; in the input's CLIF dialect
//! or [`TestCommand::dialect`]) and judged by the command, run by
//! [`CommandRunner`] as `reduce --test` runs it (own process group, killed at
//! [`ScanOptions::timeout`]). That sweeps a corpus with a user's own build,
//! such as one with regalloc2 0.11.3, whose loop this build no longer has.
//!
//! Shards split the global list of work units: every defined function of every
//! readable input, in (file, function index) order, and every input that cannot
//! be read or has no defined function as one unit of its own. Unit `pos` belongs
//! to shard `pos % count`, so `count` machines cover everything exactly once.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::capture::{self, CaptureLimits};
use crate::compile::{self, CheckerVerdict, CompileEnd, rebuild};
use crate::error::{EngineError, EngineResult};
use crate::input::clif::ClifDialect;
use crate::input::environ::WasmModule;
use crate::input::file::{self, FileKind};
use crate::input::release::Release;
use crate::input::{Body, Input, InputKind};
use crate::replay::diagnose::{self, Diagnosis, LoopDetector};
use crate::session::{self, Prepared, Settings};
use crate::triage::gate::{self, GateFunction, GatePair, GateSummary, TreeCandidate};
use crate::triage::reduce;
use crate::triage::runner::{CommandEnd, CommandRun, CommandRunner};

/// One of `count` machines' share of a scan; `index` is 0-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// The most shards a scan can be dealt into: far more machines than any
    /// cluster runs one scan on.
    pub const MAX_COUNT: usize = 1_000_000;

    /// Parses `I/N` with a 1-based `I`, as users write it (`2/4`).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("shard `{text}` must be I/N, such as 2/4"))?;
        let number = |part: &str| -> Result<usize, String> {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("shard `{text}`: `{part}` is not a whole number"));
            }
            match part.parse::<usize>() {
                Ok(v) if v <= Shard::MAX_COUNT => Ok(v),
                _ => Err(format!(
                    "shard `{text}`: `{part}` is more than the {} shards a scan can be dealt into",
                    Shard::MAX_COUNT
                )),
            }
        };
        let (i, n) = (number(i)?, number(n)?);
        if n == 0 {
            return Err(format!(
                "shard `{text}`: the number of shards must be at least 1"
            ));
        }
        if i == 0 || i > n {
            return Err(format!(
                "shard `{text}`: I counts from 1 and must be at most N ({n})"
            ));
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }

    /// The shard a job scheduler gave this process, for `--shard auto` or
    /// `--shard auto/N`: from a Kubernetes Indexed Job
    /// (`JOB_COMPLETION_INDEX`, 0-based; N from `auto/N` or
    /// `SPILLSCOPE_SHARD_COUNT`, as Kubernetes does not say it), a Slurm
    /// array (`SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN`, of
    /// `SLURM_ARRAY_TASK_COUNT`, step 1), GitLab's `parallel:`
    /// (`CI_NODE_INDEX`, 1-based, of `CI_NODE_TOTAL`), CircleCI
    /// (`CIRCLE_NODE_INDEX`/`_TOTAL`), Buildkite
    /// (`BUILDKITE_PARALLEL_JOB`/`_COUNT`), or a CI matrix that sets
    /// `SPILLSCOPE_SHARD_INDEX` (1-based) and `SPILLSCOPE_SHARD_COUNT`; the
    /// first found, in that order. `env` reads a variable. Also the source,
    /// in words.
    pub fn auto(
        spec: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Shard, String), String> {
        let given = match spec.strip_prefix("auto") {
            Some("") => None,
            Some(rest) => match rest.strip_prefix('/').map(str::trim) {
                Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => Some(
                    n.parse::<usize>()
                        .map_err(|_| format!("shard `{spec}`: N is too big"))?,
                ),
                _ => {
                    return Err(format!(
                        "shard `{spec}` must be auto or auto/N, such as auto/8"
                    ));
                }
            },
            None => return Err(format!("shard `{spec}` must be auto or auto/N")),
        };
        let number = |name: &str| -> Result<Option<usize>, String> {
            match env(name) {
                None => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .map(Some)
                    .map_err(|_| format!("{name}=`{v}` is not a whole number")),
            }
        };
        let make = |index0: usize, count: usize, from: String| -> Result<(Shard, String), String> {
            if let Some(n) = given
                && n != count
            {
                return Err(format!(
                    "--shard {spec}: {from} says {count} shards, not {n}"
                ));
            }
            let text = format!("{}/{count}", index0 + 1);
            Shard::parse(&text)
                .map(|s| (s, from.clone()))
                .map_err(|e| format!("--shard {spec} ({from}): {e}"))
        };
        let count_given =
            || -> Result<Option<usize>, String> { Ok(given.or(number("SPILLSCOPE_SHARD_COUNT")?)) };
        if let Some(i) = number("JOB_COMPLETION_INDEX")? {
            let Some(n) = count_given()? else {
                return Err(format!(
                    "--shard {spec}: a Kubernetes Indexed Job gives the index (JOB_COMPLETION_INDEX={i}) \
                     but not the number of shards: write --shard auto/N, N being the Job's completions"
                ));
            };
            return make(i, n, format!("Kubernetes JOB_COMPLETION_INDEX={i}"));
        }
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            if number("SLURM_ARRAY_TASK_STEP")?.is_some_and(|s| s != 1) {
                return Err(format!(
                    "--shard {spec}: the Slurm array has a step other than 1; give --shard I/N"
                ));
            }
            let n = number("SLURM_ARRAY_TASK_COUNT")?.or(given).ok_or_else(|| {
                format!("--shard {spec}: SLURM_ARRAY_TASK_COUNT is not set; write --shard auto/N")
            })?;
            let i = id.checked_sub(min).ok_or_else(|| {
                format!(
                    "--shard {spec}: SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
                )
            })?;
            return make(i, n, format!("Slurm array task {id} (from {min})"));
        }
        let pairs: [(&str, &str, usize); 4] = [
            ("CI_NODE_INDEX", "CI_NODE_TOTAL", 1),
            ("CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0),
            ("BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0),
            ("SPILLSCOPE_SHARD_INDEX", "SPILLSCOPE_SHARD_COUNT", 1),
        ];
        for (index_var, count_var, base) in pairs {
            let Some(i) = number(index_var)? else {
                continue;
            };
            let n = number(count_var)?.or(given).ok_or_else(|| {
                format!("--shard {spec}: {index_var} is set but {count_var} is not; write --shard auto/N")
            })?;
            let i = i
                .checked_sub(base)
                .ok_or_else(|| format!("--shard {spec}: {index_var}={i} counts from {base}"))?;
            return make(i, n, format!("{index_var}={}", i + base));
        }
        Err(format!(
            "--shard {spec}: no job scheduler's index is set (JOB_COMPLETION_INDEX, \
             SLURM_ARRAY_TASK_ID, CI_NODE_INDEX, CIRCLE_NODE_INDEX, BUILDKITE_PARALLEL_JOB \
             or SPILLSCOPE_SHARD_INDEX)"
        ))
    }

    /// Whether the unit at `pos` in the global list is this shard's.
    pub fn takes(self, pos: usize) -> bool {
        pos % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// An external command that judges each function instead of our compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCommand {
    /// Run with `sh -c`; `{}` stands for the function's CLIF file.
    pub command: String,
    /// The exit code that means "over budget" (a timeout always does); any
    /// other non-zero exit is a failure of its own kind.
    pub expect_exit: Option<i32>,
    /// The CLIF syntax of the files it gets; `None`: a CLIF input's own
    /// ([`ClifDialect::of`]), this build's for Wasm.
    pub dialect: Option<ClifDialect>,
}

/// How to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    pub settings: Settings,
    /// Records per function; `None` for [`session::default_limits`].
    pub budget: Option<u64>,
    /// Wall-clock limit of one compile, or of one run of the test command.
    pub timeout: Duration,
    /// Worker threads.
    pub jobs: usize,
    pub shard: Shard,
    /// Judge functions with this command instead of compiling them.
    pub test: Option<TestCommand>,
    /// Trace every function, not only those over budget: each report then
    /// has its allocator steps and the records the parser did not understand.
    pub traced: bool,
    /// A release gate: each function lowered once and allocated by both
    /// releases ([`gate`]) instead of compiled by `settings.release`.
    pub gate: Option<GatePair>,
    /// A gate's candidate is this source tree's runner, not the built-in
    /// `gate.candidate` (the release whose reproducer format it reads).
    pub candidate_tree: Option<Arc<TreeCandidate>>,
    /// Neither regalloc2's checker nor the record budget: each function
    /// compiled as Wasmtime compiles it, untraced; only the watchdog stops
    /// a compile that does not end (its worker is abandoned).
    pub unchecked: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            settings: Settings::default(),
            budget: None,
            timeout: Duration::from_secs(60),
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shard: Shard::default(),
            test: None,
            traced: false,
            gate: None,
            candidate_tree: None,
            unchecked: false,
        }
    }
}

/// How the compile of one function ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    /// The record budget or the deadline stopped the allocation.
    OverBudget,
    /// regalloc2's checker found a wrong allocation.
    CheckerFailed,
    /// Cranelift or regalloc2 panicked.
    Panicked,
    /// Cranelift returned an error (a user's CLIF that does not verify, say).
    CompileError,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::OverBudget => "over_budget",
            Status::CheckerFailed => "checker_failed",
            Status::Panicked => "panicked",
            Status::CompileError => "compile_error",
        }
    }
}

/// The scan of one function.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FunctionReport {
    pub index: u32,
    pub name: String,
    pub status: Status,
    /// What happened, in words.
    pub details: String,
    /// regalloc2 records logged by the budgeted compile.
    pub records: u64,
    /// The record budget it ran under.
    pub budget: u64,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spill_slots: Option<usize>,
    /// Allocator steps and records of the traced re-run (over budget only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traced_records: Option<u64>,
    /// Records the trace parser did not understand (traced scans only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unparsed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// What the test command did (with a test command only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<TestResult>,
    /// Both releases' allocations (a release gate only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateFunction>,
}

/// One run of the test command on a function.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TestResult {
    /// `null` when it timed out or a signal ended it.
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub elapsed_ms: u64,
    /// The first non-empty line of its error output.
    pub stderr_head: String,
}

impl TestResult {
    fn of(run: &CommandRun) -> TestResult {
        let head = run
            .stderr
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        // A line of a few hundred characters at most, cut at a character.
        let mut stderr_head: String = head.chars().take(300).collect();
        if stderr_head.len() < head.len() {
            stderr_head.push('…');
        }
        TestResult {
            exit_code: run.exit_code(),
            signal: run.signal(),
            timed_out: run.timed_out(),
            elapsed_ms: run.elapsed.as_millis() as u64,
            stderr_head,
        }
    }
}

/// The scan of one input.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FileReport {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<InputKind>,
    pub functions: Vec<FunctionReport>,
    /// Why the input could not be read, translated or split into functions.
    pub error: Option<String>,
}

/// Counts over a whole scan.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ScanSummary {
    pub functions: usize,
    pub modules: usize,
    pub ok: usize,
    pub over_budget: usize,
    pub checker_failed: usize,
    pub panicked: usize,
    pub compile_errors: usize,
    pub module_errors: usize,
    pub elapsed_ms: u64,
    /// Wall-clock time of each phase: reading and validating, Wasmtime's
    /// translation, our compiles.
    pub load_ms: u64,
    pub translate_ms: u64,
    pub compile_ms: u64,
    pub jobs: usize,
    pub shard: String,
    /// The test command that judged the functions, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// What shaped the results; shards must agree on it to be merged.
    /// (Absent in reports of older builds, which `--merge` refuses.)
    #[serde(default)]
    pub conditions: Option<ScanConditions>,
    /// Every input of the whole scan (not only this shard's), in scan order.
    #[serde(default)]
    pub inputs: Vec<InputDigest>,
}

/// The options that shape a scan's results, as a report records them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanConditions {
    pub target: String,
    pub opt: String,
    pub algorithm: String,
    /// The regalloc2 release that allocated (reports of older builds have
    /// none: Cranelift's); a gate's candidate.
    #[serde(default)]
    pub regalloc2: Option<String>,
    /// A gate's baseline release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// `None`: scaled to each function's size.
    pub budget: Option<u64>,
    pub timeout_ms: u64,
    pub traced: bool,
    /// Neither checker nor budget (absent: both were on).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unchecked: bool,
    pub test: Option<String>,
    pub expect_exit: Option<i32>,
    pub clif_dialect: Option<String>,
}

impl ScanConditions {
    pub fn of(options: &ScanOptions) -> ScanConditions {
        ScanConditions {
            target: options.settings.target.name().to_string(),
            opt: options.settings.opt.name().to_string(),
            algorithm: options.settings.algorithm.name().to_string(),
            regalloc2: Some(match &options.candidate_tree {
                Some(tree) => tree.label(),
                None => options
                    .gate
                    .map_or(options.settings.release, |g| g.candidate)
                    .to_string(),
            }),
            baseline: options.gate.map(|g| g.baseline.to_string()),
            budget: options.budget,
            timeout_ms: options.timeout.as_millis() as u64,
            traced: options.traced,
            unchecked: options.unchecked,
            test: options.test.as_ref().map(|t| t.command.clone()),
            expect_exit: options.test.as_ref().and_then(|t| t.expect_exit),
            clif_dialect: options
                .test
                .as_ref()
                .and_then(|t| t.dialect)
                .map(|d| d.name().to_string()),
        }
    }
}

/// One input of a scan: its content hash and how many functions it defines,
/// which fix how the work is dealt out to shards.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputDigest {
    pub path: String,
    /// SHA-256 of the file's bytes; `None` when it could not be read.
    pub sha256: Option<String>,
    /// Defined functions; 0 when it could not be listed.
    pub functions: usize,
}

/// SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where each unit of work goes: one per defined function, one for an input
/// with none (or that could not be listed), in scan order.
pub fn units_of(inputs: &[InputDigest]) -> impl Iterator<Item = (usize, usize)> + '_ {
    inputs
        .iter()
        .enumerate()
        .flat_map(|(file, d)| std::iter::repeat_n(file, d.functions.max(1)))
        .enumerate()
}

impl ScanSummary {
    /// Sets the module and function counts from `files`.
    pub fn count(&mut self, files: &[FileReport]) {
        self.modules = files.len();
        self.module_errors = files.iter().filter(|f| f.error.is_some()).count();
        let (mut functions, mut ok, mut over, mut checker, mut panicked, mut errors) =
            (0, 0, 0, 0, 0, 0);
        for func in files.iter().flat_map(|f| &f.functions) {
            functions += 1;
            match func.status {
                Status::Ok => ok += 1,
                Status::OverBudget => over += 1,
                Status::CheckerFailed => checker += 1,
                Status::Panicked => panicked += 1,
                Status::CompileError => errors += 1,
            }
        }
        self.functions = functions;
        self.ok = ok;
        self.over_budget = over;
        self.checker_failed = checker;
        self.panicked = panicked;
        self.compile_errors = errors;
    }

    /// Whether anything needs a look: the CLI's exit code 2.
    pub fn any_failure(&self) -> bool {
        self.ok != self.functions || self.module_errors > 0
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ScanReport {
    pub files: Vec<FileReport>,
    pub summary: ScanSummary,
    /// A release gate's findings over the corpus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateSummary>,
}

impl ScanReport {
    /// Counts the summary (and a gate's) again from the files.
    pub fn recount(&mut self) {
        self.summary.count(&self.files);
        if let Some(g) = &self.gate {
            let pair = GatePair {
                baseline: g.baseline,
                candidate: g.candidate,
            };
            let candidate_tree = g.candidate_tree.clone();
            self.gate = Some(GateSummary {
                candidate_tree,
                ..GateSummary::of(pair, &gated(&self.files))
            });
        }
    }
}

/// Every function of `files`, as a gate's summary counts them.
fn gated(files: &[FileReport]) -> Vec<gate::Gated<'_>> {
    files
        .iter()
        .flat_map(|f| {
            f.functions.iter().map(move |func| gate::Gated {
                file: &f.path,
                index: func.index,
                name: &func.name,
                gate: func.gate.as_ref(),
            })
        })
        .collect()
}

impl From<gate::Failure> for Status {
    fn from(f: gate::Failure) -> Status {
        match f {
            gate::Failure::OverBudget => Status::OverBudget,
            gate::Failure::Panicked => Status::Panicked,
            gate::Failure::CheckerFailed => Status::CheckerFailed,
            gate::Failure::CannotCompile => Status::CompileError,
        }
    }
}

fn is_scannable(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "wasm" | "wat" | "clif"))
}

/// The inputs named by `paths`: files as given, folders searched recursively
/// for `.wasm`, `.wat` and `.clif`; sorted, without repeats. A path that does
/// not exist or a folder that cannot be listed is an error (before any work).
pub fn collect_inputs(paths: &[PathBuf]) -> EngineResult<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> EngineResult<()> {
        let entries = std::fs::read_dir(dir).map_err(|source| EngineError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| EngineError::Read {
                path: dir.to_path_buf(),
                source,
            })?;
            let path = entry.path();
            // Follows links to folders; a link cycle ends at the OS's path limit.
            if path.is_dir() {
                walk(&path, out)?;
            } else if is_scannable(&path) {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| EngineError::Read {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// One function to compile.
struct FunctionTask {
    file: usize,
    index: u32,
    name: String,
    source: FunctionSource,
}

enum FunctionSource {
    /// A function of a Wasm module, compiled alone by Wasmtime's compiler
    /// in the module's environment, translated once for all its functions.
    Wasm(Arc<Input>, Arc<WasmModule>),
    /// The `index`th function of a CLIF file.
    Clif(Arc<Input>),
}

/// What the first pass keeps of an input: enough to deal out the shard.
struct Listing {
    sha256: String,
    kind: InputKind,
    size_bytes: usize,
    /// Defined functions: index and label.
    functions: Vec<(u32, String)>,
}

/// Inputs are translated and compiled in batches of about this many bytes,
/// so that a big corpus is never held in memory whole (Wasmtime's CLIF is
/// tens of times the size of the Wasm it comes from).
pub const BATCH_BYTES: usize = 4 << 20;

fn list_input(path: &Path) -> (Option<String>, EngineResult<Listing>) {
    let bytes = match file::read(path, FileKind::Module) {
        Ok(b) => b,
        Err(e) => return (None, Err(e)),
    };
    let sha256 = sha256_hex(&bytes);
    let listing = Input::from_bytes(path, bytes).map(|input| Listing {
        sha256: sha256.clone(),
        kind: input.kind(),
        size_bytes: match &input.body {
            Body::Wasm { bytes, .. } => bytes.len(),
            Body::Clif(text) => text.len(),
        },
        functions: input
            .functions
            .iter()
            .filter(|f| !f.imported)
            .map(|f| (f.index, f.label()))
            .collect(),
    });
    (Some(sha256), listing)
}

/// Loads an input again and readies the chosen functions for compiling: a
/// Wasm module's environment is translated here, once.
fn ready_input(
    path: &Path,
    sha256: &str,
    chosen: &[(u32, String)],
    settings: Settings,
) -> EngineResult<Vec<FunctionSource>> {
    let bytes = file::read(path, FileKind::Module)?;
    if sha256_hex(&bytes) != sha256 {
        return Err(EngineError::Io {
            path: path.to_path_buf(),
            message:
                "changed while it was being scanned (its content hash differs from the listing's)"
                    .into(),
        });
    }
    let input = Input::from_bytes(path, bytes)?;
    if input.kind() == InputKind::Clif {
        let input = Arc::new(input);
        return Ok(chosen
            .iter()
            .map(|_| FunctionSource::Clif(Arc::clone(&input)))
            .collect());
    }
    let module = session::prepare_module(&input, settings)?;
    let input = Arc::new(input);
    Ok(chosen
        .iter()
        .map(|_| FunctionSource::Wasm(Arc::clone(&input), Arc::clone(&module)))
        .collect())
}

/// Why a pool task on an input gave no result, naming the input.
fn failure_text<T>(path: &str, what: &str, end: PoolEnd<EngineResult<T>>) -> String {
    match end {
        PoolEnd::Done(Err(e)) => e.to_string(),
        PoolEnd::Done(Ok(_)) => format!("{path}: {what} gave no result"),
        PoolEnd::Panicked(m) => format!("{path}: {what} panicked: {m}"),
        PoolEnd::Stuck(d) => format!("{path}: {what} did not finish in {} s", d.as_secs()),
    }
}

/// Scans `paths` (already collected, in order) under `options`.
pub fn scan(paths: &[PathBuf], options: &ScanOptions) -> ScanReport {
    scan_streaming(paths, options, &mut |_| {})
}

/// A result of a scan as soon as it is known, for a report written as the
/// scan goes (`scan --jsonl`): nothing is lost when a long scan is cut short.
#[derive(Clone, Copy, Debug, serde::Serialize)]
#[serde(untagged)]
pub enum ScanEvent<'a> {
    /// One function's report.
    Function {
        file: &'a str,
        function: &'a FunctionReport,
    },
    /// An input that failed as a whole.
    ModuleError {
        file: &'a str,
        module_error: &'a str,
    },
}

/// [`scan`], telling `sink` each result as it is known (a function's report
/// when its batch is done, an input's error when it is found).
pub fn scan_streaming(
    paths: &[PathBuf],
    options: &ScanOptions,
    sink: &mut dyn FnMut(ScanEvent<'_>),
) -> ScanReport {
    let started = Instant::now();
    // The quiet panic hook, before anything can panic: Wasmtime panics are
    // caught and reported, not printed.
    // (A logger taken by someone else is reported by each capture.)
    let _ = capture::install();
    let jobs = options.jobs.max(1);
    let mut files: Vec<FileReport> = paths
        .iter()
        .map(|p| FileReport {
            path: p.display().to_string(),
            kind: None,
            functions: Vec::new(),
            error: None,
        })
        .collect();
    // First pass: read, validate and list every input (cheap next to
    // compiling); the shard needs every input's function count.
    let listed = run_pool(
        paths.to_vec(),
        jobs,
        WATCHDOG_GRACE,
        |_| Duration::from_secs(600),
        Arc::new(|p: PathBuf| list_input(&p)),
    );
    let mut inputs: Vec<InputDigest> = paths
        .iter()
        .map(|p| InputDigest {
            path: p.display().to_string(),
            sha256: None,
            functions: 0,
        })
        .collect();
    let mut pos = 0usize;
    let mut in_shard = vec![false; paths.len()];
    // This shard's functions of each input, in index order.
    let mut chosen: Vec<Vec<(u32, String)>> = vec![Vec::new(); paths.len()];
    let mut sizes = vec![0usize; paths.len()];
    for (file, result) in listed.into_iter().enumerate() {
        let path = &files[file].path;
        let listing = match result {
            PoolEnd::Done((_, Ok(l))) => Ok(l),
            PoolEnd::Done((sha256, Err(e))) => {
                inputs[file].sha256 = sha256;
                Err(e.to_string())
            }
            PoolEnd::Panicked(m) => Err(failure_text::<()>(path, "reading", PoolEnd::Panicked(m))),
            PoolEnd::Stuck(d) => Err(failure_text::<()>(path, "reading", PoolEnd::Stuck(d))),
        };
        let listing = match listing {
            Ok(l) => l,
            Err(error) => {
                files[file].error = Some(error);
                in_shard[file] = options.shard.takes(pos);
                pos += 1;
                tell_error(sink, &files[file], in_shard[file]);
                continue;
            }
        };
        files[file].kind = Some(listing.kind);
        sizes[file] = listing.size_bytes;
        inputs[file].sha256 = Some(listing.sha256);
        inputs[file].functions = listing.functions.len();
        if listing.functions.is_empty() {
            in_shard[file] = options.shard.takes(pos);
            pos += 1;
        }
        for f in listing.functions {
            if options.shard.takes(pos) {
                in_shard[file] = true;
                chosen[file].push(f);
            }
            pos += 1;
        }
    }
    let load_ms = started.elapsed().as_millis() as u64;
    let mut translate_ms = 0u64;

    // Then batch by batch: translate (Wasm) or parse (CLIF), compile, report.
    // A module without functions is still given to Wasmtime, which may refuse
    // what our permissive validation let through (a proposal it lacks).
    let work: Vec<usize> = (0..paths.len())
        .filter(|&f| {
            !chosen[f].is_empty()
                || (in_shard[f]
                    && files[f].error.is_none()
                    && matches!(files[f].kind, Some(InputKind::Wasm | InputKind::Wat)))
        })
        .collect();
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut batch_bytes = 0usize;
    for &file in &work {
        if batches.is_empty() || batch_bytes >= BATCH_BYTES {
            batches.push(Vec::new());
            batch_bytes = 0;
        }
        batches.last_mut().expect("pushed above").push(file);
        batch_bytes += sizes[file];
    }
    let settings = options.settings;
    let paths_shared: Arc<Vec<PathBuf>> = Arc::new(paths.to_vec());
    let chosen = Arc::new(chosen);
    // What the second reading of each input must find again.
    let hashes: Arc<Vec<String>> = Arc::new(
        inputs
            .iter()
            .map(|d| d.sha256.clone().unwrap_or_default())
            .collect(),
    );
    for batch in batches {
        let translate_started = Instant::now();
        let (p, c, h) = (
            Arc::clone(&paths_shared),
            Arc::clone(&chosen),
            Arc::clone(&hashes),
        );
        let readied = run_pool(
            batch.clone(),
            jobs,
            WATCHDOG_GRACE,
            // A whole module legitimately takes much longer than one function.
            |_| options.timeout * 10,
            Arc::new(move |file: usize| ready_input(&p[file], &h[file], &c[file], settings)),
        );
        translate_ms += translate_started.elapsed().as_millis() as u64;
        let mut tasks = Vec::new();
        for (&file, result) in batch.iter().zip(readied) {
            match result {
                PoolEnd::Done(Ok(sources)) => {
                    for ((index, name), source) in chosen[file].iter().cloned().zip(sources) {
                        tasks.push(FunctionTask {
                            file,
                            index,
                            name,
                            source,
                        });
                    }
                }
                failure => {
                    files[file].error =
                        Some(failure_text(&files[file].path, "translation", failure));
                    tell_error(sink, &files[file], true);
                }
            }
        }
        let keys: Vec<(usize, u32, String)> = tasks
            .iter()
            .map(|t| (t.file, t.index, t.name.clone()))
            .collect();
        let p = Arc::clone(&paths_shared);
        let opts = options.clone();
        let results = run_pool(
            tasks,
            jobs,
            WATCHDOG_GRACE,
            // The budgeted compile and, over budget, the traced re-run.
            |_| options.timeout * 2,
            Arc::new(move |task: FunctionTask| {
                let path = &p[task.file];
                scan_function(path, task, &opts)
            }),
        );
        for ((file, index, name), result) in keys.into_iter().zip(results) {
            let report = match result {
                PoolEnd::Done(r) => r,
                PoolEnd::Panicked(message) => bare_report(index, name, Status::Panicked, message),
                PoolEnd::Stuck(d) => bare_report(
                    index,
                    name,
                    Status::OverBudget,
                    format!(
                        "the compile did not stop within {} ms and logged nothing that could stop it; its worker was abandoned",
                        d.as_millis()
                    ),
                ),
            };
            sink(ScanEvent::Function {
                file: &files[file].path,
                function: &report,
            });
            files[file].functions.push(report);
        }
    }

    let files: Vec<FileReport> = files
        .into_iter()
        .zip(in_shard)
        .filter_map(|(f, keep)| keep.then_some(f))
        .collect();
    let mut summary = ScanSummary {
        jobs,
        shard: options.shard.to_string(),
        test: options.test.as_ref().map(|t| t.command.clone()),
        conditions: Some(ScanConditions::of(options)),
        inputs,
        ..ScanSummary::default()
    };
    summary.count(&files);
    summary.elapsed_ms = started.elapsed().as_millis() as u64;
    summary.load_ms = load_ms;
    summary.translate_ms = translate_ms;
    summary.compile_ms = summary.elapsed_ms.saturating_sub(load_ms + translate_ms);
    let gate = options.gate.map(|pair| GateSummary {
        candidate_tree: options.candidate_tree.as_ref().map(|t| t.label()),
        ..GateSummary::of(pair, &gated(&files))
    });
    ScanReport {
        files,
        summary,
        gate,
    }
}

/// Tells `sink` of `file`'s error when the file is this shard's.
fn tell_error(sink: &mut dyn FnMut(ScanEvent<'_>), file: &FileReport, in_shard: bool) {
    if let (true, Some(error)) = (in_shard, &file.error) {
        sink(ScanEvent::ModuleError {
            file: &file.path,
            module_error: error,
        });
    }
}

/// A report with only a status and details; the rest filled in by the caller.
fn bare_report(index: u32, name: String, status: Status, details: String) -> FunctionReport {
    FunctionReport {
        index,
        name,
        status,
        details,
        records: 0,
        budget: 0,
        elapsed_ms: 0,
        code_bytes: None,
        spill_slots: None,
        steps: None,
        traced_records: None,
        unparsed: None,
        diagnosis: None,
        test: None,
        gate: None,
    }
}

/// The function Cranelift gives regalloc2, rebuilt (see [`rebuild`]), and its
/// capture limits; or the report of why it could not be.
fn rebuild_task(
    path: &Path,
    task: FunctionTask,
    options: &ScanOptions,
) -> Result<(rebuild::RebuiltFunction, CaptureLimits), Box<FunctionReport>> {
    let (index, name) = (task.index, task.name.clone());
    let settings = options.settings;
    let rebuilt = capture::quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let prepared = prepare_task(task, settings)?;
            let job =
                prepared.job_without_clif(path, crate::input::isa::Algorithm::SinglePass, false)?;
            let func =
                rebuild::rebuild_with(&*job, &prepared.flags.triple, false).map_err(|message| {
                    EngineError::Compile {
                        path: path.to_path_buf(),
                        function: prepared.label.clone(),
                        message,
                    }
                })?;
            let mut limits = prepared.default_limits();
            if let Some(b) = options.budget {
                limits.max_records = b;
            }
            Ok::<_, EngineError>((func, limits))
        }))
    });
    match rebuilt {
        Ok(Ok(x)) => Ok(x),
        Ok(Err(EngineError::Panicked { message, .. })) => Err(Box::new(bare_report(
            index,
            name,
            Status::Panicked,
            message,
        ))),
        Ok(Err(e)) => Err(Box::new(bare_report(
            index,
            name,
            Status::CompileError,
            e.to_string(),
        ))),
        Err(p) => Err(Box::new(bare_report(
            index,
            name,
            Status::Panicked,
            capture::panic_message(&p),
        ))),
    }
}

/// Scans one function with another regalloc2 release than Cranelift's: the
/// function Cranelift gives regalloc2 is rebuilt, then allocated by the
/// release with its checker, counting records against the budget (none is
/// formatted); one that does not finish is allocated again, traced with the
/// loop detector, for the diagnosis.
fn release_function(path: &Path, task: FunctionTask, options: &ScanOptions) -> FunctionReport {
    let started = Instant::now();
    let (index, name) = (task.index, task.name.clone());
    let (func, limits) = match rebuild_task(path, task, options) {
        Ok(x) => x,
        Err(report) => return *report,
    };
    let by = options.settings.allocator();
    let run = gate::allocate_side(&func, by, limits, options.timeout);
    let side = run.side;
    let r = by.release;
    let details = match (&side.outcome, side.edits, side.slots) {
        (gate::SideOutcome::Ok, Some(e), Some(slots)) => format!(
            "regalloc2 {r}: {} spills, {} reloads, {} moves, {slots} spill slots",
            e.spills, e.reloads, e.moves
        ),
        (outcome, ..) => format!("regalloc2 {r} {}", outcome.text()),
    };
    let status = side.outcome.failure().map_or(Status::Ok, Status::from);
    let mut report = bare_report(index, name, status, details);
    report.budget = limits.max_records;
    report.spill_slots = side.slots;
    if let Some((diagnosis, steps, records)) = run.traced {
        report.steps = Some(steps);
        report.traced_records = Some(records);
        report.diagnosis = Some(diagnosis);
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// Gates one function: lowered once, allocated by both releases.
fn gate_task(
    path: &Path,
    task: FunctionTask,
    options: &ScanOptions,
    pair: GatePair,
) -> FunctionReport {
    let started = Instant::now();
    let (index, name) = (task.index, task.name.clone());
    let (func, limits) = match rebuild_task(path, task, options) {
        Ok(x) => x,
        Err(report) => return *report,
    };
    let g = gate::gate_function(
        &func,
        options.settings.algorithm,
        pair,
        options.candidate_tree.as_deref(),
        limits,
        options.timeout,
    );
    let status = g
        .regression()
        .and_then(gate::SideOutcome::failure)
        .map_or(Status::Ok, Status::from);
    let mut report = bare_report(index, name, status, gate::details(&g));
    report.budget = limits.max_records;
    report.spill_slots = g.candidate.slots;
    report.gate = Some(g);
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

fn prepare_task(task: FunctionTask, settings: Settings) -> EngineResult<Prepared> {
    match task.source {
        FunctionSource::Wasm(input, module) => {
            session::prepare_in_module(&input, &module, task.index)
        }
        FunctionSource::Clif(input) => session::prepare(&input, task.index, settings),
    }
}

/// Compiles one function under the budget and classifies the result, or
/// hands it to the test command when there is one.
fn scan_function(path: &Path, task: FunctionTask, options: &ScanOptions) -> FunctionReport {
    if let Some(test) = &options.test {
        return test_function(path, task, options, test);
    }
    if let Some(pair) = options.gate {
        return gate_task(path, task, options, pair);
    }
    if options.settings.release != Release::CRANELIFT {
        return release_function(path, task, options);
    }
    let started = Instant::now();
    let (index, name) = (task.index, task.name.clone());
    let settings = options.settings;
    let outcome = capture::quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let prepared = prepare_task(task, settings)?;
            let checker = !options.unchecked;
            let job = prepared.job_without_clif(path, settings.algorithm, checker)?;
            let mut limits = prepared.default_limits();
            if let Some(b) = options.budget {
                limits.max_records = b;
            }
            limits.deadline = Some(Instant::now() + options.timeout);
            let checked = if options.traced {
                let traced = compile::compile_traced(&*job, limits, LoopDetector::default());
                let seen = (traced.trace.steps.len(), traced.trace.unparsed);
                let slots = traced.trace.spill_slots.len();
                (
                    traced.end,
                    traced.checker,
                    slots,
                    traced.records,
                    Some(seen),
                )
            } else if options.unchecked {
                let end = compile::compile_untraced_listing(&*job, false);
                (end, CheckerVerdict::NotRun, 0, 0, None)
            } else {
                let (end, verdict, slots, records) =
                    compile::compile_checked_within(&*job, limits, false);
                (end, verdict, slots, records, None)
            };
            drop(job);
            Ok::<_, EngineError>((prepared, limits, checked))
        }))
    });
    let (prepared, limits, (end, verdict, spill_slots, records, seen)) = match outcome {
        Ok(Ok(x)) => x,
        Ok(Err(EngineError::Panicked { message, .. })) => {
            return bare_report(index, name, Status::Panicked, message);
        }
        Ok(Err(e)) => return bare_report(index, name, Status::CompileError, e.to_string()),
        Err(p) => return bare_report(index, name, Status::Panicked, capture::panic_message(&p)),
    };
    let budget = limits.max_records;
    let mut report = bare_report(index, name, Status::Ok, String::new());
    report.budget = budget;
    report.records = records;
    if let Some((steps, unparsed)) = seen {
        report.steps = Some(steps);
        report.unparsed = Some(unparsed);
    }
    match (end, verdict) {
        (_, CheckerVerdict::Failed(e)) => {
            report.status = Status::CheckerFailed;
            report.details = e;
        }
        (CompileEnd::Done(code), _) if options.unchecked => {
            report.details = format!("{} bytes (unchecked)", code.code.len());
            report.code_bytes = Some(code.code.len());
        }
        (CompileEnd::Done(code), _) => {
            report.details = format!("{} bytes, {} spill slots", code.code.len(), spill_slots);
            report.code_bytes = Some(code.code.len());
            report.spill_slots = Some(spill_slots);
        }
        (CompileEnd::Error(e), _) => {
            report.status = Status::CompileError;
            report.details = e;
        }
        (CompileEnd::Panicked(p), _) => {
            report.status = Status::Panicked;
            report.details = p;
        }
        // A scan's compiles emit code or fail; these come from elsewhere.
        (end @ (CompileEnd::AllocatedOnly | CompileEnd::NotCompiled), _) => {
            report.status = Status::CompileError;
            report.details = end.to_string();
        }
        (CompileEnd::Stopped(stop), _) => {
            report.status = Status::OverBudget;
            report.details = stop.to_string();
            // The same limits, a fresh deadline: the trace shows what looped.
            let limits = CaptureLimits {
                deadline: Some(Instant::now() + options.timeout),
                ..limits
            };
            let traced = capture::quietly(|| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let traced = prepared
                        .job_without_clif(path, settings.algorithm, true)
                        .map(|job| compile::compile_traced(&*job, limits, LoopDetector::default()))
                        .map_err(|e| e.to_string())?;
                    let diagnosis = diagnose::diagnose(&traced.trace);
                    Ok::<_, String>((traced.trace.steps.len(), traced.records, diagnosis))
                }))
            });
            match traced {
                Ok(Err(e)) => {
                    report.details = format!("{}; the traced re-run failed: {e}", report.details);
                }
                Ok(Ok((steps, records, diagnosis))) => {
                    if diagnosis.looping {
                        report.details = format!("{}; {}", report.details, diagnosis.description);
                    }
                    report.steps = Some(steps);
                    report.traced_records = Some(records);
                    report.diagnosis = Some(diagnosis);
                }
                Err(p) => {
                    report.details = format!(
                        "{}; the traced re-run panicked: {}",
                        report.details,
                        capture::panic_message(&p)
                    );
                }
            }
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// Writes one function as a CLIF file, as `spillscope reduce` writes its
/// candidates, and classifies what the test command does with it.
fn test_function(
    path: &Path,
    task: FunctionTask,
    options: &ScanOptions,
    test: &TestCommand,
) -> FunctionReport {
    let started = Instant::now();
    let (index, name) = (task.index, task.name.clone());
    let settings = options.settings;
    let rendered = capture::quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // A CLIF input keeps its own `set` and `target` lines and its
            // dialect; Wasmtime's CLIF gets lines for the flags Wasmtime
            // compiled it with, in this build's dialect.
            let (clif_header, dialect) = match &task.source {
                FunctionSource::Clif(input) => {
                    let text = input.clif_text().unwrap_or("");
                    (Some(reduce::header_of(text)), ClifDialect::of(text))
                }
                FunctionSource::Wasm(..) => (None, ClifDialect::Current),
            };
            let dialect = test.dialect.unwrap_or(dialect);
            let prepared = prepare_task(task, settings)?;
            let header = match clif_header {
                Some(h) => h,
                // Wasmtime's CLIF is already optimized: compiled at opt
                // level `none`, as its CLIF files are recompiled here.
                None => reduce::header_for_isa(
                    &*prepared
                        .flags
                        .build_isa(&[
                            ("regalloc_algorithm", settings.algorithm.name()),
                            ("regalloc_checker", "false"),
                            ("opt_level", "none"),
                        ])
                        .map_err(|m| EngineError::Compile {
                            path: path.to_path_buf(),
                            function: prepared.label.clone(),
                            message: m,
                        })?,
                ),
            };
            let function = session::clif_function(path, &prepared)?;
            Ok::<_, EngineError>(reduce::render_in(&header, &function, dialect))
        }))
    });
    let text = match rendered {
        Ok(Ok(text)) => text,
        Ok(Err(EngineError::Panicked { message, .. })) => {
            return bare_report(index, name, Status::Panicked, message);
        }
        Ok(Err(e)) => return bare_report(index, name, Status::CompileError, e.to_string()),
        Err(p) => return bare_report(index, name, Status::Panicked, capture::panic_message(&p)),
    };
    let run = CommandRunner::new(&test.command, options.timeout).and_then(|mut r| r.run(&text));
    let run = match run {
        Ok(run) => run,
        Err(e) => return bare_report(index, name, Status::CompileError, e.to_string()),
    };
    let result = TestResult::of(&run);
    let (status, what) = test_status(&run, test.expect_exit, options.timeout);
    let mut details = if run.timed_out() {
        what
    } else {
        format!("{what} after {} ms", result.elapsed_ms)
    };
    if !result.stderr_head.is_empty() {
        details = format!("{details}: {}", result.stderr_head);
    }
    let mut report = bare_report(index, name, status, details);
    report.test = Some(result);
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// The status a test command's run gives a function, and the run in words.
/// A timeout or the expected exit code is a hang (over budget); exit 0 is ok;
/// anything else is told apart so that, say, a tool that cannot parse the
/// file (exit 1) is not taken for a hang.
fn test_status(run: &CommandRun, expect_exit: Option<i32>, timeout: Duration) -> (Status, String) {
    match &run.end {
        CommandEnd::Timeout => (
            Status::OverBudget,
            format!(
                "test command timed out after {:.1} s and was killed",
                timeout.as_secs_f64()
            ),
        ),
        CommandEnd::Exit(0) => (Status::Ok, "test command exited 0".into()),
        CommandEnd::Exit(code) if Some(*code) == expect_exit => (
            Status::OverBudget,
            format!("test command exited {code} (the expected code)"),
        ),
        // Rust's exit code for a panic, as Cranelift's or regalloc2's.
        CommandEnd::Exit(101) => (
            Status::Panicked,
            "test command exited 101 (a Rust panic)".into(),
        ),
        CommandEnd::Exit(code) => (Status::CompileError, format!("test command exited {code}")),
        CommandEnd::Signal(signal) => (
            Status::Panicked,
            format!("test command killed by signal {signal}"),
        ),
        CommandEnd::SpawnError {
            exit_code: Some(code),
            ..
        } => (
            Status::CompileError,
            format!("the shell could not run the test command (exit {code})"),
        ),
        CommandEnd::SpawnError {
            exit_code: None,
            message,
        } => (Status::CompileError, format!("test command: {message}")),
    }
}

/// How one pool task ended.
enum PoolEnd<R> {
    Done(R),
    Panicked(String),
    /// The task ran this long past its start without returning; its worker was
    /// abandoned.
    Stuck(Duration),
}

enum Message<R> {
    /// Task `.0` started at `.1` on worker `.2`.
    Started(usize, Instant, usize),
    Done(usize, Result<R, String>),
    /// Worker `.0` found the queue empty and ended.
    Exit(usize),
}

/// How long past a task's own limit the watchdog waits before giving up on it:
/// the capture's deadline is checked only every few thousand records.
pub const WATCHDOG_GRACE: Duration = Duration::from_secs(10);

/// Starts one thread; the pool's are named `spillscope-scan`.
type Spawner = dyn Fn(Box<dyn FnOnce() + Send>) -> std::io::Result<()>;

fn os_thread(body: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("spillscope-scan".into())
        .spawn(body)
        .map(drop)
}

/// Runs `work` over `tasks` on `jobs` threads; results in task order. Threads
/// are detached rather than scoped so that a task that never returns (a loop
/// that logs nothing) cannot hold up the scan: past `limit(task)` and a grace
/// period the watchdog reports it [`PoolEnd::Stuck`] and starts a new worker.
fn run_pool<T, R>(
    tasks: Vec<T>,
    jobs: usize,
    grace: Duration,
    limit: impl Fn(&T) -> Duration,
    work: Arc<dyn Fn(T) -> R + Send + Sync>,
) -> Vec<PoolEnd<R>>
where
    T: Send + 'static,
    R: Send + 'static,
{
    run_pool_on(tasks, jobs, grace, limit, work, &os_thread)
}

/// [`run_pool`] with threads started by `spawner`. When no worker can be
/// started, or none is left while tasks wait, the waiting tasks fail with
/// the reason at once: the pool never waits on nobody.
fn run_pool_on<T, R>(
    tasks: Vec<T>,
    jobs: usize,
    grace: Duration,
    limit: impl Fn(&T) -> Duration,
    work: Arc<dyn Fn(T) -> R + Send + Sync>,
    spawner: &Spawner,
) -> Vec<PoolEnd<R>>
where
    T: Send + 'static,
    R: Send + 'static,
{
    let n = tasks.len();
    let limits: Vec<Duration> = tasks.iter().map(&limit).collect();
    let queue = Arc::new(Mutex::new(
        tasks
            .into_iter()
            .enumerate()
            .collect::<std::collections::VecDeque<_>>(),
    ));
    let (tx, rx) = mpsc::channel::<Message<R>>();
    let mut next_worker = 0usize;
    let mut spawn = |tx: mpsc::Sender<Message<R>>| -> std::io::Result<usize> {
        let queue = Arc::clone(&queue);
        let work = Arc::clone(&work);
        let me = next_worker;
        spawner(Box::new(move || {
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some((i, task)) = next else { break };
                if tx.send(Message::Started(i, Instant::now(), me)).is_err() {
                    return;
                }
                let result = capture::quietly(|| {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(task)))
                })
                .map_err(|p| capture::panic_message(&p));
                if tx.send(Message::Done(i, result)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Message::Exit(me));
        }))?;
        next_worker += 1;
        Ok(me)
    };
    let mut results: Vec<Option<PoolEnd<R>>> = (0..n).map(|_| None).collect();
    let mut remaining = n;
    // Workers that may still take tasks (not ended, not abandoned).
    let mut live: HashSet<usize> = HashSet::new();
    let mut spawn_error: Option<String> = None;
    for _ in 0..jobs.min(n) {
        match spawn(tx.clone()) {
            Ok(w) => {
                live.insert(w);
            }
            Err(e) => spawn_error = Some(format!("cannot start a worker thread: {e}")),
        }
    }
    // Task → when it started and on which worker.
    let mut in_flight: HashMap<usize, (Instant, usize)> = HashMap::new();
    while remaining > 0 {
        if live.is_empty() {
            // Nobody will take the tasks still waiting: fail them now.
            let why = spawn_error
                .clone()
                .unwrap_or_else(|| "no worker thread is left to run it".into());
            for r in results.iter_mut().filter(|r| r.is_none()) {
                *r = Some(PoolEnd::Panicked(why.clone()));
            }
            break;
        }
        let now = Instant::now();
        let wait = in_flight
            .iter()
            .map(|(&i, &(at, _))| (at + limits[i] + grace).saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_secs(1));
        match rx.recv_timeout(wait) {
            Ok(Message::Started(i, at, w)) => {
                in_flight.insert(i, (at, w));
            }
            Ok(Message::Done(i, result)) => {
                in_flight.remove(&i);
                if results[i].is_none() {
                    results[i] = Some(match result {
                        Ok(r) => PoolEnd::Done(r),
                        Err(m) => PoolEnd::Panicked(m),
                    });
                    remaining -= 1;
                }
            }
            Ok(Message::Exit(w)) => {
                live.remove(&w);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                let stuck: Vec<usize> = in_flight
                    .iter()
                    .filter(|&(&i, &(at, _))| now >= at + limits[i] + grace)
                    .map(|(&i, _)| i)
                    .collect();
                for i in stuck {
                    let (at, w) = in_flight.remove(&i).expect("listed above");
                    results[i] = Some(PoolEnd::Stuck(now - at));
                    remaining -= 1;
                    // The stuck thread keeps its core; the rest of the queue
                    // gets a new worker.
                    live.remove(&w);
                    match spawn(tx.clone()) {
                        Ok(w) => {
                            live.insert(w);
                        }
                        Err(e) => {
                            spawn_error = Some(format!("cannot start a worker thread: {e}"));
                        }
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| PoolEnd::Panicked("its worker thread was lost".into())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 1, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "2", "a/4", "2/b", "-1/4", "+1/4"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        // Too many shards is said as such, not as "not a whole number".
        for huge in ["1/18446744073709551616", "1/1000001"] {
            let e = Shard::parse(huge).unwrap_err();
            assert!(e.contains("more than the 1000000 shards"), "{e}");
        }
        let shards: Vec<Shard> = (1..=3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for pos in 0..30 {
            assert_eq!(shards.iter().filter(|s| s.takes(pos)).count(), 1);
        }
    }

    #[test]
    fn a_task_that_never_returns_is_abandoned_and_the_rest_finish() {
        let results = run_pool(
            vec![0u64, 1, 2, 3],
            2,
            Duration::from_millis(200),
            // Only the sleeper runs out of time (printing a panic can be slow).
            |&t| {
                if t == 1 {
                    Duration::ZERO
                } else {
                    Duration::from_secs(60)
                }
            },
            Arc::new(|t: u64| {
                if t == 1 {
                    std::thread::sleep(Duration::from_secs(3600));
                }
                if t == 2 {
                    panic!("task two");
                }
                t * 10
            }),
        );
        assert!(matches!(results[0], PoolEnd::Done(0)));
        assert!(matches!(results[1], PoolEnd::Stuck(_)));
        assert!(
            matches!(&results[2], PoolEnd::Panicked(m) if m == "task two"),
            "{}",
            match &results[2] {
                PoolEnd::Done(_) => "done".to_string(),
                PoolEnd::Panicked(m) => m.clone(),
                PoolEnd::Stuck(d) => format!("stuck {d:?}"),
            }
        );
        assert!(matches!(results[3], PoolEnd::Done(30)));
    }

    fn no_threads(_: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
        Err(std::io::Error::other("the system is out of threads"))
    }

    #[test]
    fn workers_that_cannot_start_fail_every_task_at_once() {
        for jobs in [1, 4] {
            let started = Instant::now();
            let results = run_pool_on(
                vec![1u64, 2, 3],
                jobs,
                Duration::from_secs(3600),
                |_| Duration::from_secs(3600),
                Arc::new(|t: u64| t),
                &no_threads,
            );
            assert_eq!(results.len(), 3);
            for r in &results {
                assert!(
                    matches!(r, PoolEnd::Panicked(m) if m.contains("out of threads")),
                    "{jobs} jobs"
                );
            }
            // Told, not waited for: far inside the hour-long limits.
            assert!(started.elapsed() < Duration::from_secs(60));
        }
    }

    #[test]
    fn a_stuck_worker_that_cannot_be_replaced_fails_the_waiting_tasks() {
        // One real worker, which sticks on the first task; its replacement
        // cannot start, so the two tasks behind it fail with the reason.
        let first = std::sync::atomic::AtomicBool::new(true);
        let spawner = move |body: Box<dyn FnOnce() + Send>| {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                os_thread(body)
            } else {
                no_threads(body)
            }
        };
        let results = run_pool_on(
            vec![0u64, 1, 2],
            1,
            Duration::from_millis(100),
            |_| Duration::ZERO,
            Arc::new(|t: u64| {
                if t == 0 {
                    std::thread::sleep(Duration::from_secs(3600));
                }
                t
            }),
            &spawner,
        );
        assert!(matches!(results[0], PoolEnd::Stuck(_)));
        for r in &results[1..] {
            assert!(matches!(r, PoolEnd::Panicked(m) if m.contains("out of threads")));
        }
    }
}
