//! The app's tabs: which area shows what. Plain values every panel and the
//! command type name, kept apart so that no view has to import another.

/// What the central area shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CentralTab {
    #[default]
    Allocator,
    Memory,
    /// Two runs of the function side by side.
    Compare,
    /// The function allocated by every built-in regalloc2 release.
    Releases,
}

/// The list under the summary in the right panel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SideTab {
    #[default]
    Events,
    Lineage,
    Moves,
    /// Fewer registers: the counts to allocate with, and the sweep.
    Registers,
}

/// Which text the code panel shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CodeTab {
    Wasm,
    ClifTranslated,
    ClifOptimized,
    VCode,
    Final,
}

impl CodeTab {
    pub const ALL: [CodeTab; 5] = [
        CodeTab::Wasm,
        CodeTab::ClifTranslated,
        CodeTab::ClifOptimized,
        CodeTab::VCode,
        CodeTab::Final,
    ];

    pub fn title(self) -> &'static str {
        match self {
            CodeTab::Wasm => "Wasm",
            CodeTab::ClifTranslated => "CLIF (translated)",
            CodeTab::ClifOptimized => "CLIF (optimized)",
            CodeTab::VCode => "VCode (before regalloc)",
            CodeTab::Final => "Final code (allocated)",
        }
    }
}

/// How the code panel lays out its views: one at a time in tabs, or two or
/// three side by side in columns, each linked to the others as the tabs are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CodeLayout {
    /// Columns rather than tabs.
    pub columns: bool,
    /// The views of the columns, left to right; the first `count` are shown.
    pub views: [CodeTab; 3],
    /// 2 or 3.
    pub count: usize,
}

impl Default for CodeLayout {
    /// Tabs; in columns, Wasm | CLIF | machine code.
    fn default() -> Self {
        CodeLayout {
            columns: false,
            views: [CodeTab::Wasm, CodeTab::ClifOptimized, CodeTab::Final],
            count: 3,
        }
    }
}

impl CodeLayout {
    /// The views shown in columns.
    pub fn shown(&self) -> &[CodeTab] {
        &self.views[..self.count.clamp(2, 3)]
    }
}

/// Where a panel leaves, in egui's memory, the size of what it last drew,
/// for the app's accessors (and so the tests) to read: the register sweep's
/// plot, the memory tab's narrowest region band and its Differences list.
pub const SWEEP_PLOT_RECT: &str = "register_sweep_rect";
pub const NARROWEST_REGION: &str = "layout_narrowest_region";
pub const DIFFERENCES_RECT: &str = "layout_differences_rect";
