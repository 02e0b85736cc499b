//! Capturing regalloc2's `trace!` records during one compile, on one thread.
//!
//! The `log` logger is process-wide; ours answers `enabled()` with true only on a
//! thread inside [`capture`], so other compiles (and regalloc2's `log_enabled!`
//! state dumps) cost almost nothing elsewhere. Each record is formatted into one
//! reusable buffer and handed straight to a [`RecordSink`], which parses it into
//! compact events: no record is stored as a string.
//!
//! A capture can be stopped from inside the sink (record budget or deadline): the
//! logger then unwinds with a [`CaptureStop`] payload, which [`capture`] catches,
//! keeping everything recorded so far.

pub mod raw_log;

use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::sync::Once;
use std::time::Instant;

/// Where a record came from, by `log` target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Dump,
    Process,
    Spill,
    Merge,
    LiveRanges,
    Requirement,
    Moves,
    /// regalloc2's checker (it names the spill slots it sees).
    Checker,
    Other,
    /// cranelift-codegen's `machinst::compile` (VCode text, checker errors).
    Compile,
    /// cranelift-codegen's `machinst::lower`: each CLIF instruction lowered
    /// and the VCode instructions it emitted (only for a link map: they cost).
    Lower,
    /// Only the warnings and errors of [`Source::Compile`] (the checker's
    /// errors), delivered as `Compile`; never a record's own source.
    CompileErrors,
}

impl Source {
    /// Classifies a `log` target; `None` for targets nobody wants.
    pub fn from_target(target: &str) -> Option<Source> {
        if let Some(rest) = target.strip_prefix("regalloc2") {
            let rest = rest.strip_prefix("::ion::").unwrap_or(rest);
            return Some(match rest {
                "dump" => Source::Dump,
                "process" => Source::Process,
                "spill" => Source::Spill,
                "merge" => Source::Merge,
                "liveranges" => Source::LiveRanges,
                "requirement" => Source::Requirement,
                "moves" | "redundant_moves" => Source::Moves,
                "::checker" => Source::Checker,
                _ => Source::Other,
            });
        }
        if target == "cranelift_codegen::machinst::compile" {
            return Some(Source::Compile);
        }
        if target == "cranelift_codegen::machinst::lower" {
            return Some(Source::Lower);
        }
        None
    }
}

/// What a sink wants after seeing a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Continue,
    /// Stop the capture.
    Stop,
    /// Records from this call site are never of interest: the logger skips them
    /// from now on without formatting them. (A call site always logs the same
    /// message template; some, like regalloc2's dump of a register's whole
    /// allocation map on every probe, are costly to format.)
    IgnoreSite,
}

/// Receives every record of a capture, already formatted.
pub trait RecordSink: std::any::Any {
    /// One record.
    fn record(&mut self, source: Source, level: log::Level, message: &str) -> Verdict;
}

/// Why a capture stopped before the compile finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureStop {
    /// More records than the budget allowed.
    RecordBudget { records: u64 },
    /// The wall-clock limit passed.
    Deadline { elapsed_ms: u64 },
    /// The sink asked to stop.
    SinkStopped,
    /// The live loop detector was sure the allocation would not end.
    LoopDetected { steps: usize },
    /// The process's memory in use passed the budget ([`crate::memory`]).
    Memory { used: u64, budget: u64 },
}

impl std::fmt::Display for CaptureStop {
    /// In words, for reports and the app: "stopped after 34,000 regalloc2
    /// records (budget)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureStop::RecordBudget { records } => write!(
                f,
                "stopped after {} regalloc2 records (budget)",
                digits_grouped(*records)
            ),
            CaptureStop::Deadline { elapsed_ms } => write!(
                f,
                "stopped at the time limit, after {:.1} s",
                *elapsed_ms as f64 / 1000.0
            ),
            CaptureStop::SinkStopped => write!(f, "stopped: the record reader asked to stop"),
            CaptureStop::Memory { used, budget } => write!(
                f,
                "stopped at the memory budget: {} in use, over {} (--memory raises it)",
                crate::error::size_text(*used),
                crate::error::size_text(*budget)
            ),
            CaptureStop::LoopDetected { steps } => write!(
                f,
                "stopped: a loop was detected after {} steps",
                digits_grouped(*steps as u64)
            ),
        }
    }
}

/// `34000` → `34,000`.
pub fn digits_grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Limits of one capture.
#[derive(Clone, Copy, Debug)]
pub struct CaptureLimits {
    pub max_records: u64,
    pub deadline: Option<Instant>,
}

