//! `spillscope reduce FILE -o OUT`: shrink one function while the allocator
//! still runs over a record budget, or while a test command still fails.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::engine::input::clif::ClifDialect;
use crate::engine::input::isa::{Algorithm, OptLevel, Target};
use crate::engine::input::{Input, InputKind};
use crate::engine::session::{self, Settings};
use crate::engine::triage::reduce::{
    self, BudgetOracle, CommandOracle, Oracle, PassStats, ReleaseOracle, Size,
};

#[derive(Args, Debug)]
#[command(after_help = "\
Interesting means: without --test, our allocator logs more than --budget records
(a runaway allocation); with --regalloc2 VERSION, that built-in release does not
finish the function within --budget records; with --test, the command times out or exits non-zero
(with --expect-exit, only that code or a timeout). `{}` in the command stands
for the candidate CLIF file.

Candidates and the result are written in the CLIF dialect of the input, so that
a test command built on the input's Cranelift reads them: a file from Wasmtime 31
/ Cranelift 0.118 (`heap`/`table`/`vmctx` memory flags, `checked`) gets 0.118's
syntax back (alias regions as flag words; `checked` is dropped, as this build
keeps no trace of it and 0.118 does not need it). --clif-dialect names another:
`current` (Cranelift 0.135, `region0 = 0 \"heap\"`) or `0.118`. Wasm inputs are
written in the current dialect unless told otherwise.

Examples:
  spillscope reduce hang.clif -o small.clif --budget 200000
  spillscope reduce sample-modules/hang/loop.clif -o small.clif --regalloc2 0.11.3
  spillscope reduce big.clif -o small.clif --test '! grep -q imul {}'
  spillscope reduce big.clif -o small.clif --test 'ra0113 check {}' --expect-exit 3 --timeout 20
  spillscope reduce loop.clif -o small.clif --target x86_64 --expect-exit 3 \\
      --test 'ra0113 check {} --strict-reader --budget 400000'   # 0.118's own reader")]
