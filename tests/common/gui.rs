//! Helpers for the egui_kittest tests.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use spillscope::gui::App;

/// Runs frames until `done` holds, sleeping between them; fails after 120 s.
pub fn run_until(harness: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    // A few more frames so the panels show the new state.
    harness.run_steps(3);
}
