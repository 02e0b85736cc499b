//! The compile worker: one background thread that loads files and runs traced
//! compiles, so no frame ever waits for I/O or Cranelift.
//!
//! Every request carries a generation number. The worker skips requests that a
//! newer one superseded before it started them, and checks between stages
//! whether it should give up; the app ignores replies from old generations.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use crate::engine::compile::realloc::{RegisterCounts, SweepPoint};
use crate::engine::input::func_text::{self, FuncText};
use crate::engine::input::{Input, InputKind};
use crate::engine::layout::Profile;
use crate::engine::layout::effect::{self, CompareReport};
use crate::engine::layout::model::ModuleLayout;
use crate::engine::opening::{self, OpenedLog};
use crate::engine::session::{self, Settings};
use crate::engine::trace::{BundleId, RangeId, StateDump, Step, StepObserver, Trace, VRegId};

use super::compiled::{Compiled, Extras, LogInfo};
use super::layout_model::{LayoutModel, PresetChoice};
use super::link_model::{LinkModel, LinkTexts};

/// The WAT sample opened when no file is given.
pub const SAMPLE_NAME: &str = "pressure.wat (built-in sample)";
pub const SAMPLE_FUNC: &str = "pressure";
const SAMPLE_BYTES: &[u8] = include_bytes!("../../sample-modules/pressure.wat");

/// Where a file to open comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// The embedded sample.
    Sample,
    Path(PathBuf),
    /// Bytes already read (a dropped file on a platform without paths).
    Bytes(PathBuf, Vec<u8>),
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Sample => SAMPLE_NAME.into(),
            Source::Path(p) | Source::Bytes(p, _) => p.display().to_string(),
        }
    }
}

/// What the app asks of the worker.
pub enum Job {
    /// Load a file, then compile `func` (or the default function) in it.
    Open {
        source: Source,
        func: Option<String>,
        settings: Settings,
        budget: Budget,
        /// Open without tracing a function whose body is bigger than this
        /// many bytes (a restart reopening what was open: the user asks).
        hold_above: Option<u32>,
        /// The memory profiles to model the module's layout for.
        presets: PresetChoice,
    },
    /// Compile another function, or the same one with other settings;
    /// with `registers` reduced, allocate it again by regalloc2 alone with
    /// that many registers.
    Compile {
        input: Arc<Input>,
        func_index: u32,
        settings: Settings,
        budget: Budget,
        registers: RegisterCounts,
    },
    /// Allocate the function with a runner built against a regalloc2 source
    /// tree (built once, cached), traced live.
    Tree {
        input: Arc<Input>,
        func_index: u32,
        settings: Settings,
        budget: Budget,
        tree: PathBuf,
    },
    /// Compile one function under each memory profile (the layout view's
    /// code-effect table), keeping every trace for the allocator view.
    Compare {
        input: Arc<Input>,
        module: Arc<ModuleLayout>,
        func_index: u32,
        profiles: Vec<Profile>,
        settings: Settings,
    },
}

/// How long an allocation may run before the worker stops it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// regalloc2 records; `None` scales with the function (see
    /// `Prepared::default_limits`).
    pub records: Option<u64>,
    /// Wall-clock limit of one traced allocation.
    #[serde(default)]
    pub time: TimeLimit,
}

/// The wall-clock limit of one traced allocation in the app.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TimeLimit {
    /// Scaled to the function's size ([`auto_deadline`]).
    #[default]
    Auto,
    Seconds(u64),
    /// None: only Stop ends it.
    Unlimited,
}

impl TimeLimit {
    /// The limit for a function whose default limits are `base`; `None`:
    /// no limit.
    pub fn for_function(self, base: &crate::engine::capture::CaptureLimits) -> Option<Duration> {
        match self {
            TimeLimit::Auto => Some(auto_deadline(base)),
            TimeLimit::Seconds(s) => Some(Duration::from_secs(s.max(1))),
            TimeLimit::Unlimited => None,
        }
    }

    /// `auto`, `2 min`, `no limit`: as the menu shows it.
    pub fn text(self) -> String {
        match self {
            TimeLimit::Auto => "auto".into(),
            TimeLimit::Seconds(s) if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
            TimeLimit::Seconds(s) if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
            TimeLimit::Seconds(s) => format!("{s} s"),
            TimeLimit::Unlimited => "no limit".into(),
        }
    }
}

