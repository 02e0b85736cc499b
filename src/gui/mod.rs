//! The desktop front end (eframe/egui) over the engine.

use std::path::PathBuf;

/// Opens the app on `path` (or the embedded default sample).
pub fn run(_path: Option<PathBuf>, _func: Option<String>) -> anyhow::Result<()> {
    anyhow::bail!("the desktop app is not built yet")
}
