//! `App::apply`: the one place the app's state changes. Every [`Command`] —
//! from a panel, a key, a dropped file, the file dialog or a worker reply —
//! is applied here; `App::new` sets up the state and sends the first request.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::engine::compile::realloc::RegisterCounts;
use crate::engine::input::isa::Algorithm;
use crate::engine::input::isa::Target;
use crate::engine::replay::query::StepQuery;
use crate::engine::session::Settings;

use super::command::Command;
use super::compiled::{Compiled, Loaded, LoadedId};
use super::corpus_view::CorpusState;
use super::layout_model::{Effects, LayoutState};
use super::state::{App, Busy, Persisted, STORAGE_KEY, ViewState};
use super::tabs::{CentralTab, CodeTab, SideTab};
use super::worker::{self, Deliver, Job, Reply, Source, Worker};

/// Choices the command line makes for a start, over the remembered ones.
#[derive(Clone, Copy, Debug, Default)]
pub struct Start {
    /// The register allocator.
    pub algorithm: Option<Algorithm>,
    /// The time limit of a traced allocation.
    pub time: Option<worker::TimeLimit>,
}

impl App {
    /// Opens `path` (else the last file from `storage`, else the built-in
    /// sample) and starts compiling `func` (else the remembered or default one).
    pub fn new(
        storage: Option<&dyn eframe::Storage>,
        path: Option<PathBuf>,
        func: Option<String>,
    ) -> App {
        App::new_with(storage, path, func, Start::default())
    }

    /// [`App::new`], starting with `start`'s choices rather than the
    /// remembered ones.
    pub fn new_with(
        storage: Option<&dyn eframe::Storage>,
        path: Option<PathBuf>,
        func: Option<String>,
        start: Start,
    ) -> App {
        let mut persisted: Persisted = storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        let func_arg = func.clone();
        if let Some(a) = start.algorithm {
            persisted.settings.algorithm = a;
        }
        if let Some(t) = start.time {
            persisted.budget.time = t;
        }
        let repaint_ctx: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        let (inbox_tx, inbox) = std::sync::mpsc::channel();
        let worker = Worker::start(deliver_to(&inbox_tx, &repaint_ctx, Command::Reply));
        let mut app = App {
            worker,
            repaint_ctx,
            generation: 0,
            busy: None,
            previews_shown: 0,
            runs_started: 0,
            source: None,
            input: None,
            loaded: None,
            selected: None,
            settings: persisted.settings,
            row_mode: persisted.row_mode,
            error: None,
            playing: false,
            speed_steps_per_s: if persisted.speed_steps_per_s > 0.0 {
                persisted.speed_steps_per_s
            } else {
                8.0
            },
            play_debt: 0.0,
            dialog_open: false,
            inbox,
            inbox_tx,
            view: ViewState {
                code_layout: persisted.code_layout,
                ..ViewState::default()
            },
            last_elapsed_ms: None,
            fonts_installed: false,
            layout: LayoutState::NoModule,
            compare_wanted: false,
            pending_compare: None,
            budget: persisted.budget,
            start_step: None,
            registers: Default::default(),
            sweep: Default::default(),
            versions: Default::default(),
            start_registers: None,
            runs: Default::default(),
            export_dir: None,
            measuring: false,
            measure_wanted: false,
            deferred: None,
            corpus: None,
            runs_after_open: None,
            held: None,
            exporting: None,
            draining: false,
        };
        // A gate's report opens the Corpus window over the file last open.
        let (path, report) = match path {
            Some(p) if is_report(&p) => (None, Some(p)),
            p => (p, None),
        };
        if let Some(r) = report {
            app.apply(Command::OpenGateReport(r));
        }
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
        // A function the command line did not name (the one remembered from
        // the last session) is traced only when it is quick; a big one waits
        // for the user (its last trace may have run into the time limit).
        let hold = func_arg.is_none().then_some(worker::HOLD_BODY_BYTES);
        app.open_holding(source, func, hold);
        app
    }

    /// Puts the cursor after `step` steps when the first trace arrives.
    pub fn starting_at_step(mut self, step: Option<usize>) -> App {
        self.start_step = step;
        self
    }

