//! One frame of the app: the panels laid out around the central tab. Panels
//! draw the state and push [`Command`]s; at the end of the frame
//! `App::apply` applies them, with the worker's replies and input gathered
//! by `poll`.

use super::chart;
use super::code_views;
use super::command::Command;
use super::compiled::LogInfo;
use super::events;
use super::explain_panel;
use super::function_list;
use super::layout_view;
use super::lineage;
use super::moves_panel;
use super::open;
use super::registers_panel;
use super::releases_view;
use super::runs_view;
use super::single_pass_view;
use super::state::{App, STORAGE_KEY};
use super::stepper;
use super::summary;
use super::tabs::{CentralTab, SideTab};
use crate::engine::replay::query::{StepQuery, Term};

impl App {
    /// Gathers this frame's commands: what the background threads answered
    /// (on the one channel they share), dropped files, keys and playback
    /// time. Changes nothing itself.
    fn poll(&self, ctx: &egui::Context) -> Vec<Command> {
        let mut commands: Vec<Command> = self.inbox.try_iter().collect();
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
                // Next and previous split, eviction, spill: s, e, p (with
                // Shift: previous).
                for (key, term) in [
                    (Key::S, Term::Split),
                    (Key::E, Term::Eviction),
                    (Key::P, Term::Spill),
                ] {
                    if i.key_pressed(key) {
                        let q = StepQuery { terms: vec![term] };
                        commands.push(Command::Seek(q, !i.modifiers.shift));
                    }
                }
            });
        }
        // The search's next and previous match, also while typing in it.
        ctx.input(|i| {
            if i.key_pressed(egui::Key::F3) {
                commands.push(Command::FindNext(!i.modifiers.shift));
            }
        });
        if self.playing {
            commands.push(Command::PlayTick(ctx.input(|i| i.stable_dt)));
        }
        commands
    }

    /// Once per context: the repaint handle for the worker and the fonts.
    fn set_up_context(&mut self, ctx: &egui::Context) {
        if self.fonts_installed {
            return;
        }
        let _ = self.repaint_ctx.set(ctx.clone());
        install_fonts(ctx);
        self.fonts_installed = true;
    }

    /// The left panel: the module's functions (or why there are none).
    fn functions_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
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
            &mut self.view.functions_by_size,
            &mut self.view.functions_scrolled_to,
            commands,
        );
    }

    /// The right panel of the Allocator tab: the step explained, the
    /// summary, and the Events, Lineage, Moves and Registers lists.
    fn step_panel_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.set_min_width(ui.available_width());
        // The explanation keeps one height whatever the step says (the user
        // drags its edge to change it), so the lists below never move under
        // the pointer when a click changes the step.
        let whole = ui.available_height();
        egui::Panel::top("step_explain")
            .resizable(true)
            .default_size((whole * 0.4).clamp(160.0, 460.0))
            .size_range(100.0..=(whole * 0.8).max(120.0))
            .show(ui, |ui| {
                ui.set_min_height(ui.available_height());
                if let Some(l) = &self.loaded
                    && let Some(log) = &l.compiled.log
                {
                    log_info_ui(ui, log, commands);
                    ui.separator();
                }
                match self
                    .loaded
                    .as_ref()
                    .and_then(|l| Some((l, l.single_pass()?)))
                {
                    Some((l, log)) => single_pass_view::explain_ui(ui, l, log),
                    None => explain_panel::explain_panel_ui(
                        ui,
                        self.loaded.as_ref(),
                        &mut self.view.teaching,
                    ),
                }
            });
        if let Some(l) = &self.loaded {
            ui.strong(if l.compiled.log.is_some() {
                "Trace from the log"
            } else if l.compiled.running {
                "Allocation so far (the compile is still running)"
            } else if l.compiled.stopped_by_user {
                "Allocation up to where you stopped the compile"
            } else if !l.compiled.registers.is_full() {
                "Final allocation (regalloc2 alone, fewer registers)"
            } else {
                "Final allocation"
            });
            summary::summary_ui(ui, &l.compiled.summary);
            if l.compiled.verdict_matters() {
                lineage::diagnosis_ui(ui, &l.compiled.diagnosis, commands);
            }
            ui.separator();
        }
        let mut side = self.view.side;
        ui.horizontal(|ui| {
            ui.selectable_value(&mut side, SideTab::Events, "Events");
            let looping = self
                .loaded
                .as_ref()
                .is_some_and(|l| l.compiled.diagnosis.looping);
            let title = if looping { "Lineage (loop)" } else { "Lineage" };
            ui.selectable_value(&mut side, SideTab::Lineage, title);
            ui.selectable_value(&mut side, SideTab::Moves, "Moves");
            ui.selectable_value(&mut side, SideTab::Registers, "Registers");
        });
        if side != self.view.side {
            commands.push(Command::SetSide(side));
        }
        match (self.view.side, &self.loaded) {
            (SideTab::Lineage, Some(l)) => lineage::lineage_ui(
                ui,
                &l.compiled.lineage,
                (!l.compiled.verdict_matters()).then_some(&l.compiled.diagnosis),
                l.focus.bundle,
                &mut self.view.scroll_events,
                commands,
            ),
            (SideTab::Moves, l) => moves_panel::moves_ui(ui, l.as_ref(), commands),
            (SideTab::Registers, l) => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    registers_panel::registers_ui(
                        ui,
                        l.as_ref(),
                        &mut self.view.registers_edit,
                        &self.sweep,
                        commands,
                    )
                });
            }
            _ => events::events_ui(
                ui,
                self.loaded.as_ref(),
                &self.view.find,
                &mut self.view.scroll_events,
                commands,
            ),
        }
    }

    /// The central area: its tabs, then the Compare runs tab, the memory
    /// tab, or the stepper over the chart.
    fn central_ui(&mut self, ui: &mut egui::Ui, allocator_tab: bool, commands: &mut Vec<Command>) {
        let mut tab = self.view.layout.central;
        ui.horizontal(|ui| {
            ui.selectable_value(&mut tab, CentralTab::Allocator, "Allocator");
            ui.selectable_value(&mut tab, CentralTab::Memory, "Memory layout");
            ui.selectable_value(&mut tab, CentralTab::Compare, "Compare runs");
            ui.selectable_value(&mut tab, CentralTab::Releases, "Releases");
        });
        if tab != self.view.layout.central {
            commands.push(Command::SetCentral(tab));
        }
        ui.separator();
        if self.view.layout.central == CentralTab::Releases {
            releases_view::releases_ui(
                ui,
                &self.versions,
                self.selected,
                self.settings,
                &mut self.view.tree_path,
                commands,
            );
            return;
        }
        if self.view.layout.central == CentralTab::Compare {
            runs_view::runs_ui(
                ui,
                &mut self.view.runs_a,
                &mut self.view.runs_b,
                &mut self.runs,
                self.row_mode,
                self.loaded.is_some(),
                commands,
            );
            return;
        }
        if !allocator_tab {
            layout_view::layout_view_ui(
                ui,
                &mut self.view.layout,
                &self.layout,
                self.busy.is_some(),
                commands,
            );
            return;
        }
        stepper::stepper_ui(
            ui,
            self.loaded.as_ref(),
            self.playing,
            self.speed_steps_per_s,
            &self.view.find,
            commands,
        );
        ui.separator();
        match &self.loaded {
            Some(l) if l.single_pass().is_some() => {
                if let Some(log) = l.single_pass() {
                    single_pass_view::chart_ui(
                        ui,
                        l,
                        log,
                        &l.compiled.sp_rows,
                        &mut self.view.sp_view,
                        commands,
                    );
                    self.view.chart.hovered_inst = self.view.sp_view.hovered_inst;
                }
            }
            Some(l) if l.steps() > 0 => {
                let replay = &l.compiled.trace.replay;
                self.view.chart.marked_insts = match (l.link(), l.selected) {
                    (Some(m), Some(e)) => m.map.entries[e as usize].vcode.clone(),
                    _ => Vec::new(),
                };
                chart::chart_ui(
                    ui,
                    &mut self.view.chart,
                    self.row_mode,
                    &l.compiled.chart,
                    l.id,
                    &l.state,
                    &l.focus,
                    replay.steps(),
                    commands,
                );
            }
            Some(_) => {
                ui.label(
                    "This compile has no allocator steps to chart: its log holds no steps. \
                     Its final code is in the “Final code” tab below.",
                );
            }
            None if self.busy.is_some() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("waiting for the compile…");
                });
            }
            None if self.held.is_some() => {
                let (func, bytes) = self.held.unwrap_or_default();
                let name = self
                    .input
                    .as_ref()
                    .and_then(|i| i.functions.get(func as usize))
                    .map_or_else(|| format!("function {func}"), |f| f.label());
                let limit = match self.budget.time {
                    super::worker::TimeLimit::Auto => "the automatic time limit".to_string(),
                    t => format!("the time limit ({})", t.text()),
                };
                ui.label(format!(
                    "{name} ({} KB of Wasm) was open when spillscope last closed. Tracing a \
                     function this big takes a while (up to {limit}; the Time menu changes it), \
                     so it waits for you.",
                    bytes.div_ceil(1024)
                ));
                if ui.button("Trace it").clicked() {
                    commands.push(Command::SelectFunction(func));
                }
            }
            None => {
                ui.label("Nothing compiled. Open a file or choose a function on the left.");
            }
        }
    }

    /// Draws one frame; used by eframe and by the tests.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.set_up_context(&ctx);
        let mut commands = self.poll(&ctx);

        egui::Panel::top("toolbar").show(ui, |ui| {
            open::toolbar_ui(
                ui,
                open::PathField {
                    text: &mut self.view.path_text,
                    focus: &mut self.view.focus_path_field,
                },
                self.view.dialog_note.as_deref(),
                self.settings,
                self.budget,
                self.source.as_ref(),
                self.busy.as_ref(),
                self.last_elapsed_ms,
                self.loaded.is_some(),
                &mut commands,
            );
        });
        if let Some(w) = &self.exporting {
            let (bytes, records) = (
                w.bytes.load(std::sync::atomic::Ordering::Relaxed),
                w.records.load(std::sync::atomic::Ordering::Relaxed),
            );
            egui::Panel::top("export_progress").show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(format!(
                        "Writing the bug bundle: regalloc2's log so far {} ({} records; the \
                         bundle keeps its first and last {}, and stops the allocation at {})",
                        crate::engine::error::size_text(bytes),
                        crate::engine::capture::digits_grouped(records),
                        crate::engine::error::size_text(
                            crate::engine::export::bundle::LOG_KEEP_BYTES as u64
                        ),
                        crate::engine::error::size_text(
                            crate::engine::export::bundle::LOG_STOP_BYTES
                        ),
                    ));
                    if ui.button("Cancel").clicked() {
                        commands.push(Command::CancelExport);
                    }
                });
            });
        }
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
            .show(ui, |ui| self.functions_ui(ui, &mut commands));
        let allocator_tab = self.view.layout.central == CentralTab::Allocator;
        if allocator_tab {
            // At most 40% of the window, so the chart keeps its width; long
            // rows are cut (their whole text is in the explanation above).
            let right_max = (ui.available_width() * 0.4).max(300.0);
            egui::Panel::right("step_panel")
                .resizable(true)
                .default_size(360.0_f32.min(right_max))
                .size_range(260.0..=right_max)
                .show(ui, |ui| self.step_panel_ui(ui, &mut commands));
            egui::Panel::bottom("code")
                .resizable(true)
                .default_size(260.0)
                .min_size(140.0)
                .show(ui, |ui| {
                    let mut layout = self.view.code_layout;
                    code_views::code_views_ui(
                        ui,
                        &mut self.view.tab,
                        &mut layout,
                        (&mut self.view.code_follow, &mut self.view.column_follow),
                        self.loaded.as_ref(),
                        self.busy.is_some(),
                        self.view.chart.hovered_inst,
                        &mut commands,
                    );
                });
        }
        egui::CentralPanel::default()
            .show(ui, |ui| self.central_ui(ui, allocator_tab, &mut commands));
        if let Some(corpus) = self.corpus.as_mut().filter(|c| c.open) {
            super::corpus_view::corpus_window(&ctx, corpus, &mut commands);
        }

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
                "Drop a .wasm, .wat, .clif file, a regalloc2 log or a gate report to open it",
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
        } else if self.busy.is_some() || self.dialog_open {
            ctx.request_repaint_after(std::time::Duration::from_millis(100));
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

/// Where a log came from and how far it was understood; the same function
/// allocated by this build's regalloc2 when its CLIF lies beside the log.
fn log_info_ui(ui: &mut egui::Ui, log: &LogInfo, commands: &mut Vec<Command>) {
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
    if log.cut_mid_line {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "The log ends inside a line (a file cut while it was written); that line was not read.",
        );
    }
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
