//! Every built-in regalloc2 release side by side: [`Release`] (which one),
//! [`crate::compile::releases`] (running one), and [`versions`] (one function
//! allocated by all of them, compared).

pub mod versions;

pub use crate::compile::releases::{Allocated, Refused, allocate, from_bin, read_bin, to_bin};
pub use crate::input::release::Release;
