//! The memory tab's model: the open module's memory facts (read on the
//! worker) under the chosen profiles, the layout report, and the per-profile
//! compiles of the code-effect table; plus the tab's view state.
//!
//! The layout report is cheap and recomputed on every profile change
//! (`LayoutReport::from_module`); reading the module and the compiles run on
//! the worker.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::engine::layout::measure::MeasuredMemory;

use crate::engine::input::isa::Target;
use crate::engine::layout::effect::CompareReport;
use crate::engine::layout::model::ModuleLayout;
use crate::engine::layout::profile::SOURCE_MODEL_PRESETS;
use crate::engine::layout::{LayoutReport, Profile};
use crate::engine::session::Settings;

use super::compiled::Compiled;
use super::tabs::CentralTab;

/// Where the memory tab's model is for the open file.
pub enum LayoutState {
    /// Nothing open, or an input without a module (CLIF text, a regalloc2 log).
    NoModule,
    /// The worker is reading the module's memory facts; the preset choice
    /// carries over from the file open before.
    Reading(PresetChoice),
    /// The module's memory facts could not be read: the engine's message.
    Failed(String),
    Ready(Box<LayoutModel>),
}

impl LayoutState {
    /// The preset choice to carry over to the next module.
    pub fn presets(&self) -> PresetChoice {
        match self {
            LayoutState::Ready(m) => m.presets.clone(),
            LayoutState::Reading(p) => p.clone(),
            LayoutState::NoModule | LayoutState::Failed(_) => PresetChoice::default(),
        }
    }

    pub fn model(&self) -> Option<&LayoutModel> {
        match self {
            LayoutState::Ready(m) => Some(m),
            _ => None,
        }
    }

    pub fn model_mut(&mut self) -> Option<&mut LayoutModel> {
        match self {
            LayoutState::Ready(m) => Some(m),
            _ => None,
        }
    }
}

/// Which preset profiles are on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresetChoice {
    pub jit: bool,
    pub aot: bool,
    pub aot_target: Target,
    pub explicit: bool,
    pub limit: bool,
    pub limit_pages: u64,
    pub wasmedge: bool,
    /// Keys of the runtime models that are on (`v8`, `wamr:software`, ...;
    /// `SOURCE_MODEL_PRESETS`).
    pub models: BTreeSet<String>,
}

impl Default for PresetChoice {
    fn default() -> Self {
        PresetChoice {
            jit: true,
            aot: false,
            aot_target: Target::Aarch64,
            explicit: true,
            limit: false,
            limit_pages: 32766,
            wasmedge: true,
            models: BTreeSet::new(),
        }
    }
}

impl PresetChoice {
    fn specs(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.jit {
            out.push("jit".to_string());
        }
        if self.aot {
            out.push(format!("aot:{}", self.aot_target.name()));
        }
        if self.explicit {
            out.push("explicit".to_string());
        }
        if self.limit {
            out.push(format!("limit:{}", self.limit_pages));
        }
        if self.wasmedge {
            out.push("wasmedge".to_string());
        }
        for (key, _) in SOURCE_MODEL_PRESETS {
            if self.models.contains(key) {
                out.push(key.to_string());
            }
        }
        out
    }
}

/// View-only state of the memory tab.
pub struct LayoutViewState {
    pub central: CentralTab,
    pub limit_text: String,
    /// Key of the profile whose knobs are shown.
    pub knob_profile: Option<String>,
    /// Horizontal zoom of the bands (1 = fit).
    pub zoom: f32,
    pub memory: u32,
}

impl Default for LayoutViewState {
    fn default() -> Self {
        LayoutViewState {
            central: CentralTab::Allocator,
            limit_text: PresetChoice::default().limit_pages.to_string(),
            knob_profile: None,
            zoom: 1.0,
            memory: 0,
        }
    }
}

/// The per-profile compiles of one function.
pub struct Effects {
    pub func_index: u32,
    pub profiles: Vec<Profile>,
    pub settings: Settings,
    pub report: CompareReport,
    /// Per row; a row whose compile is on screen in the allocator view is
    /// `None` here until another row replaces it.
    pub compiled: Vec<Option<Box<Compiled>>>,
}

/// A measurement of the memories: the profiles it was made under, and its
/// rows (or why there are none).
pub type Measurement = (Vec<String>, MeasureRows);

/// Each memory under each host Wasmtime profile, or why not.
pub type MeasureRows = Result<Vec<MeasuredMemory>, String>;

/// The open module's layout under the chosen profiles.
pub struct LayoutModel {
    pub module: Arc<ModuleLayout>,
    pub presets: PresetChoice,
    /// Edited profiles by key; they replace the preset of the same key.
    pub edits: BTreeMap<String, Profile>,
    pub profiles: Vec<Profile>,
    pub report: LayoutReport,
    /// Why a profile could not be built or an edit was refused.
    pub error: Option<String>,
    pub effects: Option<Effects>,
    /// Row of `effects` whose compile the allocator view shows.
    pub opened_row: Option<usize>,
    /// The memories made by Wasmtime under each host profile, against the
    /// model (`None` until asked; the profiles they were made under).
    pub measured: Option<Measurement>,
}

impl LayoutModel {
    pub fn new(module: ModuleLayout, presets: PresetChoice) -> LayoutModel {
        let mut m = LayoutModel {
            report: LayoutReport::from_module(module.clone(), &[]),
            module: Arc::new(module),
            presets,
            edits: BTreeMap::new(),
            profiles: Vec::new(),
            error: None,
            effects: None,
            opened_row: None,
            measured: None,
        };
        m.rebuild();
        m
    }

    /// Rebuilds the profiles from the presets and edits, and the report.
    pub fn rebuild(&mut self) {
        self.error = None;
        let mut profiles = Vec::new();
        for spec in self.presets.specs() {
            match Profile::from_spec(&spec) {
                Ok(p) => profiles.push(self.edits.get(&p.key).cloned().unwrap_or(p)),
                Err(e) => self.error = Some(e.to_string()),
            }
        }
        self.profiles = profiles;
        self.report = LayoutReport::from_module((*self.module).clone(), &self.profiles);
    }

    /// Replaces the profile with `edited.key`, after Wasmtime accepts it.
    pub fn edit(&mut self, mut edited: Profile) {
        if let Err(e) = edited.validate() {
            self.error = Some(e.to_string());
            return;
        }
        if !edited.name.ends_with(" (edited)") {
            edited.name.push_str(" (edited)");
        }
        self.edits.insert(edited.key.clone(), edited);
        self.rebuild();
    }

    /// Whether `effects` were computed for exactly these inputs.
    pub fn effects_current(&self, func_index: u32, settings: Settings) -> bool {
        self.effects.as_ref().is_some_and(|e| {
            e.func_index == func_index && e.profiles == self.profiles && e.settings == settings
        })
    }
}