pub struct ReduceArgs {
    /// Input: .clif (or .wasm / .wat, reduced from Wasmtime's CLIF)
    pub file: PathBuf,
    /// Where to write the reduced CLIF
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Function: an index or a name (default: the only or the largest one)
    #[arg(long = "func", allow_hyphen_values = true)]
    pub func: Option<String>,
    /// Test command; `{}` is replaced by the candidate file's path
    #[arg(long)]
    pub test: Option<String>,
    /// Seconds before a test command counts as hanging (killed, interesting)
    #[arg(long, default_value = "10")]
    pub timeout: super::Seconds,
    /// Only this exit code (or a timeout) counts as interesting
    #[arg(long, requires = "test", allow_hyphen_values = true, value_parser = super::parse_exit_code)]
    pub expect_exit: Option<i32>,
    /// Built-in test: allocator record budget (default: as `trace` uses for the input)
    #[arg(long, conflicts_with = "test", value_parser = super::parse_budget)]
    pub budget: Option<u64>,
    /// Stop after this many tests
    #[arg(long)]
    pub max_tests: Option<u64>,
    /// CLIF syntax of the candidates and the output: 0.118 or current
    /// (default: the input's)
    #[arg(long, value_name = "0.118|current")]
    pub clif_dialect: Option<ClifDialect>,
    /// Target: host, x86_64, aarch64, riscv64, s390x (CLIF files with a `target` line keep it)
    #[arg(long, default_value = "host")]
    pub target: Target,
    /// Built-in test by a regalloc2 release in-process: interesting while that
    /// release (0.9.3 … 0.15.2) does not finish the function within --budget
    /// records, e.g. 0.11.3 for its split loop; no external command
    #[arg(long = "regalloc2", value_name = "VERSION", conflicts_with = "test", value_parser = super::parse_release)]
    pub regalloc2: Option<crate::engine::releases::Release>,
    /// Register allocator for the built-in test: backtracking or single_pass
    #[arg(long, default_value = "backtracking", value_parser = super::parse_algorithm)]
    pub algorithm: Algorithm,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
pub struct ReduceReport {
    pub input: String,
    pub output: String,
    pub function: String,
    pub interesting: String,
    pub reason: String,
    /// The CLIF dialect the candidates and the output were written in.
    pub clif_dialect: ClifDialect,
    pub before: Size,
    pub after: Size,
    pub tests: u64,
    pub accepted: u64,
    pub rejected_by_verifier: u64,
    pub repeats_skipped: u64,
    pub rounds: usize,
    pub hit_max_tests: bool,
    pub elapsed_ms: u64,
    pub passes: Vec<PassStats>,
}

pub fn run(args: ReduceArgs) -> anyhow::Result<()> {
    let input = Input::load(&args.file)?;
    let selector = match &args.func {
        Some(f) => f.clone(),
        None => input
            .default_function()
            .map(|f| f.index.to_string())
            .ok_or_else(|| anyhow::anyhow!("{}: no function to reduce", args.file.display()))?,
    };
    let index = input.select(&selector)?.index;
    let settings = Settings {
        target: args.target,
        opt: OptLevel::Speed,
        algorithm: args.algorithm,
        release: Default::default(),
    };
    let prepared = session::prepare_clif(&input, index, settings)?;
    let function = prepared
        .function()
        .expect("prepare_clif gives the CLIF route");
    let isa = prepared.isa(&input.path, args.algorithm, false)?;
    let (header, input_dialect) = match input.kind() {
        InputKind::Clif => {
            let text = input.clif_text().unwrap_or("");
            (reduce::header_of(text), ClifDialect::of(text))
        }
        InputKind::Wasm | InputKind::Wat => (reduce::header_for_isa(&*isa), ClifDialect::Current),
    };
    let dialect = args.clif_dialect.unwrap_or(input_dialect);
    let mut oracle: Box<dyn Oracle> = match &args.test {
        Some(cmd) => Box::new(CommandOracle::new(cmd, args.timeout.0, args.expect_exit)?),
        None => {
            let max_records = args
                .budget
                .unwrap_or_else(|| session::default_limits(&prepared.clif).max_records);
            match args.regalloc2 {
                Some(release) => Box::new(ReleaseOracle {
                    isa: prepared.isa(&input.path, Algorithm::SinglePass, false)?,
                    triple: prepared.flags.triple.clone(),
                    release,
                    algorithm: args.algorithm,
                    max_records,
                }),
                None => {
                    let isa = prepared.isa(&input.path, args.algorithm, false)?;
                    Box::new(BudgetOracle { isa, max_records })
                }
            }
        }
    };
    let options = reduce::Options {
        header,
        dialect,
        max_tests: args.max_tests,
    };
    let show_progress = !args.json && std::io::stderr().is_terminal();
    let mut last_round = 0;
    let reduced = reduce::reduce(function, &*isa, &mut *oracle, &options, |p| {
        if show_progress && (p.round != last_round || p.tests.is_multiple_of(50)) {
            last_round = p.round;
            eprint!(
                "\rround {}, {}: {} tests, {} instructions, {} blocks   ",
                p.round, p.pass, p.tests, p.size.instructions, p.size.blocks
            );
        }
    })
    .with_context(|| format!("{}: function `{}`", args.file.display(), prepared.label))?;
    if show_progress {
        eprintln!();
    }
    crate::engine::export::write_whole(&args.output, reduced.text.as_bytes())
        .context("cannot write the reduced CLIF")?;
    let report = ReduceReport {
        input: args.file.display().to_string(),
        output: args.output.display().to_string(),
        function: prepared.label.clone(),
        interesting: oracle.describe(),
        reason: reduced.reason.clone(),
        clif_dialect: dialect,
        before: reduced.before,
        after: reduced.after,
        tests: reduced.tests,
        accepted: reduced.accepted,
        rejected_by_verifier: reduced.invalid,
        repeats_skipped: reduced.repeats,
        rounds: reduced.rounds,
        hit_max_tests: reduced.hit_max_tests,
        elapsed_ms: reduced.elapsed.as_millis() as u64,
        passes: reduced.passes.clone(),
    };
    if args.json {
        return super::print_json(&report);
    }
    let (b, a) = (&report.before, &report.after);
    outln!(
        "{} `{}` reduced while {}",
        report.input,
        report.function,
        report.interesting
    );
    outln!(
        "instructions {} -> {}, blocks {} -> {}, bytes {} -> {}",
        b.instructions,
        a.instructions,
        b.blocks,
        a.blocks,
        b.bytes,
        a.bytes
    );
    outln!(
        "{} tests ({} accepted, {} candidates refused by the verifier, {} repeats skipped), {} rounds, {:.1} s{}",
        report.tests,
        report.accepted,
        report.rejected_by_verifier,
        report.repeats_skipped,
        report.rounds,
        report.elapsed_ms as f64 / 1000.0,
        if report.hit_max_tests {
            " (stopped at --max-tests)"
        } else {
            ""
        }
    );
    let per_pass: Vec<String> = report
        .passes
        .iter()
        .filter(|p| p.tests > 0)
        .map(|p| format!("{} {}/{}", p.pass, p.accepted, p.tests))
        .collect();
    outln!("accepted/tests per pass: {}", per_pass.join(", "));
    outln!("still interesting: {}", report.reason);
    outln!(
        "wrote {} (CLIF dialect {})",
        report.output,
        report.clif_dialect
    );
    Ok(())
}
