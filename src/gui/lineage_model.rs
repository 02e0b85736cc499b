//! The split tree of one compile, flattened once on the worker (depth-first,
//! without recursion: a looping split chain can be thousands deep), with the
//! bundles of a detected loop.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::engine::replay::Replay;
use crate::engine::replay::diagnose::Diagnosis;
use crate::engine::trace::{BundleId, Outcome, Trace};

/// One row of the flattened tree.
#[derive(Clone, Debug, PartialEq)]
pub struct LineageRow {
    pub depth: u32,
    pub bundle: BundleId,
    /// The step (0-based) that created this bundle by splitting its parent.
    pub created_at: Option<usize>,
    /// The first step (0-based) that processed it.
    pub first_step: Option<usize>,
    /// How its last step ended, in words.
    pub ended: String,
    pub children: usize,
    pub in_cycle: bool,
}

/// The split forest, flattened.
#[derive(Clone, Debug, Default)]
pub struct LineageModel {
    pub rows: Vec<LineageRow>,
    /// Row of each bundle, for following the cursor.
    pub row_of: HashMap<BundleId, usize>,
    pub splits: usize,
    /// Bundles in the detected loop, shared with the chart's focus.
    pub cycle: Arc<HashSet<BundleId>>,
}

impl LineageModel {
    pub fn new(
        trace: &Trace,
        replay: &Replay,
        diagnosis: &Diagnosis,
        names: Option<crate::engine::trace::RegNames>,
    ) -> LineageModel {
        let mut children: HashMap<BundleId, Vec<(BundleId, usize)>> = HashMap::new();
        let mut parent: HashMap<BundleId, BundleId> = HashMap::new();
        for e in &replay.lineage {
            children
                .entry(e.parent)
                .or_default()
                .push((e.child, e.step));
            parent.insert(e.child, e.parent);
        }
        let mut ended: HashMap<BundleId, String> = HashMap::new();
        for s in &trace.steps {
            let text = match &s.outcome {
                Outcome::Allocated { preg } => format!(
                    "allocated {}",
                    crate::engine::replay::explain::reg(*preg, names)
                ),
                Outcome::Split { at, .. } => format!("split at {}", at.text()),
                Outcome::Spilled { .. } => "spilled".to_string(),
                Outcome::Incomplete => "stopped inside its step".to_string(),
            };
            ended.insert(s.bundle, text);
        }
        let cycle: HashSet<BundleId> = diagnosis.cycle_bundles.iter().copied().collect();
        let mut roots: Vec<BundleId> = children
            .keys()
            .filter(|b| !parent.contains_key(b))
            .copied()
            .collect();
        roots.sort_unstable();
        let mut rows = Vec::new();
        let mut stack: Vec<(BundleId, u32, Option<usize>)> =
            roots.iter().rev().map(|&b| (b, 0, None)).collect();
        let mut seen = HashSet::new();
        while let Some((bundle, depth, created_at)) = stack.pop() {
            if !seen.insert(bundle) {
                continue;
            }
            let kids = children.get(&bundle).map(Vec::as_slice).unwrap_or(&[]);
            rows.push(LineageRow {
                depth,
                bundle,
                created_at,
                first_step: replay.first_step_of.get(&bundle).copied(),
                ended: ended
                    .get(&bundle)
                    .cloned()
                    .unwrap_or_else(|| "not processed yet".into()),
                children: kids.len(),
                in_cycle: cycle.contains(&bundle),
            });
            for &(child, step) in kids.iter().rev() {
                stack.push((child, depth + 1, Some(step)));
            }
        }
        let row_of = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.bundle, i))
            .collect();
        LineageModel {
            rows,
            row_of,
            splits: children.len(),
            cycle: Arc::new(cycle),
        }
    }
}