/// The biggest function body a restart traces without asking: bigger ones
/// take more than a few seconds.
pub const HOLD_BODY_BYTES: u32 = 32 * 1024;

/// The shortest automatic time limit, for small functions.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The automatic time limit: [`DEADLINE`], plus a second for every 16 M
/// records of the function's record budget (which grows with its size:
/// about a second per KB of Wasm body), at most 15 minutes. A 129 KB
/// function gets about 160 s.
pub fn auto_deadline(base: &crate::engine::capture::CaptureLimits) -> Duration {
    let extra = base.max_records / 16_000_000;
    Duration::from_secs((DEADLINE.as_secs() + extra).min(15 * 60))
}

impl Budget {
    /// `base` (the function's default limits) with this budget's records
    /// and time limit.
    pub fn limits(
        self,
        base: crate::engine::capture::CaptureLimits,
    ) -> crate::engine::capture::CaptureLimits {
        let mut limits = base;
        if let Some(r) = self.records {
            limits.max_records = r;
        }
        limits.deadline = self.time.for_function(&base).map(|d| Instant::now() + d);
        limits
    }
}

/// What the worker reports.
pub enum Reply {
    Progress {
        generation: u64,
        stage: String,
    },
    Opened {
        generation: u64,
        source: Source,
        input: Arc<Input>,
    },
    /// The opened module's memory facts, or why they could not be read.
    /// The module's memory layout, modelled for the profiles chosen (built
    /// here: for a big module it takes a third of a second).
    Layout {
        generation: u64,
        layout: Result<Box<LayoutModel>, String>,
    },
    Compiled {
        generation: u64,
        compiled: Box<Compiled>,
    },
    /// The steps so far of a traced compile still running.
    Preview {
        generation: u64,
        compiled: Box<Compiled>,
    },
    /// A regalloc2 log was opened: its trace, with no module behind it.
    LogOpened {
        generation: u64,
        source: Source,
        compiled: Box<Compiled>,
    },
    Extras {
        generation: u64,
        extras: Box<Extras>,
    },
    /// The link map of the function on screen, or why there is none.
    Linked {
        generation: u64,
        link: Result<Box<LinkModel>, String>,
    },
    /// The code-effect table and, per row, the compile for its allocator view.
    Compared {
        generation: u64,
        report: CompareReport,
        compiled: Vec<Option<Box<Compiled>>>,
    },
    /// The file opened on a function too big to trace without asking
    /// ([`Job::Open`]'s `hold_above`): selected, not compiled.
    Held {
        generation: u64,
        func_index: u32,
        body_bytes: u32,
    },
    /// The request failed; `loading` tells whether the file itself did not load.
    Failed {
        generation: u64,
        loading: bool,
        message: String,
    },
    Done {
        generation: u64,
        elapsed_ms: u128,
    },
}

impl Reply {
    pub fn generation(&self) -> u64 {
        match self {
            Reply::Progress { generation, .. }
            | Reply::Opened { generation, .. }
            | Reply::Layout { generation, .. }
            | Reply::Compiled { generation, .. }
            | Reply::Preview { generation, .. }
            | Reply::LogOpened { generation, .. }
            | Reply::Extras { generation, .. }
            | Reply::Linked { generation, .. }
            | Reply::Compared { generation, .. }
            | Reply::Held { generation, .. }
            | Reply::Failed { generation, .. }
            | Reply::Done { generation, .. } => *generation,
        }
    }
}

/// The app's end of the worker.
pub struct Worker {
    jobs: Sender<(u64, Job)>,
    latest: Arc<AtomicU64>,
    preview: Arc<PreviewTiming>,
}

impl Worker {
    /// Starts the thread; each reply goes to `deliver` (the app's command
    /// channel, with a repaint).
    pub fn start(deliver: Deliver<Reply>) -> Worker {
        let (jobs, job_rx) = std::sync::mpsc::channel::<(u64, Job)>();
        let latest = Arc::new(AtomicU64::new(0));
        let latest_w = latest.clone();
        let preview = Arc::new(PreviewTiming::default());
        let preview_w = preview.clone();
        let spawned = std::thread::Builder::new()
            .name("spillscope-worker".into())
            .spawn(move || worker_loop(job_rx, latest_w, preview_w, deliver));
        if let Err(e) = spawned {
            // Without a worker the app still draws; every request reports this.
            log::error!("cannot start the worker thread: {e}");
        }
        Worker {
            jobs,
            latest,
            preview,
        }
    }

