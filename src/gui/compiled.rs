//! A traced compile as the panels use it: the trace with the models
//! precomputed on the worker ([`Compiled`]), and the compile on screen with its
//! replay cursor ([`Loaded`]).

use std::path::PathBuf;

use crate::engine::compile::realloc::RegisterCounts;
use crate::engine::opening::OpenedLog;
use crate::engine::replay::State;
use crate::engine::replay::diagnose::{self, Diagnosis};
use crate::engine::replay::moves::{self, MoveReport};
use crate::engine::replay::single_pass::{self, SpState};
use crate::engine::session::{FunctionTrace, Settings};
use crate::engine::trace::{Allocation, RegNames, SinglePassLog};

use super::chart_model::{ChartModel, Focus};
use super::lineage_model::LineageModel;
use super::link_model::LinkModel;
use super::summary::Summary;

/// What a trace imported from a log brings besides its steps.
pub struct LogInfo {
    pub lines: u64,
    pub records: u64,
    pub not_understood: u64,
    pub not_understood_samples: Vec<String>,
    pub truncated: bool,
    /// The log ends inside a line, which was not read.
    pub cut_mid_line: bool,
    /// The regalloc2 releases whose messages fit the log.
    pub releases: String,
    /// A CLIF file beside the log (same stem), allocated by this build's
    /// regalloc2: the file and what happened, in words.
    pub current: Option<(PathBuf, Result<String, String>)>,
}

impl LogInfo {
    /// What the import made of `log`, before the CLIF beside it is tried.
    pub fn of(log: &OpenedLog) -> LogInfo {
        let trace = &log.trace.traced.trace;
        LogInfo {
            lines: log.stats.lines,
            records: log.stats.records,
            not_understood: trace.unparsed,
            not_understood_samples: trace.unparsed_samples.clone(),
            truncated: log.stats.truncated,
            cut_mid_line: log.stats.cut_mid_line,
            releases: String::from(log.stats.dialect),
            current: None,
        }
    }
}

/// A traced compile and everything the panels precompute from it.
pub struct Compiled {
    pub func_index: u32,
    pub label: String,
    pub settings: Settings,
    pub trace: FunctionTrace,
    pub chart: ChartModel,
    pub summary: Summary,
    /// One line per step for the event list.
    pub headlines: Vec<String>,
    /// Loop detection over the steps.
    pub diagnosis: Diagnosis,
    /// The split tree, flattened for the lineage panel.
    pub lineage: LineageModel,
    /// Every move regalloc2 inserted, with its cause.
    pub moves: MoveReport,
    /// The target's register names (`None` for a log: regalloc2's names).
    pub names: Option<RegNames>,
    /// Set when the trace came from a log rather than a compile here.
    pub log: Option<LogInfo>,
    /// The steps so far of a compile still running (a preview).
    pub running: bool,
    /// A preview whose compile the user stopped.
    pub stopped_by_user: bool,
    /// Registers kept when regalloc2 allocated the function again alone
    /// (all of them for a compile).
    pub registers: RegisterCounts,
    /// The single-pass chart's rows (empty for a backtracking trace).
    pub sp_rows: Vec<crate::engine::trace::PReg>,
}

impl Compiled {
    /// The panels' precomputed views of a trace (on the worker: the chart
    /// model of a large function takes a while).
    pub fn from_trace(
        func_index: u32,
        label: String,
        settings: Settings,
        trace: FunctionTrace,
    ) -> Compiled {
        Compiled::build(func_index, label, settings, trace, None)
    }

    /// [`Compiled::from_trace`] for one of two compared runs, whose moves
    /// are already attributed.
    pub fn from_run(
        func_index: u32,
        settings: Settings,
        run: crate::engine::runs::Run,
    ) -> Compiled {
        Compiled::build(func_index, run.label, settings, run.trace, Some(run.moves))
    }

    fn build(
        func_index: u32,
        label: String,
        settings: Settings,
        trace: FunctionTrace,
        moves: Option<moves::MoveReport>,
    ) -> Compiled {
        let chart = ChartModel::new(&trace);
        let summary = Summary::new(&trace);
        let names = trace.reg_names();
        let headlines = match trace.traced.trace.allocation() {
            Allocation::Backtracking(steps) => steps
                .iter()
                .map(|s| crate::engine::replay::explain::headline(s, names))
                .collect(),
            Allocation::SinglePass(log) => log
                .steps
                .iter()
                .map(|s| crate::engine::replay::single_pass::headline(s, names))
                .collect(),
        };
        let diagnosis = diagnose::diagnose(&trace.traced.trace);
        let lineage = LineageModel::new(&trace.traced.trace, &trace.replay, &diagnosis, names);
        let moves = moves.unwrap_or_else(|| moves::attribute(&trace.replay, names));
        let sp_rows = single_pass::chart_rows(&trace.traced.trace.single_pass);
        Compiled {
            func_index,
            label,
            settings,
            trace,
            chart,
            summary,
            headlines,
            diagnosis,
            lineage,
            moves,
            names,
            log: None,
            running: false,
            stopped_by_user: false,
            registers: RegisterCounts::default(),
            sp_rows,
        }
    }

