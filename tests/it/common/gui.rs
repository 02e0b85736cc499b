//! Helpers for the egui_kittest tests.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use spillscope::gui::App;

/// A harness over the app at the window size the screenshots use.
pub fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1500.0, 950.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// The worker is idle and a trace is on screen.
pub fn ready(app: &App) -> bool {
    !app.is_busy() && app.cursor().is_some()
}

/// Runs frames until `done` holds, sleeping between them; fails after 120 s.
pub fn run_until(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    run_until_within(harness, what, Duration::from_secs(120), done)
}

/// [`run_until`], failing after `limit`.
pub fn run_until_within(
    harness: &mut Harness<'_, App>,
    what: &str,
    limit: Duration,
    done: impl Fn(&App) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    // A few more frames so the panels show the new state.
    harness.run_steps(3);
}

/// eframe's storage in memory, standing in for its file: what a restart
/// reads back.
#[derive(Default)]
pub struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}
