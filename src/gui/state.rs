//! The app's state: what is open and on screen ([`App`]), what survives a
//! restart ([`Persisted`]) and the panels' own view state ([`ViewState`]).
//! Read-only accessors live here (the tests use them). Every change to what
//! is open, compiled or shown goes through `App::apply` in `gui/apply.rs`;
//! the panels edit in place only their own view state in [`ViewState`] (the
//! text being typed, scroll and zoom), and each gets just the fields it draws.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::engine::compile::realloc::{RegisterCounts, SweepPoint};
use crate::engine::input::Input;
use crate::engine::layout::Profile;
use crate::engine::replay::diagnose::Diagnosis;
use crate::engine::replay::moves::MoveReport;
use crate::engine::replay::query::StepQuery;
use crate::engine::session::Settings;
use crate::engine::trace::BundleId;

use super::chart::ChartView;
use super::chart_model::RowMode;
use super::code_views::CodeFollow;
use super::command::Command;
use super::compiled::{Loaded, RunsPair};
use super::layout_model::{LayoutState, LayoutViewState};
use super::tabs::{CentralTab, CodeTab, SideTab};
use super::worker::{Budget, Source, Worker};

/// What survives a restart.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Persisted {
    /// `None` for the built-in sample.
    pub path: Option<PathBuf>,
    pub func: Option<String>,
    pub settings: Settings,
    pub row_mode: RowMode,
    pub speed_steps_per_s: f32,
    #[serde(default)]
    pub budget: Budget,
    #[serde(default)]
    pub code_layout: super::tabs::CodeLayout,
}

/// A bug bundle's export in progress, shared with its thread.
#[derive(Clone, Default)]
pub struct ExportWatch {
    /// regalloc2's log so far: bytes and records.
    pub bytes: Arc<std::sync::atomic::AtomicU64>,
    pub records: Arc<std::sync::atomic::AtomicU64>,
    /// Set by Cancel; the export stops at its next progress report.
    pub cancel: Arc<std::sync::atomic::AtomicBool>,
}

/// The key of [`Persisted`] in eframe's storage.
pub const STORAGE_KEY: &str = "spillscope";

/// A request on the worker.
pub struct Busy {
    pub stage: String,
    pub started: Instant,
}

/// The Compare runs tab: its answer, the thread making it, the two charts'
/// views.
#[derive(Default)]
pub struct RunsState {
    /// `None` while it runs.
    pub result: Option<Result<Box<RunsPair>, String>>,
    /// The pair is being computed.
    pub(super) running: bool,
    pub view_a: ChartView,
    pub view_b: ChartView,
    /// The single-pass charts' views, for a single-pass run.
    pub sp_a: super::single_pass_view::SpView,
    pub sp_b: super::single_pass_view::SpView,
    /// The window both charts showed last frame (to follow a pan of either).
    pub shown: Option<(f32, f32)>,
}

/// The register-count sweep of one function (the Registers tab's plot).
#[derive(Default)]
pub struct SweepState {
    /// The function, settings and class it is for.
    pub key: Option<(u32, Settings, regalloc2::RegClass)>,
    /// `None` while it runs.
    pub result: Option<Result<Vec<SweepPoint>, String>>,
}

impl SweepState {
    /// A sweep was asked for and has not answered.
    pub fn running(&self) -> bool {
        self.key.is_some() && self.result.is_none()
    }
}

/// The function allocated by every built-in regalloc2 release (the Releases
/// tab).
#[derive(Default)]
pub struct VersionsState {
    /// The function and settings it is for (the release left at its
    /// default: every release runs).
    pub key: Option<(u32, Settings)>,
    /// `None` until the first release answers; then the table so far (its
    /// `pending` lists the releases still to run).
    pub result: Option<Result<crate::engine::releases::versions::Versions, String>>,
    /// Set to stop the run when another is asked for.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl VersionsState {
    /// Asked for and not wholly answered.
    pub fn running(&self) -> bool {
        self.key.is_some()
            && match &self.result {
                None => true,
                Some(Ok(v)) => !v.pending.is_empty(),
                Some(Err(_)) => false,
            }
    }

    /// The key for the function `func` with `settings`.
    pub fn key_for(func: u32, settings: Settings) -> (u32, Settings) {
        (
            func,
            Settings {
                release: Default::default(),
                ..settings
            },
        )
    }
}

