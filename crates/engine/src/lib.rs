//! spillscope's engine: everything from a file's bytes to "the allocator's
//! state after step k". No GUI and no command line in its tree: the app and
//! the CLI (the `spillscope` package) are two front ends over it.
//!
//! The pipeline for one function, with the type on each arrow:
//!
//! ```text
//!  file ──input::Input::load──► Input { body: Body::Wasm | Body::Clif, functions }
//!    │ session::prepare
//!    ▼
//!  session::Prepared { route: Route::Wasm (Wasmtime's compiler) | Route::Clif, flags }
//!    │ compile::CompileJob::compile, inside capture::capture (records → RecordSink)
//!    ▼
//!  trace::TraceBuilder ──finish──► trace::Trace { algorithm, steps: Vec<Step>, moves, … }
//!    │ (a regalloc2 log takes trace::import instead, into the same builder)
//!    ▼
//!  compile::TracedCompile { end: CompileEnd, trace: Arc<Trace>, checker }
//!    │ replay::Replay::new (checkpoints every 64 steps or more)
//!    ▼
//!  session::FunctionTrace { origin: TraceOrigin, traced, replay }
//!    │ replay::Replay::state_at(k)
//!    ▼
//!  replay::State { bundles, ranges }  ── explain, narrate, moves, pressure,
//!                                        diagnose, diff, query, invariants
//! ```
//!
//! How records become events, steps, range deltas, checkpoints and a replay,
//! and what holds at each stage: `docs/event-model.md`.
//!
//! Stages, in pipeline order (each folder's `mod.rs` lists its files):
//! - [`input`]: read and validate a file, list functions, Wasm → CLIF, targets
//! - [`capture`]: per-thread capture of regalloc2's `trace!` records, budgets
//! - [`compile`]: one compile, traced or not; the link map; the rebuilt
//!   regalloc2 function allocated again; fidelity
//! - [`releases`]: every built-in regalloc2 release, allocating a rebuilt
//!   function, checking it, writing and reading its reproducer format
//! - [`trace`]: records (live or from a log) → typed allocator events
//! - [`replay`]: allocator state after any step; explanation, invariants, diagnosis
//! - [`session`]: the whole pipeline for one chosen function
//! - [`opening`]: a file as the front ends open it (module or regalloc2 log)
//! - [`runs`]: runs of one function described as `KEY=VALUE`, compared
//! - [`triage`]: reduce, scan, merge, fidelity, for hangs and failures
//! - [`layout`]: a module's linear memory under runtime profiles (beside the pipeline)
//! - [`export`]: the chart as SVG or PNG, an HTML report, a bug bundle (beside the pipeline)
//! - [`process`]: child processes in their own group, killed as a group
//! - [`memory`]: bytes in use, the memory budget, an allocation failure said in words

pub mod capture;
pub mod compile;
pub mod error;
pub mod export;
pub mod input;
pub mod layout;
pub mod memory;
pub mod opening;
pub mod process;
pub mod releases;
pub mod replay;
pub mod runs;
pub mod session;
pub mod trace;
pub mod triage;
