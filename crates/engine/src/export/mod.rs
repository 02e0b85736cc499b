//! Exports, beside the pipeline: the chart at one step as a scene of shapes
//! written as SVG or rasterized to PNG; a self-contained HTML report of a
//! trace; a bug bundle for allocator reports.
//!
//! - [`scene`]: the chart at step k as rectangles, lines and text
//! - [`svg`]: a scene as SVG
//! - [`png`]: a scene rasterized (rectangles, lines, text from an embedded font)
//! - [`html`]: one file, no network: steps, explanations, chart, linked code
//! - [`bundle`]: CLIF, flags, the log cut at the budget, the diagnosis, a README

pub mod bundle;
pub mod html;
pub mod png;
pub mod scene;
pub mod svg;