/// The step search: its text, what it parsed to, the matching steps.
#[derive(Default)]
pub struct FindState {
    pub text: String,
    /// `None` when the text is empty.
    pub query: Option<Result<StepQuery, String>>,
    /// 0-based indices of the matching steps of the compile on screen.
    pub matches: Vec<usize>,
    /// Play stops at a matching step.
    pub break_on: bool,
    /// The step list shows the matching steps only.
    pub filter: bool,
}

/// View state that only panels care about (not part of the model).
pub struct ViewState {
    pub filter: String,
    pub path_text: String,
    pub tab: CodeTab,
    pub code_follow: CodeFollow,
    /// Tabs or columns, and which views the columns show.
    pub code_layout: super::tabs::CodeLayout,
    /// Each column's scroll state.
    pub column_follow: [CodeFollow; 3],
    pub chart: ChartView,
    /// The single-pass chart's zoom.
    pub sp_view: super::single_pass_view::SpView,
    /// Set when the file dialog could not be shown: focus the path field.
    pub focus_path_field: bool,
    pub dialog_note: Option<String>,
    /// Scroll the event list to the cursor on the next frame.
    pub scroll_events: bool,
    /// Which list the right panel shows under the summary.
    pub side: SideTab,
    pub layout: LayoutViewState,
    pub find: FindState,
    /// The function list in size order (largest first) instead of index order.
    pub functions_by_size: bool,
    /// The register counts being edited in the Registers tab.
    pub registers_edit: RegisterCounts,
    /// The step panel tells each step plainly, with a glossary.
    pub teaching: bool,
    /// The two run specs of the Compare runs tab.
    /// The Releases tab's path of a user's own regalloc2 source tree.
    pub tree_path: String,
    pub runs_a: String,
    pub runs_b: String,
    /// The selection the function list last scrolled to.
    pub functions_scrolled_to: Option<u32>,
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            filter: String::new(),
            path_text: String::new(),
            tab: CodeTab::VCode,
            code_follow: CodeFollow::default(),
            code_layout: Default::default(),
            column_follow: Default::default(),
            chart: ChartView::default(),
            sp_view: Default::default(),
            focus_path_field: false,
            dialog_note: None,
            scroll_events: false,
            side: SideTab::default(),
            layout: LayoutViewState::default(),
            find: FindState::default(),
            functions_by_size: false,
            registers_edit: RegisterCounts::default(),
            teaching: false,
            tree_path: String::new(),
            runs_a: String::new(),
            runs_b: "registers=int:6".into(),
            functions_scrolled_to: None,
        }
    }
}