    /// Supersedes every request older than `generation` without queueing a
    /// new one: a running traced compile stops at its next step.
    pub fn supersede(&self, generation: u64) {
        self.latest.store(generation, Ordering::SeqCst);
    }

    /// When a running compile first shows its steps so far, and how often
    /// after (from the next snapshot on).
    pub fn set_preview_timing(&self, first: std::time::Duration, every: std::time::Duration) {
        let ms = |d: std::time::Duration| d.as_millis().min(u64::MAX as u128) as u64;
        self.preview.first_ms.store(ms(first), Ordering::Relaxed);
        self.preview.every_ms.store(ms(every), Ordering::Relaxed);
    }

    /// Queues `job` as generation `generation`, superseding older requests.
    pub fn submit(&self, generation: u64, job: Job) -> Result<(), String> {
        self.latest.store(generation, Ordering::SeqCst);
        self.jobs
            .send((generation, job))
            .map_err(|_| "the worker thread is not running".to_string())
    }
}

/// One job's end of the channel, cheap to clone (the preview builder of a
/// running compile holds one).
#[derive(Clone)]
struct Ctx {
    generation: u64,
    latest: Arc<AtomicU64>,
    deliver: Arc<dyn Fn(Reply) + Send + Sync>,
    preview: Arc<PreviewTiming>,
}

impl Ctx {
    fn send(&self, reply: Reply) {
        (self.deliver)(reply);
    }
    fn progress(&self, stage: impl Into<String>) {
        self.send(Reply::Progress {
            generation: self.generation,
            stage: stage.into(),
        });
    }
    fn superseded(&self) -> bool {
        self.latest.load(Ordering::SeqCst) != self.generation
    }
    fn fail(&self, loading: bool, message: String) {
        self.send(Reply::Failed {
            generation: self.generation,
            loading,
            message,
        });
    }
}

