//! The desktop front end (eframe/egui) over the engine.
//!
//! [`App`] holds the state; each panel lives in its own file and only draws
//! state and produces [`Command`]s; [`App::apply`] is the one place that moves
//! the replay cursor, changes the selection or the settings and opens files.
//! Compiles run on the [`worker`].

pub mod chart;
pub mod code_views;
pub mod events;
pub mod explain_panel;
pub mod function_list;
pub mod layout_view;
pub mod lineage;
pub mod open;
pub mod stepper;
pub mod summary;
pub mod worker;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::engine::input::Input;
use crate::engine::input::isa::Target;
use crate::engine::layout::Profile;
use crate::engine::layout::model::ModuleLayout;
use crate::engine::replay::State;
use crate::engine::session::Settings;
use crate::engine::trace::BundleId;

use chart::{ChartView, Focus, RowMode};
use code_views::CodeTab;
use layout_view::{CentralTab, Effects, LayoutModel, LayoutViewState, PresetChoice};
use worker::{Budget, Compiled, Extras, Job, Reply, Source, Worker};

/// Everything that changes the model: UI code produces these, [`App::apply`]
/// applies them.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    StepForward,
    StepBack,
    /// Show the state after this many steps.
    Jump(usize),
    First,
    Last,
    TogglePlay,
    /// Playback speed in steps per second.
    SetSpeed(f32),
    SelectFunction(u32),
    SetSettings(Settings),
    OpenPath(PathBuf),
    OpenBytes(PathBuf, Vec<u8>),
    OpenSample,
    /// Ask the system file dialog (on a thread; it may be unavailable).
    OpenDialog,
    DismissError,
    /// Show the allocator view or the memory layout.
    SetCentral(CentralTab),
    /// Turn preset memory profiles on or off.
    SetPresets(PresetChoice),
    /// Replace a profile (same key) with edited knobs.
    EditProfile(Profile),
    /// Drop a profile's edits.
    ResetProfile(String),
    /// Show row `n` of the code-effect table in the allocator view.
    OpenProfileTrace(usize),
    /// Change the allocation budget and compile again.
    SetBudget(Budget),
}

/// What survives a restart.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
struct Persisted {
    /// `None` for the built-in sample.
    path: Option<PathBuf>,
    func: Option<String>,
    settings: Settings,
    row_mode: RowMode,
    speed_steps_per_s: f32,
    #[serde(default)]
    budget: Budget,
}

const STORAGE_KEY: &str = "spillscope";

/// A compile on screen, with the replay cursor.
pub struct Loaded {
    /// The generation that produced it: identifies the compile for caches.
    pub id: u64,
    pub compiled: Box<Compiled>,
    pub extras: Option<Box<Extras>>,
    /// Steps applied; `0` is the state before the first step.
    pub cursor: usize,
    pub state: State,
    pub focus: Focus,
}

impl Loaded {
    fn steps(&self) -> usize {
        self.compiled.trace.replay.len()
    }

    fn seek(&mut self, k: usize) {
        let k = k.min(self.steps());
        self.compiled.trace.replay.seek(&mut self.state, k);
        self.cursor = k;
        self.focus = match k.checked_sub(1) {
            Some(i) => Focus::of(&self.compiled.trace.replay.steps()[i]),
            None => Focus::default(),
        };
        self.focus.looping = self.compiled.lineage.cycle.clone();
    }
}

/// A request on the worker.
pub struct Busy {
    pub stage: String,
    pub started: Instant,
}

/// The list under the summary in the right panel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SideTab {
    #[default]
    Events,
    Lineage,
}

/// View state that only panels care about (not part of the model).
pub struct ViewState {
    pub filter: String,
    pub path_text: String,
    pub tab: CodeTab,
    pub code_follow: code_views::CodeFollow,
    pub chart: ChartView,
    /// Set when the file dialog could not be shown: focus the path field.
    pub focus_path_field: bool,
    pub dialog_note: Option<String>,
    /// Scroll the event list to the cursor on the next frame.
    pub scroll_events: bool,
    /// Which list the right panel shows under the summary.
    pub side: SideTab,
    pub layout: LayoutViewState,
}