/// The app: state and the worker handle. `App::new` and `App::apply` are in
/// `gui/apply.rs`, `App::ui` in `gui/frame.rs`.
pub struct App {
    pub(super) worker: Worker,
    /// The egui context, once the first frame has run: the worker and the
    /// dialog thread ask it for repaints.
    pub(super) repaint_ctx: Arc<OnceLock<egui::Context>>,
    /// The newest request's number; replies from older ones are ignored.
    pub(super) generation: u64,
    pub(super) busy: Option<Busy>,
    /// Previews of running compiles shown (see `showing_preview`).
    pub(super) previews_shown: usize,
    /// Compare runs pairs started, which number them.
    pub(super) runs_started: u64,
    /// The open file and where it came from.
    pub(super) source: Option<Source>,
    pub(super) input: Option<Arc<Input>>,
    pub(super) loaded: Option<Loaded>,
    /// The function chosen in the list (compiled or being compiled).
    pub(super) selected: Option<u32>,
    pub(super) settings: Settings,
    pub(super) row_mode: RowMode,
    pub(super) error: Option<String>,
    pub(super) playing: bool,
    pub(super) speed_steps_per_s: f32,
    /// Steps owed to playback: fractions of a step carried between frames.
    pub(super) play_debt: f32,
    /// The file dialog is open (its answer comes as `DialogClosed`).
    pub(super) dialog_open: bool,
    /// The one channel every background thread answers on (the worker, the
    /// dialog, sweeps, runs, exports, measurements), polled once a frame.
    pub(super) inbox: std::sync::mpsc::Receiver<Command>,
    pub(super) inbox_tx: std::sync::mpsc::Sender<Command>,
    pub view: ViewState,
    /// How long the last request took, for the status line.
    pub(super) last_elapsed_ms: Option<u128>,
    pub(super) fonts_installed: bool,
    /// The open module's memory layout (Wasm inputs).
    pub(super) layout: LayoutState,
    /// A code-effect compile waits for the worker to finish its current job.
    pub(super) compare_wanted: bool,
    /// What the compare on the worker was asked for.
    pub(super) pending_compare: Option<(u32, Vec<Profile>, Settings)>,
    /// How long an allocation may run.
    pub(super) budget: Budget,
    /// Where the cursor goes when the first compile arrives.
    pub(super) start_step: Option<usize>,
    /// Registers per class for the next compile (all of them unless the
    /// user cut some in the Registers tab).
    pub(super) registers: RegisterCounts,
    pub(super) sweep: SweepState,
    pub(super) versions: VersionsState,
    /// Counts to allocate with once the first compile arrives.
    pub(super) start_registers: Option<RegisterCounts>,
    pub(super) runs: RunsState,
    /// Exports go here without a dialog when set.
    pub(super) export_dir: Option<PathBuf>,
    /// A memory measurement is being made.
    pub(super) measuring: bool,
    /// A measurement asked for while the worker compiled: it starts when the
    /// worker is idle, since a measurement reads the process's new mappings
    /// and a compile's would be counted in.
    pub(super) measure_wanted: bool,
    /// A request made during a measurement, sent when it ends.
    pub(super) deferred: Option<(super::worker::Job, String)>,
    /// The Corpus window's gate report.
    pub(super) corpus: Option<super::corpus_view::CorpusState>,
    /// A bug bundle being written: its log so far, and the flag that
    /// cancels it.
    pub(super) exporting: Option<ExportWatch>,
    /// A compile was stopped and the worker has not yet said it let go.
    pub(super) draining: bool,
    /// Compare runs to start once this function has compiled (a Corpus
    /// row opened another module).
    pub(super) runs_after_open: Option<(u32, String, String)>,
    /// A big function a restart reopened without tracing it, and its body
    /// size: the central panel asks before tracing it.
    pub(super) held: Option<(u32, u32)>,
}

impl App {
    /// Steps applied so far, and the number of steps; `None` before a compile.
    pub fn cursor(&self) -> Option<(usize, usize)> {
        self.loaded.as_ref().map(|l| (l.cursor, l.steps()))
    }

    /// Whether the link map of the compile on screen is ready.
    pub fn link_ready(&self) -> bool {
        self.loaded.as_ref().is_some_and(|l| l.link().is_some())
    }

    /// The selected link entry in words (`@008d call $tick`).
    pub fn selected_link(&self) -> Option<String> {
        let l = self.loaded.as_ref()?;
        Some(l.link()?.describe(l.selected?))
    }

    /// The lines (0-based) `tab` marks: the selection's, and the current
    /// step's bundle's uses.
    pub fn code_marks(&self, tab: CodeTab) -> (Vec<usize>, Vec<usize>) {
        self.loaded
            .as_ref()
            .map(|l| super::code_views::marked_lines(tab, l))
            .unwrap_or_default()
    }

    /// The move selected in the Moves list (its index).
    pub fn selected_move(&self) -> Option<usize> {
        self.loaded.as_ref().and_then(|l| l.selected_move)
    }

    /// The code tab on screen.
    pub fn code_tab(&self) -> CodeTab {
        self.view.tab
    }

    /// The moves of the compile on screen, with their causes.
    pub fn moves(&self) -> Option<&MoveReport> {
        self.loaded.as_ref().map(|l| &l.compiled.moves)
    }

