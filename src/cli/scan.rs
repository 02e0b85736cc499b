//! `spillscope scan FILE|DIR...`: compile every function under a record budget
//! and a deadline; report the ones whose allocation does not end, fails
//! regalloc2's checker, or panics; or, with `--test`, whose allocation a
//! user's own build (a test command) does not finish.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::engine::input::clif::ClifDialect;
use crate::engine::input::isa::{Algorithm, OptLevel, Target};
use crate::engine::session::Settings;
use crate::engine::triage::merge;
use crate::engine::triage::runner::CommandRunner;
use crate::engine::triage::scan::{
    self, FunctionReport, ScanOptions, ScanReport, Shard, Status, TestCommand,
};

#[derive(Args, Debug)]
#[command(after_help = "\
Every defined function of every input is compiled with regalloc2's checker on,
under a record budget and a deadline. Folders are searched recursively for .wasm,
.wat and .clif files, in sorted order. A function that trips the budget is
compiled again, traced, and diagnosed for a loop. Each function is compiled
alone inside Wasmtime's own compiler, in its module's environment, translated
once per module and shared by every worker (it gets 10x --timeout). A compile
that ignores its deadline (a loop that logs nothing) is abandoned after
2x --timeout + 10 s and reported over budget. --unchecked compiles without the
checker and the record budget (the fastest scan; the watchdog still abandons a
compile that does not end).