    /// Opens `path` as a restart would reopen it, holding back a function
    /// bigger than `bytes` (tests: the functions here are small).
    pub fn reopen_holding_above(&mut self, path: PathBuf, func: &str, bytes: u32) {
        self.open_holding(Source::Path(path), Some(func.into()), Some(bytes));
    }

    /// Write exports into `dir` without asking (tests, scripted sessions).
    pub fn exporting_to(mut self, dir: Option<PathBuf>) -> App {
        self.export_dir = dir;
        self
    }

    /// Once the first compile is on screen, allocate it again with `counts`
    /// registers and show the Registers tab.
    pub fn starting_with_registers(mut self, counts: Option<RegisterCounts>) -> App {
        self.start_registers = counts.filter(|c| !c.is_full());
        self
    }

    /// Applies one command; returns whether a repaint is needed. Each area
    /// of the app has its own handler below.
    pub fn apply(&mut self, command: Command) -> bool {
        if command.is_cursor_move() {
            return self.move_cursor(command);
        }
        match command {
            Command::TogglePlay | Command::SetSpeed(..) | Command::PlayTick(..) => {
                self.apply_playback(command)
            }
            Command::SelectLink(..) | Command::ShowMove(..) => self.apply_selection(command),
            Command::SetFind(..)
            | Command::Seek(..)
            | Command::FindNext(..)
            | Command::SetBreakOnFind(..)
            | Command::SetFilterSteps(..) => self.apply_find(command),
            Command::SelectFunction(..)
            | Command::SetSettings(..)
            | Command::SetRegisters(..)
            | Command::SetBudget(..)
            | Command::Stop => self.apply_compile(command),
            Command::Sweep(..)
            | Command::SweepDone(..)
            | Command::RunVersions
            | Command::StepTree(..)
            | Command::VersionsDone(..)
            | Command::CompareRuns(..)
            | Command::RunsDone(..)
            | Command::RunsSeek { .. }
            | Command::RunsFocus(..) => self.apply_runs(command),
            Command::Export(..) | Command::ExportDone(..) | Command::CancelExport => {
                self.apply_export(command)
            }
            Command::MeasureLayout
            | Command::MeasureDone(..)
            | Command::SetCentral(..)
            | Command::SetPresets(..)
            | Command::EditProfile(..)
            | Command::ResetProfile(..)
            | Command::OpenProfileTrace(..) => self.apply_memory(command),
            Command::OpenGateReport(..)
            | Command::OpenCorpusFunction(..)
            | Command::CloseCorpus => self.apply_corpus(command),
            Command::OpenPath(..)
            | Command::OpenBytes(..)
            | Command::OpenSample
            | Command::OpenDialog
            | Command::DialogClosed(..)
            | Command::DismissError => self.apply_files(command),
            Command::SetRowMode(mode) => {
                if mode == self.row_mode {
                    return false;
                }
                self.row_mode = mode;
                true
            }
            Command::SetSide(tab) => {
                if tab == self.view.side {
                    return false;
                }
                self.view.side = tab;
                true
            }
            Command::SetCodeLayout(layout) => {
                if layout == self.view.code_layout {
                    return false;
                }
                self.view.code_layout = layout;
                // Each column scrolls to its marks afresh.
                self.view.column_follow = Default::default();
                true
            }
            Command::Reply(reply) => {
                if reply.generation() != self.generation {
                    // A stopped compile's end: the worker is free again.
                    if matches!(reply, Reply::Done { .. }) {
                        self.draining = false;
                    }
                    return false; // superseded
                }
                self.apply_reply(reply);
                true
            }
            Command::StepForward
            | Command::StepBack
            | Command::Jump(_)
            | Command::First
            | Command::Last => false,
        }
    }