/// The app: state, worker handle, and the one function that applies commands.
pub struct App {
    worker: Worker,
    repaint_ctx: Arc<OnceLock<egui::Context>>,
    generation: u64,
    busy: Option<Busy>,
    /// The open file and where it came from.
    source: Option<Source>,
    input: Option<Arc<Input>>,
    loaded: Option<Loaded>,
    /// The function chosen in the list (compiled or being compiled).
    selected: Option<u32>,
    settings: Settings,
    error: Option<String>,
    playing: bool,
    speed_steps_per_s: f32,
    play_debt: f32,
    dialog: Option<std::sync::mpsc::Receiver<Option<PathBuf>>>,
    pub view: ViewState,
    /// How long the last request took, for the status line.
    last_elapsed_ms: Option<u128>,
    fonts_installed: bool,
    /// The open module's memory layout (Wasm inputs).
    layout: Option<LayoutModel>,
    /// A code-effect compile waits for the worker to finish its current job.
    compare_wanted: bool,
    /// What the compare on the worker was asked for.
    pending_compare: Option<(u32, Vec<Profile>, Settings)>,
    /// How long an allocation may run.
    budget: Budget,
    /// Where the cursor goes when the first compile arrives.
    start_step: Option<usize>,
}

impl App {
    /// Opens `path` (else the last file from `storage`, else the built-in
    /// sample) and starts compiling `func` (else the remembered or default one).
    pub fn new(
        storage: Option<&dyn eframe::Storage>,
        path: Option<PathBuf>,
        func: Option<String>,
    ) -> App {
        let persisted: Persisted = storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        let repaint_ctx: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let slot = repaint_ctx.clone();
        let worker = Worker::start(move || {
            if let Some(ctx) = slot.get() {
                ctx.request_repaint();
            }
        });
        let mut view = ViewState {
            filter: String::new(),
            path_text: String::new(),
            tab: CodeTab::VCode,
            code_follow: code_views::CodeFollow::default(),
            chart: ChartView::default(),
            focus_path_field: false,
            dialog_note: None,
            scroll_events: false,
            side: SideTab::default(),
            layout: LayoutViewState::default(),
        };
        view.chart.mode = persisted.row_mode;
        let mut app = App {
            worker,
            repaint_ctx,
            generation: 0,
            busy: None,
            source: None,
            input: None,
            loaded: None,
            selected: None,
            settings: persisted.settings,
            error: None,
            playing: false,
            speed_steps_per_s: if persisted.speed_steps_per_s > 0.0 {
                persisted.speed_steps_per_s
            } else {
                8.0
            },
            play_debt: 0.0,
            dialog: None,
            view,
            last_elapsed_ms: None,
            fonts_installed: false,
            layout: None,
            compare_wanted: false,
            pending_compare: None,
            budget: persisted.budget,
            start_step: None,
        };
        let (source, func) = match path {
            Some(p) => (Source::Path(p), func),
            None => match persisted.path.clone().filter(|p| p.is_file()) {
                Some(p) => (Source::Path(p), func.or(persisted.func)),
                None => {
                    let remembered = persisted.path.is_none().then_some(persisted.func).flatten();
                    let func = func.or(remembered).or(Some(worker::SAMPLE_FUNC.into()));
                    (Source::Sample, func)
                }
            },
        };
        if let Source::Path(p) = &source {
            app.view.path_text = p.display().to_string();
        }
        app.open(source, func);
        app
    }

    /// Puts the cursor after `step` steps when the first trace arrives.
    pub fn starting_at_step(mut self, step: Option<usize>) -> App {
        self.start_step = step;
        self
    }

    // ---- read-only accessors (the tests use these) ----