Status per function: ok, over_budget, checker_failed, panicked, compile_error
(Cranelift refused the function, such as CLIF that does not verify, or a body
Wasmtime's translator finds invalid). An input that cannot be read or whose
environment Wasmtime refuses is a module error; the scan goes on.

With --test 'CMD {}', the functions are not compiled here: each one is written
as a CLIF file (its input's `set`/`target` lines, or for Wasm lines for
Wasmtime's flags, then the function, as `spillscope reduce` writes candidates,
in the input's CLIF dialect: 0.118's for a file from Wasmtime 31 / Cranelift
0.118, the current one for Wasm; --clif-dialect 0.118|current names another)
and `sh -c CMD` runs with `{}` replaced by that file's path, in its own process
group, killed after --timeout seconds. A timeout, or exit code --expect-exit
(when given), makes the function over_budget; exit 0, ok; exit 101 or a signal,
panicked (a Rust panic in the user's build); any other exit, compile_error
(\"test command exited 1: ...\", e.g. a tool that cannot parse the file), so
those are not taken for hangs. JSON gives each function's
test: {exit_code, timed_out, elapsed_ms, stderr_head}. This sweeps a corpus with
the user's own bad build, such as one with regalloc2 0.11.3, whose split loop
this build's regalloc2 no longer has.

Sharding: --shard I/N takes every N-th function of the global sorted
(file, function index) list, starting with the I-th, so N machines running
1/N .. N/N together scan everything exactly once. `scan --merge A.json B.json ...`
combines their `--json` reports into the report one machine would have made
(every shard 1/N .. N/N exactly once; timings add up). On Slurm, a job array
runs the shards: `#SBATCH --array=1-8` and
`spillscope scan corpus/ --shard $SLURM_ARRAY_TASK_ID/8 --json > shard-$SLURM_ARRAY_TASK_ID.json`;
over ssh, GNU parallel does: `parallel -S host1,host2 --workdir . --return
shard-{}.json 'spillscope scan corpus/ --shard {}/8 --json > shard-{}.json' ::: $(seq 8)`.
--shard auto reads the index a scheduler sets: a Kubernetes Indexed Job
(JOB_COMPLETION_INDEX; write auto/N, N the Job's completions), a Slurm array
(SLURM_ARRAY_TASK_ID, _MIN, _COUNT), GitLab (CI_NODE_INDEX/CI_NODE_TOTAL),
CircleCI, Buildkite, or SPILLSCOPE_SHARD_INDEX/SPILLSCOPE_SHARD_COUNT set by a
CI matrix.

Exit status:
  0  every function ok, no module error
  2  some function over budget, checker failed, panicked or failed to compile,
     or some input failed as a whole
  1  a usage or I/O error before scanning (a missing path, a bad --shard,
     a --test without `{}`)
     (clap's own argument errors exit 2, as for every subcommand)

Examples:
  spillscope scan sample-modules
  spillscope scan corpus/ --budget 5000000 --timeout 30 --jobs 8 --json > scan.json
  spillscope scan corpus/ --shard 2/4          # the second of four machines
  spillscope scan --merge shard-*.json --json  # the four machines' reports as one
  spillscope scan big.wasm --all --target aarch64
  spillscope scan corpus/ --test 'tools/ra0113/target/release/ra0113 check {} --budget 400000' \\
      --expect-exit 3 --timeout 20 --json > swept.json   # with regalloc2 0.11.3")]
pub struct ScanArgs {
    /// Inputs: .wasm, .wat or .clif files, or folders to search (with
    /// --merge: the shards' JSON reports)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Combine the `--json` reports of shards 1/N .. N/N into one report
    #[arg(long, conflicts_with_all = ["test", "shard", "traced", "budget"])]
    pub merge: bool,
    /// regalloc2 records allowed per function (default: scaled to its CLIF size,
    /// at least 2,000,000)
    #[arg(long, conflicts_with = "test", value_parser = super::parse_budget)]
    pub budget: Option<u64>,
    /// Wall-clock limit of one function's compile (or test command run), in seconds
    #[arg(long, default_value = "60")]
    pub timeout: super::Seconds,
    /// Judge each function with this shell command instead of compiling it;
    /// `{}` is replaced by the path of the function's CLIF file
    #[arg(long)]
    pub test: Option<String>,
    /// With --test: CLIF syntax of the files it gets, 0.118 or current
    /// (default: a CLIF input's own, current for Wasm)
    #[arg(long, requires = "test", value_name = "0.118|current")]
    pub clif_dialect: Option<ClifDialect>,
    /// With --test: the exit code that means over budget (a timeout always does)
    #[arg(long, requires = "test", allow_hyphen_values = true, value_parser = super::parse_exit_code)]
    pub expect_exit: Option<i32>,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// regalloc2 release that allocates every function: 0.9.3 … 0.15.2
    /// (Cranelift's, the default), oldest or newest; another than Cranelift's
    /// allocates the function Cranelift gave regalloc2 again, in-process
    #[arg(long = "regalloc2", value_name = "VERSION", default_value = "0.15.2", value_parser = super::parse_release, conflicts_with = "test")]
    pub regalloc2: crate::engine::releases::Release,
    /// Trace every function (not only those over budget): report its steps and
    /// any regalloc2 record the parser did not understand
    #[arg(long, conflicts_with = "test")]
    pub traced: bool,
    /// Neither regalloc2's checker nor a record budget: each function compiled
    /// untraced, as Wasmtime compiles it; only the deadline's watchdog stops a
    /// compile that does not end (the fastest scan, for crashes and hangs)
    #[arg(long, conflicts_with_all = ["test", "traced", "budget"])]
    pub unchecked: bool,
    /// List ok functions too (text output)
    #[arg(long, visible_alias = "verbose")]
    pub all: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Print JSON Lines as the scan goes: one line per function (or module
    /// error) as soon as it is known, then one line with the summary, so a
    /// long scan cut short loses nothing
    #[arg(long, conflicts_with_all = ["json", "merge"])]
    pub jsonl: bool,
}

/// What `scan` and `gate` share: threads, shard, and how functions compile.
#[derive(Args, Debug)]
pub struct CorpusArgs {
    /// Worker threads (default: the available parallelism)
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Only this shard of the work: I/N, I from 1 to N; or auto (auto/N),
    /// the index a Kubernetes Indexed Job, a Slurm array or a CI matrix gives
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// Target: host, x86_64, aarch64, riscv64, s390x
    #[arg(long, default_value = "host")]
    pub target: Target,
    /// Cranelift opt level: none, speed, speed_and_size
    #[arg(long, default_value = "speed")]
    pub opt: OptLevel,
    /// Register allocator: backtracking or single_pass
    #[arg(long, default_value = "backtracking", value_parser = super::parse_algorithm)]
    pub algorithm: Algorithm,
}

impl CorpusArgs {
    /// Options with these threads, shard and settings; `release` allocates.
    pub fn options(
        &self,
        release: crate::engine::releases::Release,
    ) -> anyhow::Result<ScanOptions> {
        if self.jobs == Some(0) {
            anyhow::bail!("--jobs must be at least 1");
        }
        let defaults = ScanOptions::default();
        Ok(ScanOptions {
            settings: Settings {
                target: self.target,
                opt: self.opt,
                algorithm: self.algorithm,
                release,
            },
            jobs: self.jobs.unwrap_or(defaults.jobs),
            shard: shard_arg(self.shard.as_deref())?,
            ..defaults
        })
    }
}

/// `--shard I/N`, `auto` or `auto/N` (the scheduler's index, said on stderr).
pub fn shard_arg(spec: Option<&str>) -> anyhow::Result<Shard> {
    match spec {
        None => Ok(Shard::default()),
        Some(s) if s.starts_with("auto") => {
            let (shard, from) =
                Shard::auto(s, |name| std::env::var(name).ok()).map_err(anyhow::Error::msg)?;
            eprintln!("shard {shard}, from {from}");
            Ok(shard)
        }
        Some(s) => Shard::parse(s).map_err(|e| anyhow::anyhow!("--shard: {e}")),
    }
}

fn options(args: &ScanArgs) -> anyhow::Result<ScanOptions> {
    let base = args.corpus.options(args.regalloc2)?;
    let test = match &args.test {
        Some(command) => {
            // The same check of the template as `reduce --test`.
            CommandRunner::new(command, Duration::from_secs(1))?;
            Some(TestCommand {
                command: command.clone(),
                expect_exit: args.expect_exit,
                dialect: args.clif_dialect,
            })
        }
        None => None,
    };
    Ok(ScanOptions {
        budget: args.budget,
        timeout: args.timeout.0,
        test,
        traced: args.traced,
        unchecked: args.unchecked,
        ..base
    })
}

/// Each input's module error and each function `shown` keeps, a line each.
pub fn print_files(
    out: &mut impl std::io::Write,
    report: &ScanReport,
    shown: impl Fn(&FunctionReport) -> bool,
) -> std::io::Result<()> {
    for file in &report.files {
        if let Some(e) = &file.error {
            // Engine errors start with the path already.
            let message = e
                .strip_prefix(&file.path)
                .and_then(|m| m.strip_prefix(": "))
                .unwrap_or(e);
            writeln!(out, "{}: module error: {message}", file.path)?;
        }
        for f in &file.functions {
            if !shown(f) {
                continue;
            }
            writeln!(
                out,
                "{}: function {} {}: {}: {}",
                file.path,
                f.index,
                f.name,
                f.status.name(),
                f.details
            )?;
        }
    }
    Ok(())
}

pub fn print_text(
    out: &mut impl std::io::Write,
    report: &ScanReport,
    all: bool,
) -> std::io::Result<()> {
    print_files(out, report, |f| all || f.status != Status::Ok)?;
    let s = &report.summary;
    let compile_errors = if s.compile_errors > 0 {
        format!(", {} compile errors", s.compile_errors)
    } else {
        String::new()
    };
    let shard = if s.shard == "1/1" {
        String::new()
    } else {
        format!(", shard {}", s.shard)
    };
    writeln!(
        out,
        "scanned {} functions in {} modules: {} ok, {} over budget, {} checker failed, {} panicked, {} module errors{compile_errors} in {:.2} s ({} jobs{shard})",
        s.functions,
        s.modules,
        s.ok,
        s.over_budget,
        s.checker_failed,
        s.panicked,
        s.module_errors,
        s.elapsed_ms as f64 / 1000.0,
        s.jobs,
    )
}

pub fn run(args: ScanArgs) -> anyhow::Result<()> {
    let report = if args.merge {
        merged(&args.paths)?
    } else {
        let options = options(&args)?;
        let paths = scan::collect_inputs(&args.paths)?;
        if paths.is_empty() {
            anyhow::bail!("no .wasm, .wat or .clif files under the given paths");
        }
        if args.jsonl {
            return scan_jsonl(&paths, &options);
        }
        scan::scan(&paths, &options)
    };
    finish(&report, args.json, |out| print_text(out, &report, args.all))
}

/// Prints a report (JSON, or text by `text`), then exits 2 when it holds
/// anything that is not ok.
pub fn finish(
    report: &ScanReport,
    json: bool,
    text: impl FnOnce(&mut std::io::StdoutLock<'static>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    if json {
        super::print_json(report)?;
    } else {
        let mut out = std::io::stdout().lock();
        match text(&mut out) {
            // A closed pipe (`| head`) is the reader's choice, not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
    }
    if report.summary.any_failure() {
        // Exit status 2 says "something was found", apart from the 1 that
        // `main` gives errors.
        let _ = std::io::stdout().flush();
        std::process::exit(2);
    }
    Ok(())
}

/// The shard reports at `paths`, merged.
pub fn merged(paths: &[PathBuf]) -> anyhow::Result<ScanReport> {
    let reports = paths
        .iter()
        .map(|p| merge::read_report(p).map(|r| (p.clone(), r)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(merge::merge(reports)?)
}

/// `scan --jsonl`: each result printed and flushed as it is known, the
/// summary last. A write that fails (a full disk) stops the printing and is
/// the error the command ends with, after the scan.
fn scan_jsonl(paths: &[PathBuf], options: &ScanOptions) -> anyhow::Result<()> {
    let mut failed: Option<std::io::Error> = None;
    let mut line = |value: serde_json::Value| {
        if failed.is_some() {
            return;
        }
        let mut out = std::io::stdout().lock();
        let written = serde_json::to_writer(&mut out, &value)
            .map_err(std::io::Error::other)
            .and_then(|_| out.write_all(b"\n"))
            .and_then(|_| out.flush());
        if let Err(e) = written {
            failed = Some(e);
        }
    };
    let report = scan::scan_streaming(paths, options, &mut |event| {
        line(serde_json::to_value(event).unwrap_or_default())
    });
    line(serde_json::json!({ "summary": report.summary }));
    if let Some(e) = failed {
        return Err(super::stdout_error(e));
    }
    if report.summary.any_failure() {
        std::process::exit(2);
    }
    Ok(())
}
