//! A process whose `log` logger someone else installed first: spillscope
//! cannot see regalloc2's records there, and says so instead of showing an
//! empty trace. (A test binary of its own: the logger is per process.)

use spillscope_engine::capture::{self, CaptureLimits};
use spillscope_engine::input::Input;
use spillscope_engine::session::{self, Settings};

struct Elsewhere;

impl log::Log for Elsewhere {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, _: &log::Record) {}
    fn flush(&self) {}
}

#[test]
fn a_logger_installed_first_makes_every_capture_an_error() {
    log::set_logger(&Elsewhere).expect("the first logger of this process");
    assert_eq!(capture::install(), Err(capture::LOGGER_TAKEN));

    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-modules/pressure.wat");
    let input = Input::load(&path).unwrap();
    let index = input.select("pressure").unwrap().index;
    let err =
        match session::trace_function(&input, index, Settings::default(), CaptureLimits::default())
        {
            Ok(t) => panic!("a trace of {} steps without records", t.replay.len()),
            Err(e) => e.to_string(),
        };
    assert!(err.contains("pressure.wat"), "names the file: {err}");
    assert!(err.contains("another `log` logger"), "says why: {err}");
}