fn worker_loop(
    jobs: Receiver<(u64, Job)>,
    latest: Arc<AtomicU64>,
    preview: Arc<PreviewTiming>,
    deliver: Deliver<Reply>,
) {
    while let Ok(mut next) = jobs.recv() {
        // Only the newest queued request matters.
        loop {
            match jobs.try_recv() {
                Ok(newer) => next = newer,
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        let (generation, job) = next;
        let ctx = Ctx {
            generation,
            latest: Arc::clone(&latest),
            deliver: Arc::clone(&deliver),
            preview: Arc::clone(&preview),
        };
        let started = Instant::now();
        run_job(&ctx, job);
        ctx.send(Reply::Done {
            generation,
            elapsed_ms: started.elapsed().as_millis(),
        });
    }
}

fn load(source: &Source) -> Result<Input, String> {
    let r = match source {
        Source::Sample => Input::from_bytes(&PathBuf::from(SAMPLE_NAME), SAMPLE_BYTES.to_vec()),
        Source::Path(p) => Input::load(p),
        Source::Bytes(p, bytes) => Input::from_bytes(p, bytes.clone()),
    };
    r.map_err(|e| e.to_string())
}

fn run_job(ctx: &Ctx, job: Job) {
    let (input, func_index, settings, budget, registers) = match job {
        Job::Open {
            source,
            func,
            settings,
            budget,
            hold_above,
            presets,
        } => {
            let is_log = match &source {
                Source::Sample => false,
                Source::Path(p) => opening::is_regalloc2_log(p, None),
                Source::Bytes(p, bytes) => opening::is_regalloc2_log(p, Some(bytes)),
            };
            if is_log {
                return open_log(ctx, source, settings, budget);
            }
            if let Source::Path(p) | Source::Bytes(p, _) = &source
                && opening::is_reproducer(p)
            {
                return open_reproducer(ctx, source, settings, budget);
            }
            ctx.progress(format!("reading {}", source.name()));
            let input = match load(&source) {
                Ok(i) => Arc::new(i),
                Err(e) => return ctx.fail(true, e),
            };
            ctx.send(Reply::Opened {
                generation: ctx.generation,
                source,
                input: input.clone(),
            });
            // Before the compile, so that a compile that fails still leaves
            // the memory tab its answer.
            if let Some(reply) = layout_reply(ctx.generation, &input, presets) {
                ctx.progress("reading the module's memory");
                ctx.send(reply);
            }
            let chosen = match func.as_deref() {
                Some(sel) => input
                    .select(sel)
                    .map(|f| f.index)
                    .map_err(|e| e.to_string()),
                None => input.default_function().map(|f| f.index).ok_or_else(|| {
                    format!("{}: defines no function to compile", input.path.display())
                }),
            };
            match chosen {
                Ok(i) => {
                    let body_bytes = input.functions.get(i as usize).map_or(0, |f| f.body_bytes);
                    if hold_above.is_some_and(|limit| body_bytes > limit) {
                        return ctx.send(Reply::Held {
                            generation: ctx.generation,
                            func_index: i,
                            body_bytes,
                        });
                    }
                    (input, i, settings, budget, RegisterCounts::default())
                }
                Err(e) => return ctx.fail(false, e),
            }
        }
        Job::Compile {
            input,
            func_index,
            settings,
            budget,
            registers,
        } => (input, func_index, settings, budget, registers),
        Job::Compare {
            input,
            module,
            func_index,
            profiles,
            settings,
        } => return compare(ctx, &input, &module, func_index, &profiles, settings),
        Job::Tree {
            input,
            func_index,
            settings,
            budget,
            tree,
        } => return step_tree(ctx, &input, func_index, settings, budget, &tree),
    };
    if ctx.superseded() {
        return;
    }
    let compiled = match compile(ctx, &input, func_index, settings, budget, registers) {
        Ok(c) => c,
        Err(e) => return ctx.fail(false, e),
    };
    // The texts the code views show, for the link model made below.
    let vcode = compiled.trace.traced.trace.vcode_before.clone();
    let final_code = compiled.trace.code().map(|c| c.final_vcode.clone());
    ctx.send(Reply::Compiled {
        generation: ctx.generation,
        compiled: Box::new(compiled),
    });
    if ctx.superseded() {
        return;
    }
    let (extras, func) = extras(ctx, &input, func_index, settings);
    let wasm_text = extras.wasm_text.as_ref().ok().cloned();
    let translated = extras.clif_translated.as_ref().ok().cloned();
    ctx.send(Reply::Extras {
        generation: ctx.generation,
        extras: Box::new(extras),
    });
    if ctx.superseded() || input.wasm().is_none() {
        return;
    }
    let texts = LinkTexts {
        wasm: wasm_text.as_deref(),
        clif_translated: translated.as_deref(),
        vcode: vcode.as_deref(),
        final_code: final_code.as_deref(),
    };
    let link = link(ctx, &input, func_index, settings, func.as_ref(), texts);
    ctx.send(Reply::Linked {
        generation: ctx.generation,
        link,
    });
}

fn compile(
    ctx: &Ctx,
    input: &Input,
    func_index: u32,
    settings: Settings,
    budget: Budget,
    registers: RegisterCounts,
) -> Result<Compiled, String> {
    let label = input
        .functions
        .iter()
        .find(|f| f.index == func_index)
        .map(|f| f.label())
        .unwrap_or_else(|| format!("func[{func_index}]"));
    ctx.progress(match input.kind() {
        _ if settings.release != crate::engine::releases::Release::CRANELIFT => format!(
            "allocating {label} again with regalloc2 {} ({}), traced",
            settings.release,
            settings.algorithm.name()
        ),
        InputKind::Clif => format!("parsing CLIF of {label}"),
        _ => format!(
            "reading Wasmtime's settings for {label} ({}, opt {})",
            settings.target.name(),
            settings.opt.name()
        ),
    });
    let prepared = session::prepare(input, func_index, settings).map_err(|e| e.to_string())?;
    if ctx.superseded() {
        return Err("superseded".into());
    }
    ctx.progress(match input.kind() {
        InputKind::Clif => format!(
            "allocating registers ({}) with the trace on",
            settings.algorithm.name()
        ),
        _ => format!(
            "compiling {label} with Wasmtime's compiler, allocation ({}) traced",
            settings.algorithm.name()
        ),
    });
    let limits = budget.limits(prepared.default_limits());
    if !registers.is_full() {
        ctx.progress(format!(
            "allocating {label} again by regalloc2 alone with {}, traced",
            registers.text()
        ));
        let trace =
            session::trace_with_registers(input, prepared, registers, settings.allocator(), limits)
                .map_err(|e| e.to_string())?;
        ctx.progress("building the chart");
        let mut compiled = Compiled::from_trace(func_index, label, settings, trace);
        compiled.limit_registers(registers);
        return Ok(compiled);
    }
    let preview = Preview {
        ctx: ctx.clone(),
        func_index,
        label: label.clone(),
        settings,
        started: Instant::now(),
        last: None,
        building: Arc::new(AtomicBool::new(false)),
        timing: Arc::clone(&ctx.preview),
    };
    let trace = session::trace_prepared_watched(input, prepared, settings, limits, preview)
        .map_err(|e| e.to_string())?;
    if ctx.superseded() {
        return Err("superseded".into());
    }
    ctx.progress("building the chart");
    Ok(Compiled::from_trace(func_index, label, settings, trace))
}

/// Where a background thread's answer goes: the app's one command channel
/// (the app wraps the answer in its command and asks for a repaint).
pub type Deliver<T> = Arc<dyn Fn(T) + Send + Sync>;

/// Runs `work` on a thread of its own named `name` (the worker stays free
/// for compiles) and hands its answer to `deliver`. A thread that cannot
/// start answers with why, at once.
pub fn on_thread<T: Send + 'static>(
    name: &str,
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
    deliver: Deliver<Result<T, String>>,
) {
    let answer = Arc::clone(&deliver);
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || answer(work()));
    if let Err(e) = spawned {
        deliver(Err(format!("cannot start a thread ({name}): {e}")));
    }
}

