//! Memory: what the process has allocated, the budget one function's work
//! may use, and what happens when an allocation fails.
//!
//! The front end installs [`Guarded`] as the global allocator. It counts the
//! bytes in use (so a trace can stop at the budget, as it stops at a record
//! budget or a deadline: [`crate::capture::CaptureStop::Memory`]) and, when the
//! system refuses an allocation that cannot fail softly (stable Rust cannot
//! unwind from one), prints one line naming the limit before the process
//! ends, instead of Rust's bare abort. Code that can take a refusal wraps its
//! `try_reserve` in [`fallibly`].
//!
//! Before a compile, [`check_function_fits`] compares what the function's
//! size says it will need with the memory left: a function that cannot fit
//! is refused before any work, in words.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::error::size_text;
use crate::error::{EngineError, EngineResult};

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(false);
/// 0: not set, [`default_budget`] applies.
static BUDGET: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static SOFT_FAILURE: Cell<bool> = const { Cell::new(false) };
}

/// The global allocator of spillscope's binaries: the system allocator,
/// counted, with a failure said in words.
pub struct Guarded;

unsafe impl GlobalAlloc for Guarded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let p = unsafe { System.alloc(layout) };
        counted(p, layout.size(), layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        counted(p, layout.size(), layout.size())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            return counted(p, new_size, 0);
        }
        if new_size >= layout.size() {
            counted(p, new_size, new_size - layout.size())
        } else {
            IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            p
        }
    }
}

/// Counts `grown` more bytes for a successful allocation; for a failed one,
/// returns null where the caller takes failure softly and otherwise ends the
/// process with one line.
fn counted(p: *mut u8, size: usize, grown: usize) -> *mut u8 {
    if p.is_null() {
        if SOFT_FAILURE.with(Cell::get) {
            return p;
        }
        out_of_memory(size);
    }
    // Plain loads before stores: one atomic write per allocation, not three
    // (allocation is hot in every compile).
    if !COUNTING.load(Ordering::Relaxed) {
        COUNTING.store(true, Ordering::Relaxed);
    }
    let now = IN_USE.fetch_add(grown, Ordering::Relaxed) + grown;
    if now > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
    p
}

/// A fixed buffer to format into without allocating.
struct Line {
    bytes: [u8; 512],
    len: usize,
}

impl std::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = self.bytes.len() - self.len;
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// `bytes` as `977 MiB`, without allocating.
fn write_size(out: &mut Line, bytes: u64) {
    use std::fmt::Write as _;
    let (value, unit) = match bytes {
        b if b >= 1 << 30 => (b as f64 / (1u64 << 30) as f64, "GiB"),
        b if b >= 1 << 20 => (b as f64 / (1u64 << 20) as f64, "MiB"),
        b if b >= 1 << 10 => (b as f64 / (1u64 << 10) as f64, "KiB"),
        b => {
            let _ = write!(out, "{b} bytes");
            return;
        }
    };
    let _ = write!(out, "{value:.1} {unit}");
}

/// Says in one line that memory ran out, and ends the process (exit 1).
fn out_of_memory(size: usize) -> ! {
    use std::fmt::Write as _;
    let mut line = Line {
        bytes: [0; 512],
        len: 0,
    };
    let _ = write!(line, "error: out of memory: an allocation of ");
    write_size(&mut line, size as u64);
    let _ = write!(line, " failed with ");
    write_size(&mut line, IN_USE.load(Ordering::Relaxed) as u64);
    let _ = write!(line, " in use");
    match address_space_limit() {
        Some(limit) => {
            let _ = write!(line, ", under the address-space limit of ");
            write_size(&mut line, limit);
            let _ = write!(
                line,
                " (ulimit -v); raise the limit, or choose a smaller function"
            );
        }
        None => {
            let _ = write!(
                line,
                "; the system has no more to give (close other programs, or choose a smaller function)"
            );
        }
    }
    let _ = line.write_str("\n");
    #[cfg(unix)]
    // SAFETY: writing a buffer we own to file descriptor 2, then ending the
    // process without running anything that could allocate.
    unsafe {
        libc::write(2, line.bytes.as_ptr().cast(), line.len);
        libc::_exit(1);
    }
    #[cfg(not(unix))]
    std::process::abort();
}

/// Runs `f` with allocation failures on this thread returned to the caller
/// (a `try_reserve` gets its `Err`) instead of ending the process.
pub fn fallibly<T>(f: impl FnOnce() -> T) -> T {
    let before = SOFT_FAILURE.with(|s| s.replace(true));
    let out = f();
    SOFT_FAILURE.with(|s| s.set(before));
    out
}

/// Bytes allocated and not yet freed; `None` unless [`Guarded`] is the
/// global allocator.
pub fn in_use() -> Option<u64> {
    COUNTING
        .load(Ordering::Relaxed)
        .then(|| IN_USE.load(Ordering::Relaxed) as u64)
}

