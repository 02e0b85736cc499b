//! `spillscope versions FILE --func SEL`: the function Cranelift gave
//! regalloc2, allocated by every built-in release (0.9.3 to 0.15.2), each
//! traced with the loop detector and checked by its own checker (the CLI
//! twin of the app's Releases tab).

use clap::Args;

use crate::engine::input::Input;
use crate::engine::input::isa::{Algorithm, OptLevel, Target};
use crate::engine::releases::versions::{Outcome, Versions};
use crate::engine::session::{self, Settings};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  spillscope versions sample-modules/hang/loop.clif --func 0\n  spillscope versions module.wasm --func 12 --json\n  spillscope versions module.wasm --func 12 --regalloc2 ../regalloc2   # and your checkout"
)]
pub struct VersionsArgs {
    /// Input: .wasm, .wat or .clif
    pub file: std::path::PathBuf,
    /// Function: an index in the module's function index space, or a name
    #[arg(long = "func", allow_hyphen_values = true)]
    pub func: String,
    /// Target: host, x86_64, aarch64, riscv64, s390x
    #[arg(long, default_value = "host")]
    pub target: Target,
    /// Cranelift opt level: none, speed, speed_and_size
    #[arg(long, default_value = "speed")]
    pub opt: OptLevel,
    /// Register allocator: backtracking or single_pass
    #[arg(long, default_value = "backtracking", value_parser = super::parse_algorithm)]
    pub algorithm: Algorithm,
    /// Stop each release's allocation after this many log records (default:
    /// scaled to the function's size)
    #[arg(long, value_parser = super::parse_budget)]
    pub budget: Option<u64>,
    /// Stop each release's allocation after this many seconds
    #[arg(long, default_value = "60")]
    pub timeout: super::Seconds,
    /// Also allocate with your own regalloc2: the path of a source tree (a
    /// git checkout or an unpacked crate), built once into a runner (cached)
    #[arg(long = "regalloc2", value_name = "PATH")]
    pub tree: Option<std::path::PathBuf>,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
pub struct VersionsReport {
    pub function: String,
    pub index: u32,
    pub target: String,
    #[serde(flatten)]
    pub versions: Versions,
}

pub fn run(args: VersionsArgs) -> anyhow::Result<()> {
    let settings = Settings {
        target: args.target,
        opt: args.opt,
        algorithm: args.algorithm,
        ..Settings::default()
    };
    // A tree that is not one is refused before any work.
    let tree = match &args.tree {
        Some(path) => Some(
            crate::engine::compile::releases::tree::Tree::open(path).map_err(anyhow::Error::msg)?,
        ),
        None => None,
    };
    let input = Input::load(&args.file)?;
    let index = input.select(&args.func)?.index;
    let prepared = session::prepare(&input, index, settings)?;
    let mut limits = prepared.default_limits();
    if let Some(b) = args.budget {
        limits.max_records = b;
    }
    limits.deadline = Some(std::time::Instant::now() + args.timeout.0);
    let target = prepared.flags.triple.clone();
    let label = prepared.label.clone();
    let mut versions = session::versions(&input, &prepared, args.algorithm, limits)?;
    if let Some(tree) = &tree {
        // The tree gets the time limit afresh, as each release does.
        limits.deadline = Some(std::time::Instant::now() + args.timeout.0);
        versions.tree = Some(session::versions_tree(&input, &prepared, tree, limits)?);
    }
    let report = VersionsReport {
        function: label,
        index,
        target,
        versions,
    };
    if args.json {
        return super::print_json(&report);
    }
    print_text(&report)
}

fn print_text(r: &VersionsReport) -> anyhow::Result<()> {
    let v = &r.versions;
    outln!(
        "{} (index {}) on {}, {} allocator of every built-in regalloc2 release",
        super::terminal_safe(&r.function),
        r.index,
        r.target,
        v.algorithm.name()
    );
    outln!(
        "{:<8} {:<11} {:>6} {:>6} {:>6} {:>7} {:>6} {:>7} {:>6} {:>5} {:>5}  {:<8} {:>9}  {}",
        "release",
        "outcome",
        "steps",
        "splits",
        "evicts",
        "spilled",
        "spills",
        "reloads",
        "moves",
        "stack",
        "slots",
        "checker",
        "alloc ms",
        "vs older"
    );
    let dash = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
    for row in &v.rows {
        let e = row.edits;
        let checker = match row.checker.as_str() {
            "ok" | "not run" => row.checker.clone(),
            _ => "FAILED".into(),
        };
        outln!(
            "{:<8} {:<11} {:>6} {:>6} {:>6} {:>7} {:>6} {:>7} {:>6} {:>5} {:>5}  {:<8} {:>9}  {}",
            row.release.version(),
            row.outcome.word(),
            row.counts.steps,
            row.counts.splits,
            row.counts.evictions,
            row.counts.spilled,
            dash(e.map(|e| e.spills)),
            dash(e.map(|e| e.reloads)),
            dash(e.map(|e| e.moves)),
            dash(e.map(|e| e.stack_moves)),
            dash(row.slots),
            checker,
            row.allocation_ms
                .map_or("-".to_string(), |ms| format!("{ms:.2}")),
            match row.differs_from_previous {
                Some(true) => "differs",
                Some(false) => "same",
                None => "-",
            }
        );
    }
    if let Some(t) = &v.tree {
        outln!(
            "{:<8} {:<11} {:>6} {:>6} {:>6} {:>7}  checker {}  traced {:.0} ms  (regalloc2 {} at {})",
            "yours",
            t.outcome.word(),
            t.counts.steps,
            t.counts.splits,
            t.counts.evictions,
            t.counts.spilled,
            t.checker,
            t.traced_ms,
            t.version,
            super::terminal_safe(&t.path)
        );
    }
    match v.first_difference {
        Some(r) => outln!("First release whose allocation differs from the one before: {r}"),
        None => outln!("Every release that finished made the same allocation."),
    }
    for row in &v.rows {
        if row.outcome != Outcome::Ok {
            outln!("{}: {}", row.release, row.outcome.text());
        }
        if !matches!(row.checker.as_str(), "ok" | "not run") {
            outln!("{}: checker: {}", row.release, row.checker);
        }
    }
    Ok(())
}