    /// Playback: play, pause, its speed and its ticks.
    fn apply_playback(&mut self, command: Command) -> bool {
        match command {
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
            Command::PlayTick(dt_s) => {
                let Some(l) = &self.loaded else {
                    return false;
                };
                if !self.playing {
                    return false;
                }
                // A long frame (a hidden window) does not jump far ahead.
                self.play_debt += dt_s.min(0.25) * self.speed_steps_per_s;
                let n = self.play_debt.floor();
                if n < 1.0 {
                    return false;
                }
                self.play_debt -= n;
                let to = (l.cursor + n as usize).min(l.steps());
                // A breakpoint: the first matching step on the way stops Play.
                if self.view.find.break_on
                    && let Some(Ok(q)) = &self.view.find.query
                {
                    let replay = &l.compiled.trace.replay;
                    if let Some(i) = (l.cursor..to).find(|&i| q.matches(replay, i)) {
                        self.playing = false;
                        self.play_debt = 0.0;
                        self.move_cursor(Command::Jump(i + 1));
                        return true;
                    }
                }
                self.move_cursor(Command::Jump(to))
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// Selections in the code views and the moves list.
    fn apply_selection(&mut self, command: Command) -> bool {
        match command {
            Command::SelectLink(entry) => {
                let Some(l) = self.loaded.as_mut() else {
                    return false;
                };
                l.selected = entry;
                l.selected_move = None;
                true
            }
            Command::ShowMove(n) => {
                let Some(m) = self
                    .loaded
                    .as_ref()
                    .and_then(|l| l.compiled.moves.moves.get(n))
                else {
                    return false;
                };
                let (cause, inst) = (m.cause.as_ref().map(|c| c.step), m.inst);
                let entry = self.entry_of_move(inst);
                if let Some(step) = cause {
                    self.move_cursor(Command::Jump(step));
                }
                if let Some(l) = self.loaded.as_mut() {
                    l.selected = entry;
                    l.selected_move = Some(n);
                }
                self.view.tab = CodeTab::Final;
                true
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// The step search: its text, next and previous, breakpoints, the filter.
    fn apply_find(&mut self, command: Command) -> bool {
        match command {
            Command::SetFind(text) => {
                self.view.find.text = text;
                self.refresh_find();
                true
            }
            Command::Seek(query, forward) => match self.seek_target(&query, forward) {
                Some(k) => self.move_cursor(Command::Jump(k)),
                None => false,
            },
            Command::FindNext(forward) => {
                let Some(Ok(q)) = self.view.find.query.clone() else {
                    return false;
                };
                match self.seek_target(&q, forward) {
                    Some(k) => self.move_cursor(Command::Jump(k)),
                    None => false,
                }
            }
            Command::SetBreakOnFind(on) => {
                self.view.find.break_on = on;
                true
            }
            Command::SetFilterSteps(on) => {
                self.view.find.filter = on;
                self.view.scroll_events = true;
                true
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// What is compiled and how: the function, the settings, the registers, the budget; stopping a compile.
    fn apply_compile(&mut self, command: Command) -> bool {
        match command {
            Command::SelectFunction(index) => {
                if self.selected == Some(index) && self.busy.is_none() && self.held.is_none() {
                    return false;
                }
                self.held = None;
                self.selected = Some(index);
                self.all_registers();
                self.compile_selected();
                true
            }
            Command::SetSettings(s) => {
                if s == self.settings {
                    return false;
                }
                self.settings = s;
                self.all_registers();
                self.compile_selected();
                true
            }
            Command::SetRegisters(counts) => {
                self.registers = counts;
                self.view.registers_edit = counts;
                self.compile_selected();
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
            Command::Stop => {
                if self.busy.is_none() {
                    return false;
                }
                // A newer generation supersedes the running request; the
                // worker's watcher stops the compile at its next step.
                self.generation += 1;
                self.worker.supersede(self.generation);
                self.busy = None;
                self.draining = true;
                self.playing = false;
                if let Some(l) = self.loaded.as_mut().filter(|l| l.compiled.running) {
                    l.compiled.running = false;
                    l.compiled.stopped_by_user = true;
                }
                if self.measure_wanted {
                    self.start_measure();
                }
                true
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// The Registers tab's sweep and the Compare runs tab.
    fn apply_runs(&mut self, command: Command) -> bool {
        match command {
            Command::Sweep(class) => {
                let (Some(input), Some(func_index)) = (self.input.clone(), self.selected) else {
                    return false;
                };
                let key = (func_index, self.settings, class);
                if self.sweep.key == Some(key) && self.sweep.running() {
                    return false;
                }
                self.sweep = super::state::SweepState {
                    key: Some(key),
                    result: None,
                };
                super::worker::start_sweep(
                    input,
                    func_index,
                    self.settings,
                    class,
                    self.deliver(move |r| Command::SweepDone(key, r)),
                );
                true
            }
            Command::StepTree(tree) => {
                let (Some(input), Some(func_index)) = (self.input.clone(), self.selected) else {
                    return false;
                };
                self.playing = false;
                self.view.layout.central = CentralTab::Allocator;
                let stage = format!("allocating with the regalloc2 at {}", tree.display());
                self.submit(
                    Job::Tree {
                        input,
                        func_index,
                        settings: self.settings,
                        budget: self.budget,
                        tree,
                    },
                    stage,
                );
                true
            }
            Command::RunVersions => {
                let (Some(input), Some(func_index)) = (self.input.clone(), self.selected) else {
                    return false;
                };
                let key = super::state::VersionsState::key_for(func_index, self.settings);
                if self.versions.key == Some(key) && self.versions.running() {
                    return false;
                }
                if let Some(old) = &self.versions.cancel {
                    old.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                self.versions = super::state::VersionsState {
                    key: Some(key),
                    result: None,
                    cancel: Some(std::sync::Arc::clone(&cancel)),
                };
                super::worker::start_versions(
                    input,
                    func_index,
                    key.1,
                    move || !cancel.load(std::sync::atomic::Ordering::Relaxed),
                    self.deliver(move |r| Command::VersionsDone(key, r)),
                );
                true
            }
            Command::VersionsDone(key, result) => {
                // A table asked for before the one now wanted, or one that
                // already ended.
                if self.versions.key != Some(key) || !self.versions.running() {
                    return false;
                }
                self.versions.result = Some(result);
                true
            }
            Command::SweepDone(key, result) => {
                // An answer to a sweep asked for before the one now wanted.
                if self.sweep.key != Some(key) || !self.sweep.running() {
                    return false;
                }
                self.sweep.result = Some(result);
                true
            }
            Command::CompareRuns(a, b) => {
                let (Some(input), Some(func_index)) = (self.input.clone(), self.selected) else {
                    return false;
                };
                self.runs_started += 1;
                self.runs = super::state::RunsState {
                    result: None,
                    view_a: Default::default(),
                    view_b: Default::default(),
                    sp_a: Default::default(),
                    sp_b: Default::default(),
                    shown: None,
                    running: true,
                };
                let pair = self.runs_started;
                super::worker::start_runs(
                    input,
                    func_index,
                    self.settings,
                    (a, b),
                    pair,
                    self.deliver(move |r| Command::RunsDone(pair, r)),
                );
                true
            }
            Command::RunsDone(pair, result) => {
                // An answer to a pair asked for before the one now wanted.
                if pair != self.runs_started || !self.runs.running {
                    return false;
                }
                self.runs.running = false;
                self.runs.result = Some(result);
                true
            }
            Command::RunsSeek { b, step } => {
                let Some(Ok(pair)) = self.runs.result.as_mut() else {
                    return false;
                };
                let side = if b { &mut pair.b } else { &mut pair.a };
                side.seek(step);
                true
            }
            Command::RunsFocus(point, vreg) => {
                if !matches!(self.runs.result, Some(Ok(_))) {
                    return false;
                }
                let (min, max) = self.runs.view_a.x_range();
                let half = ((max - min) / 2.0).max(8.0);
                let at = point.0 as f32;
                let range = ((at - half).max(0.0), at + half);
                self.runs.view_a.set_x_range(range);
                self.runs.view_b.set_x_range(range);
                if let Some(v) = vreg {
                    self.runs.view_a.bring_vreg(v);
                    self.runs.view_b.bring_vreg(v);
                }
                self.runs.shown = Some(range);
                true
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// The Export menu.
    fn apply_export(&mut self, command: Command) -> bool {
        match command {
            Command::Export(kind) => {
                let deliver = self.deliver(Command::ExportDone);
                let Some(l) = &self.loaded else {
                    return false;
                };
                use super::command::ExportKind;
                use super::export_menu;
                match kind {
                    ExportKind::Bundle => match (&self.input, l.compiled.log.is_some()) {
                        (Some(input), false) => {
                            let watch = super::state::ExportWatch::default();
                            export_menu::save_bundle(
                                l,
                                Arc::clone(input),
                                l.compiled.settings,
                                self.export_dir.clone(),
                                (watch.clone(), Arc::clone(&self.repaint_ctx)),
                                deliver,
                            );
                            self.exporting = Some(watch);
                        }
                        _ => {
                            self.view.dialog_note = Some(
                                "a bug bundle needs a function compiled here, not a log".into(),
                            );
                            return true;
                        }
                    },
                    _ => match export_menu::render(l, kind) {
                        Ok(bytes) => {
                            export_menu::save(l, kind, bytes, self.export_dir.clone(), deliver)
                        }
                        Err(e) => {
                            self.view.dialog_note = Some(format!("export: {e}"));
                            return true;
                        }
                    },
                }
                self.view.dialog_note = Some("exporting…".into());
                true
            }
            Command::CancelExport => {
                if let Some(w) = &self.exporting {
                    w.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
                    self.view.dialog_note = Some("cancelling the export…".into());
                }
                true
            }
            Command::ExportDone(result) => {
                self.exporting = None;
                self.view.dialog_note = Some(match result {
                    Ok(s) => s,
                    Err(e) => format!("export failed: {e}"),
                });
                true
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// The Memory layout tab (and which central tab shows).
    fn apply_memory(&mut self, command: Command) -> bool {
        match command {
            Command::MeasureLayout => {
                if self.layout.model().is_none() || self.measuring {
                    return false;
                }
                if self.busy.is_some() {
                    self.measure_wanted = true;
                    return true;
                }
                self.start_measure();
                true
            }
            Command::MeasureDone(keys, rows) => {
                self.measuring = false;
                if let Some((job, stage)) = self.deferred.take() {
                    self.submit(job, stage);
                }
                if let Some(model) = self.layout.model_mut() {
                    model.measured = Some((keys, rows));
                }
                true
            }
            Command::SetCentral(tab) => {
                self.view.layout.central = tab;
                self.request_compare();
                true
            }
            Command::SetPresets(p) => {
                let Some(model) = self.layout.model_mut() else {
                    return false;
                };
                model.presets = p;
                model.rebuild();
                self.request_compare();
                true
            }
            Command::EditProfile(p) => {
                let Some(model) = self.layout.model_mut() else {
                    return false;
                };
                model.edit(p);
                self.request_compare();
                true
            }
            Command::ResetProfile(key) => {
                let Some(model) = self.layout.model_mut() else {
                    return false;
                };
                model.edits.remove(&key);
                model.rebuild();
                self.request_compare();
                true
            }
            Command::OpenProfileTrace(row) => {
                self.return_opened_row();
                let Some(model) = self.layout.model_mut() else {
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
                let id = LoadedId::EffectRow {
                    generation: self.generation,
                    row,
                };
                self.show_compiled(id, compiled);
                self.view.layout.central = CentralTab::Allocator;
                true
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// Opening files, the file dialog, the error banner.
    fn apply_files(&mut self, command: Command) -> bool {
        match command {
            Command::OpenPath(p) if is_report(&p) => {
                self.view.dialog_note = None;
                self.apply(Command::OpenGateReport(p))
            }
            Command::OpenPath(p) => {
                self.view.dialog_note = None;
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
            Command::OpenDialog => self.open_dialog(),
            Command::DialogClosed(picked) => {
                self.dialog_open = false;
                match picked {
                    Some(p) => return self.apply(Command::OpenPath(p)),
                    None => {
                        self.view.dialog_note = Some(
                        "No file chosen (the system file dialog may be unavailable here): type a path and press Enter."
                            .into(),
                    );
                        self.view.focus_path_field = true;
                    }
                }
                true
            }
            Command::DismissError => {
                self.error = None;
                true
            }
            // Not this area's: `apply` routes none here.
            _ => false,
        }
    }

    /// Step, jump, first, last: moves the replay cursor; stepping back or
    /// jumping to an end stops playback, and so does reaching the last step.
    fn move_cursor(&mut self, command: Command) -> bool {
        let Some(l) = self.loaded.as_mut() else {
            return false;
        };
        let k = match command {
            Command::StepForward => l.cursor + 1,
            Command::StepBack => l.cursor.saturating_sub(1),
            Command::Jump(k) => k,
            Command::First => 0,
            Command::Last => l.steps(),
            _ => return false,
        };
        let k = k.min(l.steps());
        if !matches!(command, Command::StepForward | Command::Jump(_)) {
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
        true
    }

    fn apply_reply(&mut self, reply: Reply) {
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
                // The worker reads the layout next; the preset choice carries over.
                self.layout = if input.wasm().is_some() {
                    LayoutState::Reading(self.layout.presets())
                } else {
                    LayoutState::NoModule
                };
                self.input = Some(input);
            }
            Reply::Layout { layout, .. } => {
                let presets = self.layout.presets();
                self.layout = match layout {
                    Ok(mut model) => {
                        // Chosen while the module was read: model those.
                        if model.presets != presets {
                            model.presets = presets;
                            model.rebuild();
                        }
                        LayoutState::Ready(model)
                    }
                    Err(message) => LayoutState::Failed(message),
                };
                self.request_compare();
            }
            Reply::Compiled {
                generation,
                compiled,
            } => {
                self.return_opened_row();
                self.settings = compiled.settings;
                // A start step waits for the allocation with fewer registers.
                let start_step = self.start_registers.and(self.start_step);
                self.show_compiled(LoadedId::Request(generation), compiled);
                self.compare_wanted = true;
                if let Some((func, a, b)) = self.runs_after_open.take() {
                    if self.selected == Some(func) {
                        self.apply(Command::CompareRuns(a, b));
                    } else {
                        self.runs_after_open = Some((func, a, b));
                    }
                }
                if let Some(counts) = self.start_registers.take() {
                    self.start_step = start_step;
                    self.view.side = SideTab::Registers;
                    self.registers = counts;
                    self.view.registers_edit = counts;
                    self.compile_selected();
                }
            }
            Reply::Preview {
                generation,
                compiled,
            } => {
                // A preview built after the compile ended must not replace it,
                // nor one built before the preview on screen.
                let newer_shown = self.loaded.as_ref().is_some_and(|l| {
                    l.id == LoadedId::Request(generation)
                        && (!l.compiled.running || l.steps() > compiled.trace.replay.len())
                });
                if !newer_shown {
                    self.previews_shown += 1;
                    self.show_compiled(LoadedId::Request(generation), compiled);
                }
            }
            Reply::LogOpened {
                generation,
                source,
                compiled,
            } => {
                self.source = Some(source);
                self.input = None;
                self.layout = LayoutState::NoModule;
                self.selected = None;
                self.view.filter.clear();
                self.view.side = SideTab::Lineage;
                self.show_compiled(LoadedId::Request(generation), compiled);
            }
            Reply::Compared {
                report, compiled, ..
            } => {
                if let (Some(model), Some((func_index, profiles, settings))) =
                    (self.layout.model_mut(), self.pending_compare.take())
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
            Reply::Linked { link, .. } => {
                if let Some(l) = self.loaded.as_mut() {
                    l.link = Some(link);
                }
            }
            Reply::Held {
                func_index,
                body_bytes,
                ..
            } => {
                self.selected = Some(func_index);
                self.held = Some((func_index, body_bytes));
            }
            Reply::Failed {
                message, loading, ..
            } => {
                // Only a file that was open can stay open.
                self.error = Some(if loading && self.input.is_some() {
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
                // From the request, so a wait for a stopped compile to let
                // go of the worker counts too.
                let asked = self.busy.take().map(|b| b.started.elapsed().as_millis());
                self.last_elapsed_ms = Some(asked.unwrap_or(elapsed_ms).max(elapsed_ms));
                if self.measure_wanted {
                    self.start_measure();
                }
                if self.compare_wanted {
                    self.request_compare();
                }
            }
        }
    }

    fn open_dialog(&mut self) -> bool {
        if self.dialog_open {
            return false;
        }
        let deliver = self.deliver(Command::DialogClosed);
        let spawned = std::thread::Builder::new()
            .name("spillscope-dialog".into())
            .spawn(move || {
                let picked = rfd::FileDialog::new()
                    .add_filter(
                        "Wasm, WAT, CLIF, regalloc2 log or reproducer, gate report",
                        &["wasm", "wat", "wast", "clif", "log", "txt", "bin", "json"],
                    )
                    .add_filter("all files", &["*"])
                    .pick_file();
                deliver(picked);
            });
        match spawned {
            Ok(_) => self.dialog_open = true,
            Err(e) => {
                self.view.dialog_note =
                    Some(format!("cannot show the file dialog ({e}); type a path"));
                self.view.focus_path_field = true;
            }
        }
        true
    }

    /// Measures the memory tab's module with Wasmtime on a thread of its own
    /// (the worker is idle: see `measure_wanted`).
    fn start_measure(&mut self) {
        self.measure_wanted = false;
        let Some(model) = self.layout.model() else {
            return;
        };
        let report = model.report.clone();
        let keys: Vec<String> = model.profiles.iter().map(|p| p.key.clone()).collect();
        super::worker::on_thread(
            "spillscope-measure",
            move || crate::engine::layout::measure::compare(&report).map_err(|e| e.to_string()),
            self.deliver(move |rows| Command::MeasureDone(keys.clone(), rows)),
        );
        self.measuring = true;
    }

    fn submit(&mut self, job: Job, stage: String) {
        if self.measuring {
            // A measurement takes milliseconds; the request waits for it.
            self.deferred = Some((job, stage));
            return;
        }
        self.generation += 1;
        // A stopped compile finishes its last phase (move insertion, the
        // checker, code emission) before the worker takes the next request.
        let stage = if self.draining {
            format!("{stage}, once the stopped compile lets go of the worker")
        } else {
            stage
        };
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

    /// A repaint request for threads of the app: answered once the first
    /// frame has given the app its context.
    /// Where a background thread answers: `wrap`'s command on the app's
    /// one channel, with a repaint so it is applied.
    fn deliver<T: 'static>(
        &self,
        wrap: impl Fn(T) -> Command + Send + Sync + 'static,
    ) -> Deliver<T> {
        deliver_to(&self.inbox_tx, &self.repaint_ctx, wrap)
    }

    /// Back to every register, and no sweep or comparison of another
    /// function on screen.
    fn all_registers(&mut self) {
        self.runs = Default::default();
        self.registers = RegisterCounts::default();
        self.view.registers_edit = RegisterCounts::default();
        let current = self.selected.map(|f| (f, self.settings));
        if self.sweep.key.map(|(f, s, _)| (f, s)) != current {
            self.sweep = Default::default();
        }
    }

    fn apply_corpus(&mut self, command: Command) -> bool {
        match command {
            Command::OpenGateReport(p) => match CorpusState::read(&p) {
                Ok(state) => {
                    self.corpus = Some(state);
                    self.error = None;
                }
                Err(e) => self.error = Some(e),
            },
            Command::CloseCorpus => {
                if let Some(c) = &mut self.corpus {
                    c.open = false;
                }
            }
            Command::OpenCorpusFunction(file, func) => {
                let Some(c) = &mut self.corpus else {
                    return false;
                };
                c.fold = true;
                let path = c.module_path(&file);
                let a = format!("regalloc2={}", c.gate.baseline);
                let b = format!("regalloc2={}", c.gate.candidate);
                self.view.runs_a = a.clone();
                self.view.runs_b = b.clone();
                self.apply(Command::SetCentral(CentralTab::Compare));
                let open_already = matches!(&self.source, Some(Source::Path(p)) if *p == path)
                    && self.input.is_some();
                if open_already {
                    self.apply(Command::SelectFunction(func));
                    self.apply(Command::CompareRuns(a, b));
                } else {
                    self.view.path_text = path.display().to_string();
                    self.runs_after_open = Some((func, a, b));
                    self.open(Source::Path(path), Some(func.to_string()));
                }
            }
            _ => return false,
        }
        true
    }

    fn open(&mut self, source: Source, func: Option<String>) {
        self.open_holding(source, func, None);
    }

    /// [`App::open`]; a function bigger than `hold_above` bytes is selected
    /// but not traced until the user asks.
    fn open_holding(&mut self, source: Source, func: Option<String>, hold_above: Option<u32>) {
        self.held = None;
        self.playing = false;
        self.all_registers();
        self.sweep = Default::default();
        let stage = format!("opening {}", source.name());
        self.submit(
            Job::Open {
                source,
                func,
                settings: self.settings,
                budget: self.budget,
                hold_above,
                presets: self.layout.presets(),
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
                registers: self.registers,
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
            (self.input.clone(), self.selected, self.layout.model())
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
        let Some(model) = self.layout.model_mut() else {
            return;
        };
        if let (Some(row), Some(effects)) = (model.opened_row.take(), model.effects.as_mut())
            && let Some(l) = self.loaded.take()
            && let Some(slot) = effects.compiled.get_mut(row)
        {
            *slot = Some(l.compiled);
        }
    }

    fn show_compiled(&mut self, id: LoadedId, compiled: Box<Compiled>) {
        self.selected = Some(compiled.func_index);
        // The steps so far were on screen: the cursor stays where the user
        // left it, and a requested start step waits for the final trace.
        let previewed = self
            .loaded
            .as_ref()
            .filter(|l| l.id == id && l.compiled.running)
            .map(|l| l.cursor);
        let step = match previewed {
            Some(cursor) if compiled.running => cursor,
            Some(cursor) => self.start_step.take().unwrap_or(cursor),
            None if compiled.running => 0,
            None => self.start_step.take().unwrap_or(0),
        };
        self.loaded = Some(Loaded::new(id, compiled, step));
        self.error = None;
        self.view.scroll_events = true;
        self.refresh_find();
    }

    /// Parses the step search again and finds its matches in the compile on
    /// screen.
    fn refresh_find(&mut self) {
        let find = &mut self.view.find;
        find.matches.clear();
        if find.text.trim().is_empty() {
            find.query = None;
            return;
        }
        let names = self
            .loaded
            .as_ref()
            .and_then(|l| l.compiled.trace.reg_names());
        let query = StepQuery::parse(&find.text, names);
        if let (Ok(q), Some(l)) = (&query, &self.loaded) {
            find.matches = q.all(&l.compiled.trace.replay);
        }
        find.query = Some(query);
    }

    /// The cursor position of the next (or previous) step matching `query`.
    fn seek_target(&self, query: &StepQuery, forward: bool) -> Option<usize> {
        let l = self.loaded.as_ref()?;
        let replay = &l.compiled.trace.replay;
        // The step on screen is step `cursor` (0-based index `cursor - 1`).
        if forward {
            (l.cursor..l.steps()).find(|&i| query.matches(replay, i))
        } else {
            (0..l.cursor.saturating_sub(1))
                .rev()
                .find(|&i| query.matches(replay, i))
        }
        .map(|i| i + 1)
    }

    /// The link entry whose code holds a move placed before VCode
    /// instruction `inst`: a move is emitted under the source location of
    /// the code before it, so the nearest earlier instruction with code.
    fn entry_of_move(&self, inst: u32) -> Option<u32> {
        let link = self.loaded.as_ref()?.link()?;
        let has_code = |e: u32| !link.map.entries[e as usize].code.is_empty();
        (0..inst)
            .rev()
            .take(64)
            .filter_map(|i| link.entry_of_inst(i))
            .find(|&e| has_code(e))
            .or_else(|| link.entry_of_inst(inst))
    }
}

/// `wrap`'s command sent to `inbox`, then a repaint once the app has a
/// context. The app may be gone at shutdown: nothing to do then.
fn deliver_to<T: 'static>(
    inbox: &std::sync::mpsc::Sender<Command>,
    repaint_ctx: &Arc<OnceLock<egui::Context>>,
    wrap: impl Fn(T) -> Command + Send + Sync + 'static,
) -> Deliver<T> {
    let (tx, slot) = (inbox.clone(), Arc::clone(repaint_ctx));
    Arc::new(move |answer| {
        let _ = tx.send(wrap(answer));
        if let Some(ctx) = slot.get() {
            ctx.request_repaint();
        }
    })
}

/// Whether `path` names a JSON report (a release gate's) rather than an
/// input to open.
fn is_report(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}