/// The most bytes ever in use at once; `None` as for [`in_use`].
pub fn peak() -> Option<u64> {
    COUNTING
        .load(Ordering::Relaxed)
        .then(|| PEAK.load(Ordering::Relaxed) as u64)
}

/// The process's address-space limit (`ulimit -v`), if it has one.
pub fn address_space_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we pass.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } == 0;
        (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

/// The address space the process already uses (Linux: `VmSize`).
fn address_space_used() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = status.split_whitespace().next()?.parse().ok()?;
    Some(pages * 4096)
}

/// The machine's physical memory (Linux: `MemTotal`).
fn physical_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Where the budget in force comes from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetSource {
    /// `--memory`.
    Given,
    /// Three quarters of the machine's memory.
    Machine,
    /// Nine tenths of the address-space limit.
    AddressSpace,
}

impl BudgetSource {
    fn words(self) -> &'static str {
        match self {
            BudgetSource::Given => "--memory budget",
            BudgetSource::Machine => {
                "default memory budget (three quarters of this machine's memory; --memory raises it)"
            }
            BudgetSource::AddressSpace => "memory budget under the address-space limit (ulimit -v)",
        }
    }
}

/// The memory one function's work may use when `--memory` is not given:
/// three quarters of the machine's memory, and under an address-space limit
/// nine tenths of that limit, whichever is less.
pub fn default_budget() -> (u64, BudgetSource) {
    static DEFAULT: std::sync::OnceLock<(u64, BudgetSource)> = std::sync::OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let machine = physical_memory().map_or(8 << 30, |m| m / 4 * 3);
        match address_space_limit() {
            Some(limit) if limit / 10 * 9 < machine => (limit / 10 * 9, BudgetSource::AddressSpace),
            _ => (machine, BudgetSource::Machine),
        }
    })
}

/// Sets the budget (`--memory`).
pub fn set_budget(bytes: u64) {
    BUDGET.store(bytes.max(1), Ordering::Relaxed);
}

/// The budget in force and where it comes from.
pub fn budget() -> (u64, BudgetSource) {
    match BUDGET.load(Ordering::Relaxed) {
        0 => default_budget(),
        b => (b, BudgetSource::Given),
    }
}

/// When the bytes in use passed the budget: the bytes and the budget.
pub fn over_budget() -> Option<(u64, u64)> {
    let used = in_use()?;
    let (budget, _) = budget();
    (used > budget).then_some((used, budget))
}

/// Memory a compile and trace of a Wasm function needs per byte of its
/// body, measured on real functions (docs/limits.md): Wasmtime's CLIF and
/// VCode of it, regalloc2's state and the trace.
pub const BYTES_PER_WASM_BYTE: u64 = 1024;
/// The same per byte of CLIF text, which is already several times the size
/// of the Wasm it came from.
pub const BYTES_PER_CLIF_BYTE: u64 = 64;

/// What tracing a function of `body_bytes` is expected to need.
pub fn expected_need(body_bytes: u64, clif: bool) -> u64 {
    let per_byte = if clif {
        BYTES_PER_CLIF_BYTE
    } else {
        BYTES_PER_WASM_BYTE
    };
    (32 << 20) + body_bytes.saturating_mul(per_byte)
}

/// Refuses, before any work, a function whose size says its trace will not
/// fit: in the budget, or in the address space a `ulimit -v` leaves.
pub fn check_function_fits(
    path: &Path,
    function: &str,
    body_bytes: u64,
    clif: bool,
) -> EngineResult<()> {
    let need = expected_need(body_bytes, clif);
    let (budget, source) = budget();
    let refuse = |room: u64, what: &str| EngineError::Compile {
        path: path.to_path_buf(),
        function: function.to_string(),
        message: format!(
            "its body is {}; tracing it needs about {}, more than the {} {what}; nothing was compiled",
            size_text(body_bytes),
            size_text(need),
            size_text(room),
        ),
    };
    if need > budget {
        return Err(refuse(budget, source.words()));
    }
    if let (Some(limit), Some(used)) = (address_space_limit(), address_space_used()) {
        let room = limit.saturating_sub(used);
        if need > room {
            return Err(refuse(
                room,
                "left under the address-space limit (ulimit -v; raise it)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_too_big_for_the_budget_is_refused_in_words() {
        let (budget, _) = budget();
        let body = budget / BYTES_PER_WASM_BYTE + 1;
        let e = check_function_fits(Path::new("big.wasm"), "f", body, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("big.wasm: function `f`: its body is")
                && e.contains("nothing was compiled"),
            "{e}"
        );
        check_function_fits(Path::new("small.wasm"), "f", 1000, false).unwrap();
    }

    #[test]
    fn sizes_are_formatted_without_allocating() {
        let mut line = Line {
            bytes: [0; 512],
            len: 0,
        };
        write_size(&mut line, 1_000_000 * 1024);
        assert_eq!(&line.bytes[..line.len], b"976.6 MiB");
    }
}