/// The function allocated with `class` cut down count by count.
pub fn start_sweep(
    input: Arc<Input>,
    func_index: u32,
    settings: Settings,
    class: regalloc2::RegClass,
    deliver: Deliver<Result<Vec<SweepPoint>, String>>,
) {
    on_thread(
        "spillscope-sweep",
        move || {
            session::prepare(&input, func_index, settings)
                .and_then(|p| session::register_sweep(&input, &p, class, settings.allocator()))
                .map_err(|e| e.to_string())
        },
        deliver,
    )
}

/// The function allocated by every built-in regalloc2 release, each under
/// the function's default budget and [`DEADLINE`]. The table is delivered
/// after every release (its `pending` lists those to come), until `wanted`
/// says the app asked for another.
pub fn start_versions(
    input: Arc<Input>,
    func_index: u32,
    settings: Settings,
    wanted: impl Fn() -> bool + Send + 'static,
    deliver: Deliver<Result<crate::engine::releases::versions::Versions, String>>,
) {
    let partial = Arc::clone(&deliver);
    on_thread(
        "spillscope-versions",
        move || {
            let prepared =
                session::prepare(&input, func_index, settings).map_err(|e| e.to_string())?;
            let mut limits = prepared.default_limits();
            limits.deadline = Some(Instant::now() + auto_deadline(&limits));
            session::versions_each(&input, &prepared, settings.algorithm, limits, |so_far| {
                if !so_far.pending.is_empty() {
                    partial(Ok(so_far.clone()));
                }
                wanted()
            })
            .map_err(|e| e.to_string())
        },
        deliver,
    )
}

/// Runs the function twice as `a` and `b` say and compares them.
pub fn start_runs(
    input: Arc<Input>,
    func_index: u32,
    settings: Settings,
    (a, b): (String, String),
    pair: u64,
    deliver: Deliver<Result<Box<super::compiled::RunsPair>, String>>,
) {
    on_thread(
        "spillscope-runs",
        move || runs_pair(&input, func_index, settings, (&a, &b), pair),
        deliver,
    )
}

