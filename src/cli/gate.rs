//! `spillscope gate CORPUS... --candidate V [--baseline V]`: a release gate.
//! Every function is lowered once and allocated by both releases; the
//! candidate's new loops, timeouts, panics, checker failures and functions
//! it cannot take fail the gate (exit 2); the quality deltas are reported.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;

use crate::engine::compile::releases::tree::{self, Tree};
use crate::engine::releases::Release;
use crate::engine::triage::gate::{GatePair, GateSummary, TreeCandidate};
use crate::engine::triage::scan::{self, ScanOptions, ScanReport};

#[derive(Args, Debug)]
#[command(after_help = "\
Every defined function of every input is lowered once, by Wasmtime's compiler
alone in its module's environment (translated once per module), and the
function Cranelift gives regalloc2 is allocated by the baseline release and by
the candidate, each with its own checker, under the same record budget and
deadline. An allocation that trips either is allocated again, traced with the
loop detector, and diagnosed.

The candidate's new failures (a loop, a timeout, a panic, a checker failure,
a function it cannot take, where the baseline has none of these) fail the
gate: exit status 2. Functions both releases fail alike are counted, not
failed. For the rest: the spills, reloads, moves, stack moves, spill slots
and allocation time of each, the distribution of the candidate's deltas and
the worst functions by each metric.

--candidate PATH gates a regalloc2 source tree (a checkout or an unpacked
crate, 0.9 or later): a runner is built against it once (cargo, cached under
the user's cache directory) and each function is handed to it as the tree's
reproducer file. Its allocations stay in its process, so they are not
compared edit for edit with the baseline's ('the same allocation' counts
built-in releases only).

--html OUT writes a self-contained page: the summary, the failures, a scatter
of baseline against candidate spills per function and a histogram of the
deltas. Sharding and --merge work as for `scan` (a gate is a scan whose
functions two releases allocate); --shard auto reads a Kubernetes Indexed Job,
a Slurm array or a CI matrix's index.

Exit status:
  0  no new failure, no module error
  2  the candidate has a new failure, or a function could not be lowered, or
     an input failed as a whole
  1  a usage or I/O error before the gate

Examples:
  spillscope gate sample-modules --candidate 0.11.3 --baseline 0.12.2
  spillscope gate corpus/ --candidate 0.14.0 --json > gate.json --html gate.html
  spillscope gate corpus/ --candidate ~/src/regalloc2 --baseline 0.15.2
  spillscope gate corpus/ --candidate 0.14.0 --shard auto/8 --json > shard-$JOB_COMPLETION_INDEX.json
  spillscope gate --merge shard-*.json --html gate.html")]
pub struct GateArgs {
    /// Inputs: .wasm, .wat or .clif files, or folders to search (with
    /// --merge: the shards' JSON reports)
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Combine the `--json` reports of shards 1/N .. N/N into one report
    #[arg(long, conflicts_with_all = ["shard", "budget"])]
    pub merge: bool,
    /// The release under test: 0.9.3 … 0.15.2, oldest or newest; or the
    /// path of a regalloc2 source tree (0.9 or later), whose runner is built
    /// once and cached
    #[arg(long, value_name = "VERSION|PATH", value_parser = super::parse_regalloc, required_unless_present = "merge")]
    pub candidate: Option<super::RegallocArg>,
    /// The release it is compared with (default: Cranelift's, 0.15.2)
    #[arg(long, value_name = "VERSION", default_value = "0.15.2", value_parser = super::parse_release)]
    pub baseline: Release,
    /// regalloc2 records allowed per allocation (default: scaled to the
    /// function's size, at least 2,000,000)
    #[arg(long, value_parser = super::parse_budget)]
    pub budget: Option<u64>,
    /// Wall-clock limit of one release's allocation of one function, in seconds
    #[arg(long, default_value = "30")]
    pub timeout: super::Seconds,
    #[command(flatten)]
    pub corpus: super::scan::CorpusArgs,
    /// List every function (text output), not only the new failures
    #[arg(long, visible_alias = "verbose")]
    pub all: bool,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
    /// Also write the report as a self-contained HTML page
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
}