    /// Steps applied so far, and the number of steps; `None` before a compile.
    pub fn cursor(&self) -> Option<(usize, usize)> {
        self.loaded.as_ref().map(|l| (l.cursor, l.steps()))
    }

    /// The bundle of the step just applied, outlined in the chart.
    pub fn highlighted_bundle(&self) -> Option<BundleId> {
        self.loaded.as_ref().and_then(|l| l.focus.bundle)
    }

    /// Whether a request is on the worker.
    pub fn is_busy(&self) -> bool {
        self.busy.is_some()
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
    pub fn diagnosis(&self) -> Option<&crate::engine::replay::diagnose::Diagnosis> {
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

    pub fn is_playing(&self) -> bool {
        self.playing
    }

    pub fn central_tab(&self) -> CentralTab {
        self.view.layout.central
    }

    /// The memory tab's difference sentences.
    pub fn layout_differences(&self) -> Vec<String> {
        self.layout.as_ref().map_or_else(Vec::new, |m| {
            m.report
                .differences
                .iter()
                .map(|d| d.text.clone())
                .collect()
        })
    }

    /// Keys of the profiles in the memory tab.
    pub fn layout_profiles(&self) -> Vec<String> {
        self.layout.as_ref().map_or_else(Vec::new, |m| {
            m.profiles.iter().map(|p| p.key.clone()).collect()
        })
    }

    /// The code-effect table's rows: profile key and bounds checks (None when
    /// the row did not compile).
    pub fn layout_effects(&self) -> Option<Vec<(String, Option<u32>)>> {
        let e = self.layout.as_ref()?.effects.as_ref()?;
        Some(
            e.report
                .rows
                .iter()
                .map(|r| (r.profile.clone(), r.effect().map(|e| e.bounds_checks)))
                .collect(),
        )
    }

    // ---- commands ----

    fn submit(&mut self, job: Job, stage: String) {
        self.generation += 1;
        match self.worker.submit(self.generation, job) {
            Ok(()) => {
                self.busy = Some(Busy {
                    stage,
                    started: Instant::now(),
                })
            }
            Err(e) => self.error = Some(e),
        }
    }

    fn open(&mut self, source: Source, func: Option<String>) {
        self.playing = false;
        let stage = format!("opening {}", source.name());
        self.submit(
            Job::Open {
                source,
                func,
                settings: self.settings,
                budget: self.budget,
            },
            stage,
        );
    }

    fn compile_selected(&mut self) {
        let (Some(input), Some(func_index)) = (self.input.clone(), self.selected) else {
            return;
        };
        self.playing = false;
        self.submit(
            Job::Compile {
                input,
                func_index,
                settings: self.settings,
                budget: self.budget,
            },
            "compiling".into(),
        );
    }

    /// Settings as the code-effect table uses them: the target comes from
    /// each profile.
    fn compare_settings(&self) -> Settings {
        Settings {
            target: Target::Host,
            ..self.settings
        }
    }

    /// Compiles the selected function under every memory profile, when the
    /// memory tab shows and the table is not current; waits for a busy worker.
    fn request_compare(&mut self) {
        self.compare_wanted = false;
        if self.view.layout.central != CentralTab::Memory {
            return;
        }
        let settings = self.compare_settings();
        let (Some(input), Some(func_index), Some(model)) =
            (self.input.clone(), self.selected, self.layout.as_ref())
        else {
            return;
        };
        if model.profiles.is_empty() || model.effects_current(func_index, settings) {
            return;
        }
        if self.busy.is_some() {
            self.compare_wanted = true;
            return;
        }
        let profiles = model.profiles.clone();
        let job = Job::Compare {
            input,
            module: model.module.clone(),
            func_index,
            profiles: profiles.clone(),
            settings,
        };
        self.pending_compare = Some((func_index, profiles, settings));
        self.submit(job, "compiling under each memory profile".into());
    }

    /// Gives the allocator view's compile back to its code-effect row, if it
    /// came from one.
    fn return_opened_row(&mut self) {
        let Some(model) = self.layout.as_mut() else {
            return;
        };
        if let (Some(row), Some(effects)) = (model.opened_row.take(), model.effects.as_mut())
            && let Some(l) = self.loaded.take()
            && let Some(slot) = effects.compiled.get_mut(row)
        {
            *slot = Some(l.compiled);
        }
    }

    fn show_compiled(&mut self, generation: u64, compiled: Box<Compiled>) {
        self.selected = Some(compiled.func_index);
        let state = compiled.trace.replay.initial().clone();
        let mut l = Loaded {
            id: generation,
            compiled,
            extras: None,
            cursor: 0,
            state,
            focus: Focus::default(),
        };
        l.seek(self.start_step.take().unwrap_or(0));
        self.loaded = Some(l);
        self.error = None;
        self.view.scroll_events = true;
    }

    /// Applies one command; returns whether a repaint is needed.
    pub fn apply(&mut self, command: Command) -> bool {
        let moves = |l: &Loaded, c: &Command| match c {
            Command::StepForward => Some(l.cursor + 1),
            Command::StepBack => Some(l.cursor.saturating_sub(1)),
            Command::Jump(k) => Some(*k),
            Command::First => Some(0),
            Command::Last => Some(l.steps()),
            _ => None,
        };
        if let Some(l) = self.loaded.as_mut()
            && let Some(k) = moves(l, &command)
        {
            let k = k.min(l.steps());
            if command != Command::StepForward && !matches!(command, Command::Jump(_)) {
                self.playing = false;
            }
            if k == l.cursor {
                return false;
            }
            l.seek(k);
            if l.cursor == l.steps() {
                self.playing = false;
            }
            self.view.scroll_events = true;
            return true;
        }
        match command {
            Command::StepForward
            | Command::StepBack
            | Command::Jump(_)
            | Command::First
            | Command::Last => false,
            Command::TogglePlay => {
                let Some(l) = self.loaded.as_mut() else {
                    return false;
                };
                self.playing = !self.playing;
                if self.playing && l.cursor >= l.steps() {
                    l.seek(0);
                }
                self.play_debt = 0.0;
                true
            }
            Command::SetSpeed(s) => {
                self.speed_steps_per_s = s.clamp(0.5, 500.0);
                false
            }
            Command::SelectFunction(index) => {
                if self.selected == Some(index) && self.busy.is_none() {
                    return false;
                }
                self.selected = Some(index);
                self.compile_selected();
                true
            }
            Command::SetSettings(s) => {
                if s == self.settings {
                    return false;
                }
                self.settings = s;
                self.compile_selected();
                true
            }
            Command::OpenPath(p) => {
                self.view.path_text = p.display().to_string();
                self.open(Source::Path(p), None);
                true
            }
            Command::OpenBytes(p, bytes) => {
                self.view.path_text = p.display().to_string();
                self.open(Source::Bytes(p, bytes), None);
                true
            }
            Command::OpenSample => {
                self.open(Source::Sample, Some(worker::SAMPLE_FUNC.into()));
                true
            }
            Command::OpenDialog => {
                if self.dialog.is_some() {
                    return false;
                }
                let (tx, rx) = std::sync::mpsc::channel();
                let slot = self.repaint_ctx.clone();
                let spawned = std::thread::Builder::new()
                    .name("spillscope-dialog".into())
                    .spawn(move || {
                        let picked = rfd::FileDialog::new()
                            .add_filter(
                                "Wasm, WAT, CLIF or regalloc2 log",
                                &["wasm", "wat", "wast", "clif", "log", "txt"],
                            )
                            .add_filter("all files", &["*"])
                            .pick_file();
                        let _ = tx.send(picked);
                        if let Some(ctx) = slot.get() {
                            ctx.request_repaint();
                        }
                    });
                match spawned {
                    Ok(_) => self.dialog = Some(rx),
                    Err(e) => {
                        self.view.dialog_note =
                            Some(format!("cannot show the file dialog ({e}); type a path"));
                        self.view.focus_path_field = true;
                    }
                }
                true
            }
            Command::SetBudget(b) => {
                if b == self.budget {
                    return false;
                }
                self.budget = b;
                self.compile_selected();
                true
            }
            Command::DismissError => {
                self.error = None;
                true
            }
            Command::SetCentral(tab) => {
                self.view.layout.central = tab;
                self.request_compare();
                true
            }
            Command::SetPresets(p) => {
                let Some(model) = self.layout.as_mut() else {
                    return false;
                };
                model.presets = p;
                model.rebuild();
                self.request_compare();
                true
            }
            Command::EditProfile(p) => {
                let Some(model) = self.layout.as_mut() else {
                    return false;
                };
                model.edit(p);
                self.request_compare();
                true
            }
            Command::ResetProfile(key) => {
                let Some(model) = self.layout.as_mut() else {
                    return false;
                };
                model.edits.remove(&key);
                model.rebuild();
                self.request_compare();
                true
            }
            Command::OpenProfileTrace(row) => {
                self.return_opened_row();
                let Some(model) = self.layout.as_mut() else {
                    return false;
                };
                let Some(compiled) = model
                    .effects
                    .as_mut()
                    .and_then(|e| e.compiled.get_mut(row))
                    .and_then(Option::take)
                else {
                    return false;
                };
                model.opened_row = Some(row);
                self.playing = false;
                // An id no worker compile has, so the chart refits.
                let id = (1 << 40) + self.generation * 64 + row as u64;
                self.show_compiled(id, compiled);
                self.view.layout.central = CentralTab::Allocator;
                true
            }
        }
    }

    // ---- events from outside the frame ----

    fn handle_reply(&mut self, reply: Reply) {
        if reply.generation() != self.generation {
            return; // superseded
        }
        match reply {
            Reply::Progress { stage, .. } => {
                if let Some(b) = self.busy.as_mut() {
                    b.stage = stage;
                }
            }
            Reply::Opened { source, input, .. } => {
                self.source = Some(source);
                self.loaded = None;
                self.selected = None;
                self.view.filter.clear();
                let presets = self.layout.take().map(|m| m.presets).unwrap_or_default();
                self.layout = input
                    .wasm
                    .as_deref()
                    .and_then(|w| ModuleLayout::from_wasm(&input.path, w).ok())
                    .map(|m| LayoutModel::new(m, presets));
                self.input = Some(input);
            }
            Reply::Compiled {
                generation,
                compiled,
            } => {
                self.return_opened_row();
                self.settings = compiled.settings;
                self.show_compiled(generation, compiled);
                self.compare_wanted = true;
            }
            Reply::LogOpened {
                generation,
                source,
                compiled,
            } => {
                self.source = Some(source);
                self.input = None;
                self.layout = None;
                self.selected = None;
                self.view.filter.clear();
                self.view.side = SideTab::Lineage;
                self.show_compiled(generation, compiled);
            }
            Reply::Compared {
                report, compiled, ..
            } => {
                if let (Some(model), Some((func_index, profiles, settings))) =
                    (self.layout.as_mut(), self.pending_compare.take())
                {
                    if model.opened_row.is_some() {
                        // The allocator view keeps that compile; the row is new.
                        model.opened_row = None;
                    }
                    model.effects = Some(Effects {
                        func_index,
                        profiles,
                        settings,
                        report,
                        compiled,
                    });
                }
            }
            Reply::Extras { extras, .. } => {
                if let Some(l) = self.loaded.as_mut() {
                    l.extras = Some(extras);
                }
            }
            Reply::Failed {
                message, loading, ..
            } => {
                self.error = Some(if loading {
                    format!("{message} — the previous file stays open")
                } else {
                    message
                });
                // Keep showing what compiled last, with its own selection.
                if let Some(l) = &self.loaded {
                    self.selected = Some(l.compiled.func_index);
                    self.settings = l.compiled.settings;
                }
            }
            Reply::Done { elapsed_ms, .. } => {
                self.busy = None;
                self.last_elapsed_ms = Some(elapsed_ms);
                if self.compare_wanted {
                    self.request_compare();
                }
            }
        }
    }

    /// Worker replies, the dialog's answer, dropped files, keys, playback.
    fn poll(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let _ = self.repaint_ctx.set(ctx.clone());
        if !self.fonts_installed {
            install_fonts(ctx);
            self.fonts_installed = true;
        }
        while let Ok(r) = self.worker.replies.try_recv() {
            self.handle_reply(r);
        }
        let mut commands = Vec::new();
        if let Some(rx) = &self.dialog
            && let Ok(picked) = rx.try_recv()
        {
            self.dialog = None;
            match picked {
                Some(p) => commands.push(Command::OpenPath(p)),
                None => {
                    self.view.dialog_note = Some(
                        "No file chosen (the system file dialog may be unavailable here): type a path and press Enter."
                            .into(),
                    );
                    self.view.focus_path_field = true;
                }
            }
        }
        let dropped = ctx.input(|i| i.raw.dropped_files.clone());
        if let Some(f) = dropped.into_iter().next() {
            commands.push(Command::OpenPath(f.path().to_path_buf()));
        }
        if !ctx.egui_wants_keyboard_input() {
            ctx.input(|i| {
                use egui::Key;
                if i.key_pressed(Key::ArrowRight) {
                    commands.push(Command::StepForward);
                }
                if i.key_pressed(Key::ArrowLeft) {
                    commands.push(Command::StepBack);
                }
                if i.key_pressed(Key::Home) {
                    commands.push(Command::First);
                }
                if i.key_pressed(Key::End) {
                    commands.push(Command::Last);
                }
                if i.key_pressed(Key::Space) {
                    commands.push(Command::TogglePlay);
                }
            });
        }
        if self.playing
            && let Some(l) = &self.loaded
        {
            self.play_debt += ctx.input(|i| i.stable_dt).min(0.25) * self.speed_steps_per_s;
            let n = self.play_debt.floor();
            if n >= 1.0 {
                self.play_debt -= n;
                commands.push(Command::Jump(l.cursor + n as usize));
            }
        }
        commands
    }

    /// Draws one frame; used by eframe and by the tests.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let mut commands = self.poll(&ctx);

        egui::Panel::top("toolbar").show(ui, |ui| {
            open::toolbar_ui(
                ui,
                &mut self.view,
                self.settings,
                self.budget,
                self.source.as_ref(),
                self.busy.as_ref(),
                self.last_elapsed_ms,
                &mut commands,
            );
        });
        if let Some(err) = &self.error {
            egui::Panel::top("error_banner")
                .frame(
                    egui::Frame::new()
                        .fill(egui::Color32::from_rgb(110, 28, 30))
                        .inner_margin(6.0),
                )
                .show(ui, |ui| open::error_banner_ui(ui, err, &mut commands));
        }
        egui::Panel::left("functions")
            .resizable(true)
            .default_size(270.0)
            .show(ui, |ui| {
                if self
                    .loaded
                    .as_ref()
                    .is_some_and(|l| l.compiled.log.is_some())
                {
                    ui.strong("Functions");
                    ui.label(
                        egui::RichText::new(
                            "A regalloc2 log is open: it holds one allocation and no module.",
                        )
                        .weak(),
                    );
                    return;
                }
                function_list::function_list_ui(
                    ui,
                    self.input.as_deref(),
                    self.selected,
                    &mut self.view.filter,
                    &mut commands,
                );
            });
        let allocator_tab = self.view.layout.central == CentralTab::Allocator;
        if allocator_tab {
            egui::Panel::right("step_panel")
                .resizable(true)
                .default_size(360.0)
                .show(ui, |ui| {
                    ui.set_min_width(ui.available_width());
                    if let Some(l) = &self.loaded
                        && let Some(log) = &l.compiled.log
                    {
                        log_info_ui(ui, log, &mut commands);
                        ui.separator();
                    }
                    explain_panel::explain_panel_ui(ui, self.loaded.as_ref());
                    ui.separator();
                    if let Some(l) = &self.loaded {
                        ui.strong(if l.compiled.log.is_some() {
                            "Trace from the log"
                        } else {
                            "Final allocation"
                        });
                        summary::summary_ui(ui, &l.compiled.summary);
                        if verdict_on_top(l) {
                            lineage::diagnosis_ui(ui, &l.compiled.diagnosis, &mut commands);
                        }
                        ui.separator();
                    }
                    ui.horizontal(|ui| {
                        ui.selectable_value(&mut self.view.side, SideTab::Events, "Events");
                        let looping = self
                            .loaded
                            .as_ref()
                            .is_some_and(|l| l.compiled.diagnosis.looping);
                        let title = if looping { "Lineage (loop)" } else { "Lineage" };
                        ui.selectable_value(&mut self.view.side, SideTab::Lineage, title);
                    });
                    match (self.view.side, &self.loaded) {
                        (SideTab::Lineage, Some(l)) => lineage::lineage_ui(
                            ui,
                            &l.compiled.lineage,
                            (!verdict_on_top(l)).then_some(&l.compiled.diagnosis),
                            l.focus.bundle,
                            &mut self.view.scroll_events,
                            &mut commands,
                        ),
                        _ => events::events_ui(
                            ui,
                            self.loaded.as_ref(),
                            &mut self.view.scroll_events,
                            &mut commands,
                        ),
                    }
                });
            egui::Panel::bottom("code")
                .resizable(true)
                .default_size(260.0)
                .min_size(140.0)
                .show(ui, |ui| {
                    code_views::code_views_ui(
                        ui,
                        &mut self.view.tab,
                        &mut self.view.code_follow,
                        self.loaded.as_ref(),
                        self.busy.is_some(),
                    );
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            let mut tab = self.view.layout.central;
            ui.horizontal(|ui| {
                ui.selectable_value(&mut tab, CentralTab::Allocator, "Allocator");
                ui.selectable_value(&mut tab, CentralTab::Memory, "Memory layout");
            });
            if tab != self.view.layout.central {
                commands.push(Command::SetCentral(tab));
            }
            ui.separator();
            if !allocator_tab {
                let is_wasm = self.input.as_ref().is_some_and(|i| i.wasm.is_some());
                layout_view::layout_view_ui(
                    ui,
                    &mut self.view.layout,
                    self.layout.as_ref(),
                    is_wasm,
                    self.busy.is_some(),
                    &mut commands,
                );
                return;
            }
            stepper::stepper_ui(
                ui,
                self.loaded.as_ref(),
                self.playing,
                self.speed_steps_per_s,
                &mut commands,
            );
            ui.separator();
            match &self.loaded {
                Some(l) if l.steps() > 0 => {
                    let replay = &l.compiled.trace.replay;
                    if let Some(c) = chart::chart_ui(
                        ui,
                        &mut self.view.chart,
                        &l.compiled.chart,
                        l.id,
                        &l.state,
                        &l.focus,
                        replay.steps(),
                    ) {
                        commands.push(c);
                    }
                }
                Some(_) => {
                    ui.label(
                        "This compile has no allocator steps to chart: single_pass records no per-bundle decisions. \
                         Its final code is in the “Final code” tab below.",
                    );
                }
                None if self.busy.is_some() => {
                    ui.horizontal(|ui| {
                        ui.spinner();
                        ui.label("waiting for the compile…");
                    });
                }
                None => {
                    ui.label("Nothing compiled. Open a file or choose a function on the left.");
                }
            }
        });

        // A file dragged over the window: say what dropping it does.
        if ctx.input(|i| !i.raw.hovered_files.is_empty()) {
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop_overlay"),
            ));
            let screen = ctx.content_rect();
            painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(170));
            painter.text(
                screen.center(),
                egui::Align2::CENTER_CENTER,
                "Drop a .wasm, .wat, .clif file or a regalloc2 log to open it",
                egui::FontId::proportional(24.0),
                egui::Color32::WHITE,
            );
        }