fn runs_pair(
    input: &Input,
    func_index: u32,
    settings: Settings,
    (a, b): (&str, &str),
    pair: u64,
) -> Result<Box<super::compiled::RunsPair>, String> {
    use crate::engine::runs::{self, RunSpec};
    let spec = |name: &str, text: &str| {
        RunSpec::parse(text).map_err(|e| format!("run {name} `{text}`: {e}"))
    };
    let (sa, sb) = (spec("a", a)?, spec("b", b)?);
    let ra = runs::run(input, func_index, settings, &sa).map_err(|e| e.to_string())?;
    let rb = runs::run(input, func_index, settings, &sb).map_err(|e| e.to_string())?;
    let report = runs::compare(&ra, &rb);
    let loaded = |run: runs::Run, spec: &RunSpec, second: bool| {
        let id = super::compiled::LoadedId::Run { pair, second };
        let mut c = Compiled::from_run(func_index, spec.settings(settings), run);
        c.limit_registers(spec.registers);
        let steps = c.trace.replay.len();
        super::compiled::Loaded::new(id, Box::new(c), steps)
    };
    Ok(Box::new(super::compiled::RunsPair {
        a: loaded(ra, &sa, false),
        b: loaded(rb, &sb, true),
        report,
    }))
}

/// When a running compile first shows its steps so far, and how often after,
/// in milliseconds; the app can change them ([`Worker::set_preview_timing`]).
pub struct PreviewTiming {
    first_ms: AtomicU64,
    every_ms: AtomicU64,
}

impl Default for PreviewTiming {
    fn default() -> Self {
        PreviewTiming {
            first_ms: AtomicU64::new(500),
            every_ms: AtomicU64::new(1500),
        }
    }
}

impl PreviewTiming {
    fn first(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.first_ms.load(Ordering::Relaxed))
    }
    fn every(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.every_ms.load(Ordering::Relaxed))
    }
}

/// Watches a traced compile in the app: stops it once a newer request
/// supersedes it, and now and then has the steps so far made into a
/// [`Compiled`] on a thread of its own (the compile goes on meanwhile) and
/// sent as [`Reply::Preview`], so a long allocation can be studied as it runs.
struct Preview {
    ctx: Ctx,
    func_index: u32,
    label: String,
    settings: Settings,
    started: Instant,
    last: Option<Instant>,
    /// A preview is being built; no new snapshot until it is sent.
    building: Arc<AtomicBool>,
    timing: Arc<PreviewTiming>,
}

impl StepObserver for Preview {
    fn start(&mut self, _: &StateDump, _: &[BundleId]) {}

    fn step(&mut self, _: &Step, _: &dyn Fn(RangeId) -> Option<VRegId>) -> bool {
        self.ctx.superseded()
    }

    fn wants_snapshot(&mut self) -> bool {
        if self.building.load(Ordering::Acquire) {
            return false;
        }
        match self.last {
            None => self.started.elapsed() >= self.timing.first(),
            Some(t) => t.elapsed() >= self.timing.every(),
        }
    }

    fn wants_all_steps(&self) -> bool {
        // Small functions finish before any preview is due.
        self.started.elapsed() >= self.timing.first()
    }

    fn all_steps(&mut self, trace: Trace) {
        self.send_preview(trace, true);
    }

    fn snapshot(&mut self, trace: Trace) {
        self.send_preview(trace, false);
    }
}