fn options(args: &GateArgs, candidate: &super::RegallocArg) -> anyhow::Result<ScanOptions> {
    let (release, tree) = match candidate {
        super::RegallocArg::Release(r) => (*r, None),
        super::RegallocArg::Tree(path) => {
            let tree = Tree::open(path).map_err(anyhow::Error::msg)?;
            eprintln!(
                "building a runner against regalloc2 {} at {} (once: it is cached)",
                tree.version,
                path.display()
            );
            let runner = tree::build_runner(&tree).map_err(anyhow::Error::msg)?;
            (tree.format, Some(Arc::new(TreeCandidate { tree, runner })))
        }
    };
    let options = ScanOptions {
        budget: args.budget,
        timeout: args.timeout.0,
        gate: Some(GatePair {
            baseline: args.baseline,
            candidate: release,
        }),
        candidate_tree: tree,
        ..args.corpus.options(release)?
    };
    if options.candidate_tree.is_some()
        && options.settings.algorithm != crate::engine::input::isa::Algorithm::Backtracking
    {
        anyhow::bail!(
            "a regalloc2 source tree runs its backtracking allocator; leave --algorithm out"
        );
    }
    Ok(options)
}

/// The gate's own lines after the scan's: the new failures, the deltas.
pub fn print_summary(out: &mut impl std::io::Write, g: &GateSummary) -> std::io::Result<()> {
    writeln!(
        out,
        "gate: regalloc2 {} (candidate) against {} (baseline), {} functions: {} new failures \
         ({}), {} not lowered",
        g.candidate_name(),
        g.baseline,
        g.functions,
        g.new_failures(),
        g.failures_text(),
        g.not_lowered
    )?;
    writeln!(
        out,
        "  {} allocated by both, {} of them the very same allocation",
        g.compared, g.same_allocation
    )?;
    for m in &g.metrics {
        writeln!(
            out,
            "  {:<14} total {} -> {}: {} better, {} worse, {} same; deltas p1 {} p50 {} p99 {}",
            m.metric.name(),
            m.baseline_total,
            m.candidate_total,
            m.better,
            m.worse,
            m.same,
            m.percentiles[0],
            m.percentiles[2],
            m.percentiles[4]
        )?;
        if let Some(w) = m.worst.first() {
            writeln!(
                out,
                "    worst: {} function {} {} ({} -> {})",
                w.file, w.index, w.name, w.baseline, w.candidate
            )?;
        }
    }
    Ok(())
}

fn print_text(
    out: &mut impl std::io::Write,
    report: &ScanReport,
    all: bool,
) -> std::io::Result<()> {
    // The candidate's failures (new or shared) and what was not lowered.
    super::scan::print_files(out, report, |f| {
        all || f.gate.as_ref().is_none_or(|g| !g.candidate.outcome.is_ok())
    })?;
    let s = &report.summary;
    writeln!(
        out,
        "gated {} functions in {} modules in {:.2} s ({} jobs{})",
        s.functions,
        s.modules,
        s.elapsed_ms as f64 / 1000.0,
        s.jobs,
        if s.shard == "1/1" {
            String::new()
        } else {
            format!(", shard {}", s.shard)
        }
    )?;
    if let Some(g) = &report.gate {
        print_summary(out, g)?;
    }
    Ok(())
}

pub fn run(args: GateArgs) -> anyhow::Result<()> {
    let report = if args.merge {
        let merged = super::scan::merged(&args.paths)?;
        if merged.gate.is_none() {
            anyhow::bail!("these are `scan` reports, not a gate's: merge them with `scan --merge`");
        }
        merged
    } else {
        let Some(candidate) = args.candidate.clone() else {
            anyhow::bail!("--candidate is required");
        };
        let options = options(&args, &candidate)?;
        let paths = scan::collect_inputs(&args.paths)?;
        if paths.is_empty() {
            anyhow::bail!("no .wasm, .wat or .clif files under the given paths");
        }
        scan::scan(&paths, &options)
    };
    if let Some(out) = &args.html {
        crate::engine::export::write_whole(
            out,
            crate::engine::export::gate::html(&report).as_bytes(),
        )?;
    }
    super::scan::finish(&report, args.json, |out| print_text(out, &report, args.all))
}