impl Default for CaptureLimits {
    fn default() -> Self {
        CaptureLimits {
            max_records: 50_000_000,
            deadline: None,
        }
    }
}

/// Which sources a capture wants, as a bit set over [`Source`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sources(pub u32);

impl Sources {
    /// Every source but lowering.
    pub const ALL: Sources = Sources(!(1 << Source::Lower as u32));
    /// Lowering and the compile's own records (VCode text): a link map.
    pub const LOWERING: Sources = Sources(1 << Source::Lower as u32 | 1 << Source::Compile as u32);
    /// Only the move-insertion records and Cranelift's errors: enough for the
    /// spill slots and the checker's verdict, without regalloc2's state dumps
    /// or the VCode text (formatting it costs a tenth of a compile).
    pub const SUMMARY_ONLY: Sources =
        Sources(1 << Source::Moves as u32 | 1 << Source::CompileErrors as u32);

    pub fn contains(self, s: Source) -> bool {
        self.0 & (1 << s as u32) != 0
    }
}

/// What the logger does with records from one call site, and whether they
/// are regalloc2's (which count towards the budget).
#[derive(Clone, Copy)]
struct Site {
    deliver: Option<Source>,
    allocator: bool,
}

/// A direct-mapped table from call site to [`Site`], with a map behind it for
/// collisions: one probe per record in the common case. Entries carry the
/// generation they were made in, so emptying the table is one increment: a
/// thread keeps its table from capture to capture ([`SPARE_SITES`]).
#[derive(Default)]
struct SiteCache {
    slots: Vec<Option<Slot>>,
    generation: u32,
    overflow: rustc_hash::FxHashMap<(usize, u32), Site>,
}

impl SiteCache {
    const SLOTS: usize = 4096;

    fn slot(key: (usize, u32)) -> usize {
        (key.1 as usize ^ (key.0 >> 3).wrapping_mul(31)) % Self::SLOTS
    }

    fn get(&self, key: (usize, u32)) -> Option<Site> {
        match self.slots.get(Self::slot(key)) {
            Some(Some((g, k, site))) if *g == self.generation && *k == key => Some(*site),
            _ => self.overflow.get(&key).copied(),
        }
    }

    fn insert(&mut self, key: (usize, u32), site: Site) {
        if self.slots.is_empty() {
            self.slots = vec![None; Self::SLOTS];
        }
        let generation = self.generation;
        let slot = &mut self.slots[Self::slot(key)];
        match slot {
            Some((g, k, s)) if *g == generation && *k == key => *s = site,
            Some((g, ..)) if *g == generation => {
                self.overflow.insert(key, site);
            }
            _ => *slot = Some((generation, key, site)),
        }
    }

    fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.slots.iter_mut().for_each(|s| *s = None);
        }
        self.overflow.clear();
    }
}

/// A table entry: its generation, the call site (file address, line), and
/// what to do with its records.
type Slot = (u32, (usize, u32), Site);

thread_local! {
    /// The site table of this thread's last capture, for its next one.
    static SPARE_SITES: RefCell<Option<SiteCache>> = const { RefCell::new(None) };
}

/// The source a record of `target` at `level` is delivered as, if `wanted`.
fn wanted_source(wanted: Sources, target: &str, level: log::Level) -> Option<Source> {
    match Source::from_target(target)? {
        Source::Compile
            if !wanted.contains(Source::Compile)
                && wanted.contains(Source::CompileErrors)
                && level <= log::Level::Warn =>
        {
            Some(Source::Compile)
        }
        s if wanted.contains(s) => Some(s),
        _ => None,
    }
}

struct Active {
    sink: Box<dyn RecordSink>,
    wanted: Sources,
    /// Call sites (file address, line) already classified. A call site always
    /// logs the same target and message template, so classifying it once saves
    /// the target comparison, and for sites the sink ignores, the formatting.
    sites: SiteCache,
    buf: String,
    records: u64,
    limits: CaptureLimits,
    started: Instant,
}

impl Active {
    fn site(&mut self, record: &log::Record) -> (Site, Option<(usize, u32)>) {
        let key = record
            .file_static()
            .zip(record.line())
            .map(|(f, l)| (f.as_ptr() as usize, l));
        if let Some(k) = key
            && let Some(site) = self.sites.get(k)
        {
            return (site, key);
        }
        let target = record.target();
        let site = Site {
            deliver: wanted_source(self.wanted, target, record.level()),
            allocator: target.starts_with("regalloc2"),
        };
        if let Some(k) = key {
            self.sites.insert(k, site);
        }
        (site, key)
    }