impl Preview {
    /// Builds the panels for `trace` on a thread of its own and sends them.
    /// `last`: every step is in it (the compile goes on with move insertion,
    /// the checker and emission).
    fn send_preview(&mut self, trace: Trace, last: bool) {
        self.last = Some(Instant::now());
        self.building.store(true, Ordering::Release);
        let (ctx, building) = (self.ctx.clone(), Arc::clone(&self.building));
        let (func_index, label, settings) = (self.func_index, self.label.clone(), self.settings);
        let spawned = std::thread::Builder::new()
            .name("spillscope-preview".into())
            .spawn(move || {
                let steps = trace.steps.len();
                let t = session::trace_so_far(label.clone(), settings.target, trace);
                let queued = t
                    .replay
                    .state_at(steps)
                    .bundles
                    .iter()
                    .filter(|b| b.status == crate::engine::replay::Status::Queued)
                    .count();
                let mut compiled = Compiled::from_trace(func_index, label, settings, t);
                compiled.running = true;
                if !ctx.superseded() {
                    ctx.progress(if last {
                        format!(
                            "all {steps} steps are here (step through them); regalloc2 inserts moves, its checker runs, the code is emitted"
                        )
                    } else {
                        format!(
                            "allocating with the trace on: {steps} steps so far, {queued} bundles queued (step through them while it runs)"
                        )
                    });
                    ctx.send(Reply::Preview {
                        generation: ctx.generation,
                        compiled: Box::new(compiled),
                    });
                }
                building.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.building.store(false, Ordering::Release);
        }
    }
}

/// The module's memory facts for the memory tab, as a reply for
/// `generation`; `None` for an input without a module (CLIF text).
pub fn layout_reply(generation: u64, input: &Input, presets: PresetChoice) -> Option<Reply> {
    let wasm = input.wasm()?;
    let layout = ModuleLayout::from_wasm(&input.path, wasm)
        .map(|module| Box::new(LayoutModel::new(module, presets)))
        .map_err(|e| e.to_string());
    Some(Reply::Layout { generation, layout })
}

/// Imports a regalloc2 log; if the same function's CLIF lies beside it,
/// allocates it with this build's regalloc2 to show how that ends.
fn open_log(ctx: &Ctx, source: Source, settings: Settings, budget: Budget) {
    ctx.progress(format!("reading the log {}", source.name()));
    let opened = match &source {
        Source::Path(p) => OpenedLog::read(p),
        Source::Bytes(p, b) => OpenedLog::from_bytes(p, b),
        Source::Sample => return,
    };
    let log = match opened {
        Ok(log) => log,
        Err(e) => return ctx.fail(true, e.to_string()),
    };
    if ctx.superseded() {
        return;
    }
    let mut info = LogInfo::of(&log);
    info.current = opening::clif_beside(&log.path).map(|clif| {
        ctx.progress(format!(
            "allocating {} with this build's regalloc2",
            clif.display()
        ));
        let r = opening::allocate_here(&clif, settings, |base| budget.limits(base))
            .map_err(|e| e.to_string());
        (clif, r)
    });
    ctx.progress("building the chart");
    let label = log.trace.label().to_string();
    let mut compiled = Compiled::from_trace(0, label, settings, log.trace);
    compiled.log = Some(info);
    ctx.send(Reply::LogOpened {
        generation: ctx.generation,
        source,
        compiled: Box::new(compiled),
    });
}

/// Reads a regalloc2 reproducer file and steps it with the release the
/// settings name.
fn open_reproducer(ctx: &Ctx, source: Source, settings: Settings, budget: Budget) {
    ctx.progress(format!(
        "reading the reproducer {} and allocating it with regalloc2 {}",
        source.name(),
        settings.release
    ));
    let limits = budget.limits(crate::engine::capture::CaptureLimits::default());
    let traced = match &source {
        Source::Path(p) => session::trace_reproducer(p, None, settings.allocator(), limits),
        Source::Bytes(p, b) => {
            session::trace_reproducer_bytes(p, b, None, settings.allocator(), limits)
        }
        Source::Sample => return,
    };
    let trace = match traced {
        Ok(t) => t,
        Err(e) => return ctx.fail(true, e.to_string()),
    };
    if ctx.superseded() {
        return;
    }
    ctx.progress("building the chart");
    let label = trace.label().to_string();
    let compiled = Compiled::from_trace(0, label, settings, trace);
    ctx.send(Reply::LogOpened {
        generation: ctx.generation,
        source,
        compiled: Box::new(compiled),
    });
}

/// The function allocated by a user's own regalloc2 (see [`Job::Tree`]).
fn step_tree(
    ctx: &Ctx,
    input: &Input,
    func_index: u32,
    settings: Settings,
    budget: Budget,
    path: &std::path::Path,
) {
    use crate::engine::compile::releases::tree::Tree;
    let tree = match Tree::open(path) {
        Ok(t) => t,
        Err(e) => return ctx.fail(false, e),
    };
    ctx.progress(format!(
        "building a runner against regalloc2 {} at {} (once; cached), then allocating",
        tree.version,
        tree.path.display()
    ));
    // Built (or found in the cache) before the time limit starts.
    if let Err(e) = crate::engine::compile::releases::tree::build_runner(&tree) {
        return ctx.fail(false, e);
    }
    ctx.progress(format!(
        "allocating with regalloc2 {} at {}",
        tree.version,
        tree.path.display()
    ));
    // Cranelift's own lowering, with the backtracking allocator the runner runs.
    let settings = Settings {
        release: Default::default(),
        algorithm: crate::engine::input::isa::Algorithm::Backtracking,
        ..settings
    };
    let traced = session::prepare(input, func_index, settings).and_then(|prepared| {
        let limits = budget.limits(prepared.default_limits());
        session::trace_tree(input, prepared, &tree, limits)
    });
    let trace = match traced {
        Ok(t) => t,
        Err(e) => return ctx.fail(false, e.to_string()),
    };
    if ctx.superseded() {
        return;
    }
    ctx.progress("building the chart");
    let label = format!(
        "{} (regalloc2 {} at {})",
        trace.label(),
        tree.version,
        tree.path.display()
    );
    let compiled = Compiled::from_trace(func_index, label, settings, trace);
    ctx.send(Reply::Compiled {
        generation: ctx.generation,
        compiled: Box::new(compiled),
    });
}

fn compare(
    ctx: &Ctx,
    input: &Input,
    module: &ModuleLayout,
    func_index: u32,
    profiles: &[Profile],
    settings: Settings,
) {
    ctx.progress(format!(
        "compiling function {func_index} under {} memory profiles",
        profiles.len()
    ));
    let (report, traces) = match effect::compare(input, module, func_index, profiles, settings) {
        Ok(r) => r,
        Err(e) => return ctx.fail(false, e.to_string()),
    };
    if ctx.superseded() {
        return;
    }
    ctx.progress("building the charts");
    let compiled = traces
        .into_iter()
        .zip(profiles)
        .map(|(t, p)| {
            t.map(|t| {
                let settings = Settings {
                    target: effect::target_for(p),
                    ..settings
                };
                let label = format!("{} — {}", report.function, p.name);
                Box::new(Compiled::from_trace(func_index, label, settings, t))
            })
        })
        .collect();
    ctx.send(Reply::Compared {
        generation: ctx.generation,
        report,
        compiled,
    });
}

fn extras(
    ctx: &Ctx,
    input: &Input,
    func_index: u32,
    settings: Settings,
) -> (Extras, Option<FuncText>) {
    let Some(wasm) = input.wasm() else {
        let text = "This input is CLIF text: there is no Wasm, and the translated CLIF is the file's own function.";
        return (
            Extras {
                wasm_text: Err(text.into()),
                clif_translated: Err(text.into()),
            },
            None,
        );
    };
    ctx.progress("printing the function as Wasm text");
    let func = func_text::function_text(&input.path, wasm, func_index).map_err(|e| e.to_string());
    let wasm_text = func.as_ref().map(FuncText::text).map_err(Clone::clone);
    if ctx.superseded() {
        return (
            Extras {
                wasm_text,
                clif_translated: Err("superseded".into()),
            },
            None,
        );
    }
    ctx.progress("translating again at opt level none for the CLIF as translated");
    let clif_translated =
        session::translated_clif(input, func_index, settings.target).map_err(|e| e.to_string());
    (
        Extras {
            wasm_text,
            clif_translated,
        },
        func.ok(),
    )
}

/// The link map of the function on screen (a compile of its own with
/// Cranelift's lowering records, see `session::link_map`), with its line
/// lookups over the texts the code views show: built here, off the UI thread.
fn link(
    ctx: &Ctx,
    input: &Input,
    func_index: u32,
    settings: Settings,
    func: Option<&FuncText>,
    texts: LinkTexts<'_>,
) -> Result<Box<LinkModel>, String> {
    ctx.progress("linking Wasm, CLIF, VCode and machine code (one more compile)");
    let prepared = session::prepare(input, func_index, settings).map_err(|e| e.to_string())?;
    let map = session::link_map_with(input, &prepared, settings, func, texts.clif_translated)
        .map_err(|e| e.to_string())?;
    Ok(Box::new(LinkModel::new(map, texts)))
}