    /// Marks this as an allocation with `counts` registers: the pressure
    /// strip measures against them.
    pub fn limit_registers(&mut self, counts: RegisterCounts) {
        self.registers = counts;
        for p in &mut self.chart.pressure {
            if let Some(n) = counts.get(p.class.into()) {
                p.limit_to(n as u32);
            }
        }
    }

    /// Whether the loop verdict goes under the summary: it matters (a loop,
    /// or a trace that stopped early).
    pub fn verdict_matters(&self) -> bool {
        self.diagnosis.looping || self.trace.traced.trace.stopped.is_some()
    }
}

/// The slower code views, sent after the trace so the stepper is ready first.
pub struct Extras {
    pub wasm_text: Result<String, String>,
    pub clif_translated: Result<String, String>,
}

/// Which compile is on screen, for the views' caches (a new id refits the
/// chart): where it came from, numbered by the counter that source keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadedId {
    /// The worker's answer to request `generation` (its previews share it).
    Request(u64),
    /// Row `row` of the memory tab's code-effect table, computed for request
    /// `generation`.
    EffectRow { generation: u64, row: usize },
    /// Run `a` (`second: false`) or `b` of the `pair`-th Compare runs pair.
    Run { pair: u64, second: bool },
}

/// A compile on screen, with the replay cursor.
pub struct Loaded {
    /// Identifies the compile for caches.
    pub id: LoadedId,
    pub compiled: Box<Compiled>,
    pub extras: Option<Box<Extras>>,
    /// Steps applied; `0` is the state before the first step.
    pub cursor: usize,
    pub state: State,
    pub focus: Focus,
    /// The link map (Wasm ↔ CLIF ↔ VCode ↔ code) once the worker made it,
    /// or why there is none.
    pub link: Option<Result<Box<LinkModel>, String>>,
    /// The link entry selected in a code view (or by a move).
    pub selected: Option<u32>,
    /// The move selected in the Moves list.
    pub selected_move: Option<usize>,
    /// A single-pass allocation's state at the cursor.
    pub sp_state: SpState,
}

impl Loaded {
    /// `compiled` with the cursor after `step` steps.
    pub fn new(id: LoadedId, compiled: Box<Compiled>, step: usize) -> Loaded {
        let state = compiled.trace.replay.initial().clone();
        let mut l = Loaded {
            id,
            compiled,
            extras: None,
            cursor: 0,
            state,
            focus: Focus::default(),
            link: None,
            selected: None,
            selected_move: None,
            sp_state: SpState::default(),
        };
        l.seek(step);
        l
    }

    /// The link model, when it is ready.
    pub fn link(&self) -> Option<&LinkModel> {
        self.link
            .as_ref()
            .and_then(|l| l.as_ref().ok())
            .map(|b| &**b)
    }

    /// The steps: the bundle steps, or a single-pass allocation's own.
    pub fn steps(&self) -> usize {
        crate::engine::replay::query::steps_of(&self.compiled.trace.replay)
    }

    /// The single-pass allocator's steps, when they are the steps.
    pub fn single_pass(&self) -> Option<&SinglePassLog> {
        match self.compiled.trace.traced.trace.allocation() {
            Allocation::SinglePass(log) => Some(log),
            Allocation::Backtracking(_) => None,
        }
    }

    /// Moves the cursor to after `k` steps (at most all of them).
    pub fn seek(&mut self, k: usize) {
        let k = k.min(self.steps());
        // `single_pass()`, with the borrow kept to the trace.
        if let Allocation::SinglePass(log) = self.compiled.trace.traced.trace.allocation() {
            self.sp_state.seek(log, self.cursor, k);
            self.cursor = k;
            return;
        }
        self.compiled.trace.replay.seek(&mut self.state, k);
        self.cursor = k;
        self.focus = match k.checked_sub(1) {
            Some(i) => Focus::of(&self.compiled.trace.replay.steps()[i]),
            None => Focus::default(),
        };
        self.focus.looping = self.compiled.lineage.cycle.clone();
    }
}

/// Two runs of the function, side by side (the Compare runs tab).
pub struct RunsPair {
    pub a: Loaded,
    pub b: Loaded,
    pub report: crate::engine::replay::diff::DiffReport,
}