    /// Handles one record; `Some` when the capture must stop.
    fn log(&mut self, record: &log::Record) -> Option<CaptureStop> {
        // A capture that only counts (an allocation under a budget) needs no
        // site table: every regalloc2 record counts, none is delivered.
        if self.wanted.0 == 0 {
            if !record.target().starts_with("regalloc2") {
                return None;
            }
            self.records += 1;
            return self.over_limits();
        }
        let (site, key) = self.site(record);
        // Only regalloc2's records count: the budget is the allocator's, and
        // the rest of the compile (translation, e-graph, lowering) logs too.
        let allocator = site.allocator;
        if allocator {
            self.records += 1;
        }
        if let Some(source) = site.deliver {
            self.buf.clear();
            let _ = write!(self.buf, "{}", record.args());
            match self.sink.record(source, record.level(), &self.buf) {
                Verdict::Continue => {}
                Verdict::Stop => return Some(CaptureStop::SinkStopped),
                Verdict::IgnoreSite => {
                    if let Some(k) = key {
                        self.sites.insert(
                            k,
                            Site {
                                deliver: None,
                                allocator,
                            },
                        );
                    }
                }
            }
        }
        // Stop only inside regalloc2: unwinding out of Cranelift's code
        // emission trips its drops' debug assertions and aborts the process.
        if !allocator {
            return None;
        }
        self.over_limits()
    }

    /// After a regalloc2 record: the budget, every 4096th record the
    /// deadline and the memory budget.
    fn over_limits(&self) -> Option<CaptureStop> {
        if self.records >= self.limits.max_records {
            return Some(CaptureStop::RecordBudget {
                records: self.records,
            });
        }
        // Reading the clock on every record would dominate; every 4096th is enough.
        if !self.records.is_multiple_of(4096) {
            return None;
        }
        if let Some(deadline) = self.limits.deadline
            && Instant::now() >= deadline
        {
            return Some(CaptureStop::Deadline {
                elapsed_ms: self.started.elapsed().as_millis() as u64,
            });
        }
        crate::memory::over_budget().map(|(used, budget)| CaptureStop::Memory { used, budget })
    }
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
}

struct CaptureLogger;

static LOGGER: CaptureLogger = CaptureLogger;
static INSTALL: Once = Once::new();
/// Whether `install` made the capture logger the process's logger.
static LOGGER_OURS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl log::Log for CaptureLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        ACTIVE.with(|a| {
            a.try_borrow().is_ok_and(|g| {
                g.as_ref().is_some_and(|active| {
                    wanted_source(active.wanted, metadata.target(), metadata.level()).is_some()
                })
            })
        })
    }

    fn log(&self, record: &log::Record) {
        // One thread-local access per record; other threads find `None`.
        let stop = ACTIVE.with(|a| {
            let mut guard = a.try_borrow_mut().ok()?;
            guard.as_mut()?.log(record)
        });
        if let Some(stop) = stop {
            // Nothing more is recorded on the way out.
            ACTIVE.with(|a| {
                if let Ok(mut g) = a.try_borrow_mut()
                    && let Some(active) = g.as_mut()
                {
                    active.wanted = Sources(0);
                    active.limits.max_records = u64::MAX;
                    active.limits.deadline = None;
                    active.sites.clear();
                }
            });
            std::panic::panic_any(stop);
        }
    }

    fn flush(&self) {}
}

/// Captures running in the process; the log level is `Trace` while any runs.
static ACTIVE_CAPTURES: std::sync::Mutex<usize> = std::sync::Mutex::new(0);

/// Raises the global log level for the life of a capture.
struct LevelGuard;

impl LevelGuard {
    fn raise() -> LevelGuard {
        let mut n = ACTIVE_CAPTURES.lock().unwrap_or_else(|p| p.into_inner());
        *n += 1;
        log::set_max_level(log::LevelFilter::Trace);
        LevelGuard
    }
}

impl Drop for LevelGuard {
    fn drop(&mut self) {
        let mut n = ACTIVE_CAPTURES.lock().unwrap_or_else(|p| p.into_inner());
        *n -= 1;
        if *n == 0 {
            log::set_max_level(log::LevelFilter::Off);
        }
    }
}

/// Why captures cannot see regalloc2's records in this process.
pub const LOGGER_TAKEN: &str = "another `log` logger was installed in this process before spillscope's, so regalloc2's trace records cannot be captured";

