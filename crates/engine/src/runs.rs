//! Runs of one function described as `KEY=VALUE,...` (`algorithm`,
//! `regalloc2`, `registers`, `target`, `opt`, `log`), as `spillscope diff` and the app's
//! side-by-side view compare them: each is a traced compile, an allocation
//! made again with fewer registers, or a regalloc2 log read back.

use std::path::{Path, PathBuf};

use crate::compile::realloc::RegisterCounts;
use crate::error::EngineResult;
use crate::input::Input;
use crate::input::isa::{Algorithm, OptLevel, Target};
use crate::opening::OpenedLog;
use crate::releases::Release;
use crate::replay::diff::{self, DiffReport, Side};
use crate::replay::moves::{self, MoveReport};
use crate::session::{self, FunctionTrace, Settings};
use crate::trace::RegNames;

/// What one run changes from the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunSpec {
    pub target: Option<Target>,
    pub opt: Option<OptLevel>,
    pub algorithm: Option<Algorithm>,
    /// The regalloc2 release that allocates (`regalloc2=0.11.3`).
    pub release: Option<Release>,
    pub registers: RegisterCounts,
    /// A regalloc2 log to read instead of compiling.
    pub log: Option<PathBuf>,
}

impl RunSpec {
    /// `algorithm=single_pass,target=aarch64,opt=none,registers=int:4+float:8`
    /// (`int=4` alone also names a register count), or `log=FILE`.
    pub fn parse(text: &str) -> Result<RunSpec, String> {
        let mut spec = RunSpec::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}`: expected KEY=VALUE"))?;
            let value = value.trim();
            match key.trim() {
                "target" => spec.target = Some(value.parse().map_err(|e: String| e)?),
                "opt" => spec.opt = Some(value.parse().map_err(|e: String| e)?),
                "algorithm" => {
                    spec.algorithm = Some(
                        Algorithm::ALL
                            .into_iter()
                            .find(|a| a.name() == value)
                            .ok_or_else(|| {
                                format!("unknown algorithm `{value}` (backtracking, single_pass)")
                            })?,
                    )
                }
                "regalloc2" => spec.release = Some(value.parse()?),
                "registers" => {
                    let counts: RegisterCounts =
                        value.replace(':', "=").replace('+', ",").parse()?;
                    spec.add_registers(counts);
                }
                "int" | "float" | "vector" => {
                    let counts: RegisterCounts = part.parse()?;
                    spec.add_registers(counts);
                }
                "log" if value.trim().is_empty() => {
                    return Err("`log=` needs the path of a regalloc2 log".into());
                }
                "log" => spec.log = Some(PathBuf::from(value)),
                other => {
                    return Err(format!(
                        "unknown key `{other}` (algorithm, regalloc2, registers, target, opt, log)"
                    ));
                }
            }
        }
        if spec.log.is_some()
            && (spec.target.is_some()
                || spec.opt.is_some()
                || spec.algorithm.is_some()
                || spec.release.is_some()
                || !spec.registers.is_full())
        {
            return Err("`log` names a run by itself; give it alone".into());
        }
        if let (Some(Algorithm::SinglePass), Some(r)) = (spec.algorithm, spec.release)
            && !r.has_single_pass()
        {
            return Err(format!(
                "regalloc2 {r} has no single-pass allocator (it came in 0.11)"
            ));
        }
        Ok(spec)
    }

    fn add_registers(&mut self, counts: RegisterCounts) {
        for class in crate::compile::realloc::CLASSES {
            if let Some(n) = counts.get(class) {
                self.registers.set(class, Some(n));
            }
        }
    }

    /// The settings of this run over `base`.
    pub fn settings(&self, base: Settings) -> Settings {
        Settings {
            target: self.target.unwrap_or(base.target),
            opt: self.opt.unwrap_or(base.opt),
            algorithm: self.algorithm.unwrap_or(base.algorithm),
            release: self.release.unwrap_or(base.release),
        }
    }
}

/// One run, traced, with its move report.
pub struct Run {
    pub label: String,
    pub trace: FunctionTrace,
    pub moves: MoveReport,
    pub names: Option<RegNames>,
    pub from_log: bool,
}

impl Run {
    /// The diff's view of it.
    pub fn side(&self) -> Side<'_> {
        Side {
            label: self.label.clone(),
            replay: &self.trace.replay,
            moves: &self.moves,
            names: self.names,
            checker: self.trace.checker().text(),
            code_bytes: self.trace.code().map(|c| c.code.len()),
        }
    }
}

/// Runs `spec` on function `func_index` of `input` (settings over `base`).
pub fn run(input: &Input, func_index: u32, base: Settings, spec: &RunSpec) -> EngineResult<Run> {
    if let Some(path) = &spec.log {
        let log = OpenedLog::read(path)?;
        let moves = moves::attribute(&log.trace.replay, None);
        return Ok(Run {
            label: format!("log {}", file_name(path)),
            trace: log.trace,
            moves,
            names: None,
            from_log: true,
        });
    }
    let settings = spec.settings(base);
    let prepared = session::prepare(input, func_index, settings)?;
    let limits = prepared.default_limits();
    let trace = if spec.registers.is_full() {
        session::trace_prepared(input, prepared, settings, limits)?
    } else {
        session::trace_with_registers(
            input,
            prepared,
            spec.registers,
            settings.allocator(),
            limits,
        )?
    };
    let names = trace.reg_names();
    let moves = moves::attribute(&trace.replay, names);
    let mut label = format!(
        "{}, {}, opt {}",
        settings.algorithm.name(),
        settings.target.name(),
        settings.opt.name()
    );
    if settings.release != Release::CRANELIFT {
        label.push_str(&format!(", regalloc2 {}", settings.release));
    }
    if !spec.registers.is_full() {
        label.push_str(&format!(", {}", spec.registers.text()));
    }
    Ok(Run {
        label,
        trace,
        moves,
        names,
        from_log: false,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// Whether two runs allocated the same code, so their program points line
/// up: the same VCode before allocation. A log carries no VCode; it is taken
/// to be of the same function when it has the same program points.
pub fn aligned(a: &Run, b: &Run) -> bool {
    let (ta, tb) = (a.trace.traced.trace.as_ref(), b.trace.traced.trace.as_ref());
    match (&ta.vcode_before, &tb.vcode_before) {
        (Some(x), Some(y)) => x == y,
        _ if a.from_log || b.from_log => {
            let last = |t: &crate::trace::Trace| t.moves.ranges.iter().map(|r| r.to).max();
            last(ta) == last(tb)
        }
        _ => false,
    }
}

/// The two runs compared.
pub fn compare(a: &Run, b: &Run) -> DiffReport {
    let mut report = diff::diff(&a.side(), &b.side(), aligned(a, b));
    if (a.from_log || b.from_log) && report.aligned {
        report.note = Some(
            "a log carries no code: its program points are taken to be this function's \
             (the last program points agree)"
                .into(),
        );
    }
    report
}