        let mut repaint = false;
        for c in commands {
            repaint |= self.apply(c);
        }
        if repaint {
            ctx.request_repaint();
        }
        // Animate only while something moves.
        if self.playing {
            ctx.request_repaint();
        } else if self.busy.is_some() || self.dialog.is_some() {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
        }
    }

    fn persisted(&self) -> Persisted {
        let path = match &self.source {
            Some(Source::Path(p)) => Some(p.clone()),
            _ => None,
        };
        let func = self
            .loaded
            .as_ref()
            .map(|l| l.compiled.func_index.to_string());
        Persisted {
            path,
            func,
            settings: self.settings,
            row_mode: self.view.chart.mode,
            speed_steps_per_s: self.speed_steps_per_s,
            budget: self.budget,
        }
    }
}

/// The default fonts, with Hack as a fallback for proportional text: it has
/// the arrows and shapes that Ubuntu-Light lacks.
fn install_fonts(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    if let Some(list) = fonts.families.get_mut(&egui::FontFamily::Proportional)
        && !list.iter().any(|f| f == "Hack")
    {
        list.push("Hack".to_owned());
    }
    ctx.set_fonts(fonts);
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        App::ui(self, ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, &self.persisted());
    }
}

/// Opens the app on `path` (or the embedded default sample).
pub fn run(path: Option<PathBuf>, func: Option<String>, step: Option<usize>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("spillscope")
            .with_inner_size([1500.0, 950.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "spillscope",
        options,
        Box::new(move |cc| {
            Ok(Box::new(
                App::new(cc.storage, path, func).starting_at_step(step),
            ))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

/// Where a log came from and how far it was understood; the same function
/// allocated by this build's regalloc2 when its CLIF lies beside the log.
fn log_info_ui(ui: &mut egui::Ui, log: &worker::LogInfo, commands: &mut Vec<Command>) {
    ui.strong(format!(
        "Imported regalloc2 log (regalloc2 {})",
        log.releases
    ));
    ui.label(format!(
        "{} lines, {} records, {} not understood{}",
        log.lines,
        log.records,
        log.not_understood,
        if log.truncated {
            "; the log ends before the allocation did"
        } else {
            ""
        }
    ));
    for sample in log.not_understood_samples.iter().take(3) {
        ui.label(egui::RichText::new(sample).small().monospace().weak());
    }
    if let Some((clif, result)) = &log.current {
        let name = clif
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match result {
            Ok(text) => {
                ui.label(
                    egui::RichText::new(format!("Same function ({name}): {text}"))
                        .color(egui::Color32::from_rgb(110, 200, 130)),
                );
            }
            Err(e) => {
                ui.colored_label(
                    egui::Color32::from_rgb(230, 170, 60),
                    format!("Same function ({name}) here: {e}"),
                );
            }
        }
        if ui
            .button(format!("Open {name} with this build"))
            .on_hover_text("Compile the CLIF beside the log and step this build's allocator")
            .clicked()
        {
            commands.push(Command::OpenPath(clif.clone()));
        }
    }
}

/// The loop verdict goes under the summary when it matters (a loop, or a
/// trace that stopped early), else only in the lineage tab.
fn verdict_on_top(l: &Loaded) -> bool {
    l.compiled.diagnosis.looping || l.compiled.trace.traced.trace.stopped.is_some()
}
