//! regalloc2's records → typed allocator events.
//!
//! The parser mirrors the `trace!` messages of regalloc2 0.15.2, one file here
//! per message source, as regalloc2's `src/ion/` is split. Those messages are
//! not a stable API; the family is pinned and the parser is covered by tests on
//! real traces. Records we do not understand are counted, never fatal. Logs of
//! regalloc2 0.9–0.15 are understood too: the differences are tabled in
//! [`dialect`].
//!
//! One step is one bundle taken from the allocation queue ("process_bundle:"),
//! or one spill bundle tried in the second-chance pass; every record up to the
//! next such moment belongs to that step. The builder keeps each bundle's live
//! ranges up to date through splits ([`BundleRanges`]), so each step carries
//! the new range lists of the bundles it changed: the replay only applies them.
//!
//! Files, in the order a record meets them:
//! - [`model`]: the events, steps and [`Trace`] every consumer reads
//! - [`dialect`]: which releases fit a log, and the table of their differences
//! - `scan`: the small text scanners (numbers, points, registers, operands)
//! - `builder`: [`TraceBuilder`], its state, the record dispatch, id bounds
//! - `dump`: `ion/dump.rs`, the state dumps
//! - `merge`: `ion/merge.rs`, the initial queue
//! - `process`: `ion/process.rs`, a bundle's allocation attempt
//! - `split`: `ion/process.rs`, `split_and_requeue_bundle`
//! - `minimal`: `ion/process.rs`, `split_into_minimal_bundles`
//! - `props`: `ion/process.rs`, `recompute_bundle_properties`
//! - `spill`: `ion/spill.rs`, the second-chance pass and spill slots
//! - `moves`: `ion/moves.rs`, final locations, moves asked for, edits
//! - [`single_pass`]: `fastalloc/mod.rs`, the single-pass allocator's steps
//! - [`ranges`]: each bundle's live ranges through a run of steps
//! - [`observe`]: the hook that watches steps while they are parsed
//! - [`regs`]: real register names per target
//! - [`import`]: env_logger text from other builds → the same builder

mod builder;
pub mod dialect;
mod dump;
pub mod import;
mod merge;
mod minimal;
pub mod model;
mod moves;
pub mod observe;
mod process;
mod props;
pub mod ranges;
pub mod regs;
mod scan;
pub mod single_pass;
mod spill;
mod split;

pub use builder::TraceBuilder;
pub use model::*;
pub use observe::StepObserver;
pub use ranges::{BundleRanges, covered_points, vregs_in};
pub use regs::RegNames;