    /// How step `k` (1-based) ended: `allocated`, `split`, `spilled`.
    pub fn step_outcome(&self, k: usize) -> Option<&'static str> {
        let l = self.loaded.as_ref()?;
        Some(
            l.compiled
                .trace
                .replay
                .steps()
                .get(k.checked_sub(1)?)?
                .outcome
                .name(),
        )
    }

    /// The one-line headline of step `k` (1-based), as the step list shows it.
    pub fn step_headline(&self, k: usize) -> Option<&str> {
        let l = self.loaded.as_ref()?;
        l.compiled
            .headlines
            .get(k.checked_sub(1)?)
            .map(String::as_str)
    }

    /// The function a restart reopened but did not trace (too big to
    /// trace without asking).
    pub fn held_function(&self) -> Option<u32> {
        self.held.map(|(f, _)| f)
    }

    /// The functions of the open input.
    pub fn function_count(&self) -> usize {
        self.input.as_ref().map_or(0, |i| i.functions.len())
    }

    /// The Memory tab's last draw: its narrowest region band (points), and
    /// the Differences list's height against the tab's.
    pub fn layout_drawn(&self) -> Option<(f32, f32, f32)> {
        let ctx = self.repaint_ctx.get()?;
        let narrowest: f32 =
            ctx.data(|d| d.get_temp(egui::Id::unique(super::tabs::NARROWEST_REGION)))?;
        let (rect, tab): (egui::Rect, f32) =
            ctx.data(|d| d.get_temp(egui::Id::unique(super::tabs::DIFFERENCES_RECT)))?;
        Some((narrowest, rect.height(), tab))
    }

    /// Where the Registers tab last drew its sweep plot.
    pub fn sweep_plot(&self) -> Option<egui::Rect> {
        let ctx = self.repaint_ctx.get()?;
        ctx.data(|d| d.get_temp(egui::Id::unique(super::tabs::SWEEP_PLOT_RECT)))
    }

    /// Where the allocator chart last drew its register-pressure strip.
    pub fn pressure_strip(&self) -> Option<egui::Rect> {
        self.view.chart.pressure_strip()
    }

    /// How the code panel lays out its views.
    pub fn code_layout(&self) -> super::tabs::CodeLayout {
        self.view.code_layout
    }

    /// Whether a bug bundle is being written.
    pub fn is_exporting(&self) -> bool {
        self.exporting.is_some()
    }

    /// The record budget and time limit the next compile uses.
    pub fn budget(&self) -> super::worker::Budget {
        self.budget
    }

    /// The steps (1-based) that match the step search.
    pub fn find_matches(&self) -> Vec<usize> {
        self.view.find.matches.iter().map(|i| i + 1).collect()
    }

    /// The bundle of the step just applied, outlined in the chart.
    pub fn highlighted_bundle(&self) -> Option<BundleId> {
        self.loaded.as_ref().and_then(|l| l.focus.bundle)
    }

    /// The registers the allocation on screen kept (all of them for a
    /// compile).
    pub fn loaded_registers(&self) -> Option<RegisterCounts> {
        self.loaded.as_ref().map(|l| l.compiled.registers)
    }

    /// The Corpus window's report: its rows in the order shown (module,
    /// function index), while the window is open.
    pub fn corpus_rows(&self) -> Option<Vec<(String, u32)>> {
        let c = self.corpus.as_ref().filter(|c| c.open)?;
        Some(c.rows.iter().map(|r| (r.module.clone(), r.index)).collect())
    }

    /// The two run specs of the Compare runs tab.
    pub fn runs_specs(&self) -> (&str, &str) {
        (&self.view.runs_a, &self.view.runs_b)
    }

    /// The regalloc2 release whose allocation is on screen (none for a log).
    pub fn loaded_release(&self) -> Option<crate::engine::releases::Release> {
        self.loaded
            .as_ref()
            .and_then(|l| l.compiled.trace.traced.trace.release)
    }

    /// The Releases tab's table, once done.
    pub fn versions(&self) -> Option<&Result<crate::engine::releases::versions::Versions, String>> {
        self.versions.result.as_ref()
    }

    /// The register sweep on screen: its class and points, once done.
    pub fn sweep(&self) -> Option<(regalloc2::RegClass, &Result<Vec<SweepPoint>, String>)> {
        Some((self.sweep.key?.2, self.sweep.result.as_ref()?))
    }

    /// The Memory tab's measurement: for each memory under each host
    /// Wasmtime profile, whether Wasmtime mapped what the model says.
    pub fn layout_measured(&self) -> Option<Vec<(String, u32, bool)>> {
        let m = self.layout.model()?;
        let rows = m.measured.as_ref()?.1.as_ref().ok()?;
        Some(
            rows.iter()
                .map(|r| (r.profile.clone(), r.memory, r.equal))
                .collect(),
        )
    }

    /// The toolbar's note (where an export went, why a dialog failed).
    pub fn note(&self) -> Option<&str> {
        self.view.dialog_note.as_deref()
    }

    /// The Compare runs tab's comparison, once made.
    pub fn runs_report(&self) -> Option<&Result<Box<RunsPair>, String>> {
        self.runs.result.as_ref()
    }

    /// The program points the Compare runs tab's two charts show.
    pub fn runs_windows(&self) -> ((f32, f32), (f32, f32)) {
        (self.runs.view_a.x_range(), self.runs.view_b.x_range())
    }

    /// The values whose rows the Compare runs tab's two charts show whole.
    pub fn runs_shown_vregs(
        &self,
    ) -> (
        &[crate::engine::trace::VRegId],
        &[crate::engine::trace::VRegId],
    ) {
        (
            self.runs.view_a.shown_vregs(),
            self.runs.view_b.shown_vregs(),
        )
    }

    /// When a running compile first shows its steps so far, and how often
    /// after (half a second, then every 1.5 s, unless changed).
    pub fn set_preview_timing(&self, first: std::time::Duration, every: std::time::Duration) {
        self.worker.set_preview_timing(first, every);
    }

    /// Previews of running compiles shown so far (the steps so far of an
    /// allocation, before its compile ended).
    pub fn previews_shown(&self) -> usize {
        self.previews_shown
    }

    /// Whether the trace on screen is the steps so far of a compile still
    /// running.
    pub fn showing_preview(&self) -> bool {
        self.loaded.as_ref().is_some_and(|l| l.compiled.running)
    }

    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
    }

    /// The number of the newest request on the worker: its replies carry it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The error banner's text.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The label of the compiled function on screen.
    pub fn loaded_function(&self) -> Option<&str> {
        self.loaded.as_ref().map(|l| l.compiled.label.as_str())
    }

    /// The loop verdict on the trace on screen.
    pub fn diagnosis(&self) -> Option<&Diagnosis> {
        self.loaded.as_ref().map(|l| &l.compiled.diagnosis)
    }

    /// Whether the trace on screen was stopped before the allocation ended.
    pub fn trace_stopped(&self) -> bool {
        self.loaded
            .as_ref()
            .is_some_and(|l| l.compiled.trace.traced.trace.stopped.is_some())
    }

    /// The path (or sample name) of the open file.
    pub fn open_file(&self) -> Option<String> {
        self.source.as_ref().map(Source::name)
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// The settings of the compile on screen.
    pub fn loaded_settings(&self) -> Option<Settings> {
        self.loaded.as_ref().map(|l| l.compiled.settings)
    }

    /// Rows of the chart: per vreg or per register.
    pub fn row_mode(&self) -> RowMode {
        self.row_mode
    }

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    pub fn central_tab(&self) -> CentralTab {
        self.view.layout.central
    }

    /// The memory tab's difference sentences.
    pub fn layout_differences(&self) -> Vec<String> {
        self.layout.model().map_or_else(Vec::new, |m| {
            m.report
                .differences
                .iter()
                .map(|d| d.text.clone())
                .collect()
        })
    }

    /// Why the open module's memory layout could not be read, if it could not.
    pub fn layout_error(&self) -> Option<&str> {
        match &self.layout {
            LayoutState::Failed(message) => Some(message),
            _ => None,
        }
    }

    /// Keys of the profiles in the memory tab.
    pub fn layout_profiles(&self) -> Vec<String> {
        self.layout.model().map_or_else(Vec::new, |m| {
            m.profiles.iter().map(|p| p.key.clone()).collect()
        })
    }

    /// The code-effect table's rows: profile key and bounds checks (None when
    /// the row did not compile).
    pub fn layout_effects(&self) -> Option<Vec<(String, Option<u32>)>> {
        let e = self.layout.model()?.effects.as_ref()?;
        Some(
            e.report
                .rows
                .iter()
                .map(|r| (r.profile.clone(), r.effect().map(|e| e.bounds_checks)))
                .collect(),
        )
    }

    /// What to remember for the next run.
    pub fn persisted(&self) -> Persisted {
        let path = match &self.source {
            Some(Source::Path(p)) => Some(p.clone()),
            _ => None,
        };
        // A function held back at the start is still the one open.
        let func = self
            .loaded
            .as_ref()
            .map(|l| l.compiled.func_index)
            .or(self.held.map(|(f, _)| f))
            .map(|f| f.to_string());
        Persisted {
            path,
            func,
            settings: self.settings,
            row_mode: self.row_mode,
            speed_steps_per_s: self.speed_steps_per_s,
            budget: self.budget,
            code_layout: self.view.code_layout,
        }
    }
}
