//! The memory budget where spillscope allocates: with spillscope's counting
//! allocator installed (as the binary installs it), a trace whose process
//! passes the budget stops at the next check and says so, keeping the steps
//! it has. (A test binary of its own: the allocator and the budget are per
//! process.)

use spillscope_engine::capture::{CaptureLimits, CaptureStop};
use spillscope_engine::input::Input;
use spillscope_engine::memory;
use spillscope_engine::session::{self, Settings};

#[global_allocator]
static ALLOCATOR: memory::Guarded = memory::Guarded;

#[test]
fn a_trace_past_the_memory_budget_stops_and_says_so() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sample-modules/lessons/pressure.wat");
    let input = Input::load(&path).unwrap();
    let counted = memory::in_use().expect("the counting allocator is installed");
    assert!(counted > 0 && memory::peak().unwrap() >= counted);

    // The function fits the default budget; then the budget drops below
    // what the process already holds.
    let prepared = session::prepare(&input, 0, Settings::default()).unwrap();
    memory::set_budget(1);
    let t = session::trace_prepared(
        &input,
        prepared,
        Settings::default(),
        CaptureLimits::default(),
    )
    .unwrap();
    let stopped = t.traced.trace.stopped.clone();
    let Some(CaptureStop::Memory { used, budget }) = stopped else {
        panic!("not stopped by the memory budget: {stopped:?}");
    };
    assert!(used > budget && budget == 1);
    let said = stopped.unwrap().to_string();
    assert!(
        said.starts_with("stopped at the memory budget") && said.contains("--memory"),
        "{said}"
    );

    // Before the compile, a function is refused from its size alone.
    let e = session::prepare(&input, 0, Settings::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("more than the 1 byte --memory budget; nothing was compiled"),
        "{e}"
    );
}