/// Installs the capture logger (once per process) and a panic hook that stays
/// quiet for capture stops. Safe to call many times. An error when another
/// logger owns the process: no capture can work then.
pub fn install() -> Result<(), &'static str> {
    INSTALL.call_once(|| {
        // The level stays `Off` outside captures, so compiles that nobody
        // traces pay one atomic load per `trace!` call and nothing more.
        if log::set_logger(&LOGGER).is_ok() {
            LOGGER_OURS.store(true, std::sync::atomic::Ordering::Release);
        }
        // Wasmtime's parallel compile runs on rayon's global pool, and a panic
        // there reaches the caller, which catches and reports it (a module
        // Wasmtime cannot compile for riscv64, say): those threads stay quiet.
        // If something built the pool first, its threads print as before.
        let _ = rayon::ThreadPoolBuilder::new()
            .start_handler(|_| QUIET.with(|q| q.set(true)))
            .build_global();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<CaptureStop>().is_some() || quiet_panics() {
                return;
            }
            previous(info);
        }));
    });
    if LOGGER_OURS.load(std::sync::atomic::Ordering::Acquire) {
        Ok(())
    } else {
        Err(LOGGER_TAKEN)
    }
}

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

fn quiet_panics() -> bool {
    QUIET.with(|q| q.get())
}

/// Runs `f`, keeping the panic hook quiet on this thread: for compiles whose
/// panics are caught and reported as errors.
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    let before = QUIET.with(|q| q.replace(true));
    let r = f();
    QUIET.with(|q| q.set(before));
    r
}

/// The result of the captured closure.
pub enum CaptureOutcome<R> {
    Finished(R),
    Stopped(CaptureStop),
    Panicked(String),
    /// Nothing ran: another `log` logger owns this process, so regalloc2's
    /// records cannot be seen (the message says so).
    NoLogger(String),
}

/// Runs `f` on this thread with every regalloc2 record sent to `sink`, and gives
/// the sink back with the number of records it saw.
pub fn capture<S: RecordSink, R>(
    sink: S,
    limits: CaptureLimits,
    f: impl FnOnce() -> R,
) -> (CaptureOutcome<R>, S, u64) {
    capture_sources(sink, limits, Sources::ALL, f)
}

/// [`capture`] restricted to some sources.
pub fn capture_sources<S: RecordSink, R>(
    sink: S,
    limits: CaptureLimits,
    sources: Sources,
    f: impl FnOnce() -> R,
) -> (CaptureOutcome<R>, S, u64) {
    if let Err(why) = install() {
        return (CaptureOutcome::NoLogger(why.into()), sink, 0);
    }
    let _level = LevelGuard::raise();
    ACTIVE.with(|a| {
        *a.borrow_mut() = Some(Active {
            sink: Box::new(sink),
            wanted: sources,
            sites: SPARE_SITES
                .with(|s| s.borrow_mut().take())
                .map(|mut sites| {
                    sites.clear();
                    sites
                })
                .unwrap_or_default(),
            buf: String::with_capacity(256),
            records: 0,
            limits,
            started: Instant::now(),
        })
    });
    let result = quietly(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    let active = ACTIVE
        .with(|a| a.borrow_mut().take())
        .expect("the capture state is set above and only cleared here");
    let records = active.records;
    SPARE_SITES.with(|s| *s.borrow_mut() = Some(active.sites));
    let sink: Box<dyn std::any::Any> = active.sink;
    let sink = *sink
        .downcast::<S>()
        .expect("the sink stored above has type S");
    let outcome = match result {
        Ok(r) => CaptureOutcome::Finished(r),
        Err(payload) => match payload.downcast::<CaptureStop>() {
            Ok(stop) => CaptureOutcome::Stopped(*stop),
            Err(payload) => CaptureOutcome::Panicked(panic_message(&payload)),
        },
    };
    (outcome, sink, records)
}

/// The text of a panic payload.
pub fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        crate::error::plain(s)
    } else if let Some(s) = payload.downcast_ref::<String>() {
        crate::error::plain(s)
    } else {
        "panic with a non-text payload".into()
    }
}

#[cfg(test)]
mod tests {
    use super::CaptureStop;

    #[test]
    fn stops_read_as_words() {
        let budget = CaptureStop::RecordBudget { records: 34_000 };
        assert_eq!(
            budget.to_string(),
            "stopped after 34,000 regalloc2 records (budget)"
        );
        let deadline = CaptureStop::Deadline { elapsed_ms: 60_004 };
        assert_eq!(
            deadline.to_string(),
            "stopped at the time limit, after 60.0 s"
        );
        let looped = CaptureStop::LoopDetected { steps: 1234 };
        assert_eq!(
            looped.to_string(),
            "stopped: a loop was detected after 1,234 steps"
        );
    }
}
