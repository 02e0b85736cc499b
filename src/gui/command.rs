//! Everything that changes the app's state, as data: panels, keys, dropped
//! files, the file dialog and the worker's replies all become [`Command`]s,
//! which `App::apply` (in `gui/apply.rs`) applies in one place.

use std::path::PathBuf;

use crate::engine::compile::realloc::{RegisterCounts, SweepPoint};
use crate::engine::layout::Profile;
use crate::engine::replay::query::StepQuery;
use crate::engine::session::Settings;

use super::chart_model::RowMode;
use super::compiled::RunsPair;
use super::layout_model::PresetChoice;
use super::tabs::{CentralTab, SideTab};
use super::worker::{Budget, Reply};
use crate::engine::trace::Point;

/// What the Export menu writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportKind {
    Svg,
    Png,
    Html,
    Bundle,
}

/// One change to the app's state.
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
    /// This many seconds passed while playing: advance by what they are worth.
    PlayTick(f32),
    SelectFunction(u32),
    SetSettings(Settings),
    OpenPath(PathBuf),
    OpenBytes(PathBuf, Vec<u8>),
    OpenSample,
    /// Ask the system file dialog (on a thread; it may be unavailable).
    OpenDialog,
    /// The file dialog closed, with the file chosen if any.
    DialogClosed(Option<PathBuf>),
    DismissError,
    /// Stop the request the worker is on: a traced compile stops at its next
    /// allocator step, and the steps so far stay on screen.
    Stop,
    /// Rows of the chart per vreg or per register (remembered across runs).
    SetRowMode(RowMode),
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
    /// Select a link entry (a Wasm operator and what it became) in every
    /// code view; `None` clears the selection.
    SelectLink(Option<u32>),
    /// Show move `n` of the Moves list: its cause step and its code.
    ShowMove(usize),
    /// The text of the step search changed.
    SetFind(String),
    /// Jump to the next (or previous) step that matches this query.
    Seek(StepQuery, bool),
    /// Jump to the next (or previous) match of the step search.
    FindNext(bool),
    /// Stop Play at steps that match the search.
    SetBreakOnFind(bool),
    /// Show only the steps that match the search in the step list.
    SetFilterSteps(bool),
    /// Allocate the function again keeping these registers (all of them:
    /// compile it as Wasmtime does).
    SetRegisters(RegisterCounts),
    /// Allocate the function with one class cut down count by count.
    Sweep(regalloc2::RegClass),
    /// The sweep's answer, for the function, settings and class it was
    /// asked for.
    SweepDone(
        (u32, crate::engine::session::Settings, regalloc2::RegClass),
        Result<Vec<SweepPoint>, String>,
    ),
    /// Step the function as a regalloc2 source tree allocates it.
    StepTree(PathBuf),
    /// Allocate the function with every built-in regalloc2 release.
    RunVersions,
    /// Their answer, for the function and settings asked for.
    VersionsDone(
        (u32, crate::engine::session::Settings),
        Result<crate::engine::releases::versions::Versions, String>,
    ),
    /// Run the function twice, as the two specs say, and compare.
    CompareRuns(String, String),
    /// The comparison's answer, for the `pair`-th pair asked for.
    RunsDone(u64, Result<Box<RunsPair>, String>),
    /// Put run b's (or a's) replay after this many steps.
    RunsSeek {
        b: bool,
        step: usize,
    },
    /// Show this program point in both charts of the comparison, and the
    /// value's row when the difference names one.
    RunsFocus(Point, Option<crate::engine::trace::VRegId>),
    /// Export the compile on screen (the chart at the current step, the
    /// report, a bug bundle).
    Export(ExportKind),
    /// Where an export went, or why it did not.
    /// Lay the code views out in tabs or in columns.
    SetCodeLayout(super::tabs::CodeLayout),
    /// Stop the bug bundle being written; nothing is written.
    CancelExport,
    ExportDone(Result<String, String>),
    /// Make the module's memories with Wasmtime under each host profile and
    /// compare with the model.
    MeasureLayout,
    /// The measurement: the profiles it was made under, and its rows.
    MeasureDone(
        Vec<String>,
        Result<Vec<crate::engine::layout::measure::MeasuredMemory>, String>,
    ),
    /// Read a release gate's JSON report into the Corpus window.
    OpenGateReport(PathBuf),
    /// Open this function of this module (as the report names it) in
    /// Compare runs, the gate's baseline against its candidate.
    OpenCorpusFunction(String, u32),
    CloseCorpus,
    /// Show this list under the summary (Events, Lineage, Moves, Registers).
    SetSide(SideTab),
    /// What the worker reported.
    Reply(Reply),
}

impl Command {
    /// Whether this command moves the replay cursor.
    pub fn is_cursor_move(&self) -> bool {
        matches!(
            self,
            Command::StepForward
                | Command::StepBack
                | Command::Jump(_)
                | Command::First
                | Command::Last
        )
    }
}
