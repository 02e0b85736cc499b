//! `export`: the chart at a step as SVG (parsed as XML, one rectangle per
//! live range, the step's bundle outlined) and PNG (decoded, the ranges in
//! their colours, text drawn), the HTML report (no network reference, every
//! step and move), and the bug bundle (its one-line command reproduces the
//! trace, from the CLIF and from the log).

use crate::common;

use spillscope::engine::capture::CaptureLimits;
use spillscope::engine::export::scene;
use spillscope::engine::input::Input;
use spillscope::engine::input::isa::Target;
use spillscope::engine::session::{self, Settings};
use spillscope::engine::trace::RegNames;

fn export(file: &str, func: &str, args: &[&str]) {
    let sample = common::samples_dir().join(file);
    let mut all = vec![
        "export",
        sample.to_str().unwrap(),
        "--func",
        func,
        "--target",
        "x86_64",
    ];
    all.extend_from_slice(args);
    let out = common::spillscope(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn trace(file: &str, func: &str) -> session::FunctionTrace {
    let input = Input::load(&common::samples_dir().join(file)).unwrap();
    let index = input.select(func).unwrap().index;
    let settings = Settings {
        target: Target::X86_64,
        ..Settings::default()
    };
    session::trace_function(&input, index, settings, CaptureLimits::default()).unwrap()
}

#[test]
fn the_svg_parses_and_holds_every_live_range() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chart.svg");
    export(
        "lessons/pressure.wat",
        "0",
        &["--svg", path.to_str().unwrap(), "--step", "20"],
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let t = trace("lessons/pressure.wat", "0");
    let state = t.replay.state_at(20);
    let trace = t.replay.trace();
    let live: usize = (0..state.bundles.len())
        .map(|b| {
            state
                .segs(b as u32)
                .iter()
                .filter(|s| trace.vreg_of_range.contains_key(&s.range))
                .count()
        })
        .sum();
    let ranges: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.children().any(|c| c.has_tag_name("title")))
        .collect();
    assert_eq!(
        ranges.len(),
        live,
        "one rectangle per live range at step 20"
    );
    // The step's bundle is outlined white and named in its tooltip.
    let bundle = t.replay.steps()[19].bundle;
    let outlined: Vec<_> = ranges
        .iter()
        .filter(|n| n.attribute("stroke") == Some("#ffffff"))
        .collect();
    assert!(!outlined.is_empty());
    for n in outlined {
        let title = n.children().find(|c| c.has_tag_name("title")).unwrap();
        assert!(
            title
                .text()
                .unwrap()
                .starts_with(&format!("bundle {bundle},"))
        );
    }
}

#[test]
fn the_png_shows_the_ranges_in_their_colours_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chart.png");
    export(
        "lessons/pressure.wat",
        "0",
        &["--png", path.to_str().unwrap()],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let t = trace("lessons/pressure.wat", "0");
    let chart = scene::chart(
        &t.replay,
        t.replay.len(),
        "x",
        RegNames::for_triple("x86_64"),
        600,
    );
    assert_eq!(
        (info.width, info.height),
        (chart.width.ceil() as u32, chart.height.ceil() as u32)
    );
    let pixel = |x: f32, y: f32| {
        let i = (y as usize * info.width as usize + x as usize) * 3;
        [buf[i], buf[i + 1], buf[i + 2]]
    };
    // The middle of every range wide and tall enough has its colour.
    let mut checked = 0;
    for r in chart
        .rects
        .iter()
        .filter(|r| r.w >= 6.0 && r.stroke.is_none())
    {
        assert_eq!(
            pixel(r.x + r.w / 2.0, r.y + r.h / 2.0),
            r.fill,
            "{:?}",
            r.title
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked} ranges checked");
    // The title is drawn: light pixels in the header.
    let lit = (0..400)
        .flat_map(|x| (4..22).map(move |y| (x as f32, y as f32)))
        .filter(|&(x, y)| pixel(x, y)[0] > 150)
        .count();
    assert!(lit > 100, "{lit} text pixels");
}

#[test]
fn the_html_report_is_self_contained_with_every_step_and_move() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    export(
        "c/kernels.wasm",
        "printf_core",
        &["--html", path.to_str().unwrap()],
    );
    let html = std::fs::read_to_string(&path).unwrap();
    // Nothing to load: the only URL is the SVG namespace name.
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for bad in ["http://", "https://", "src=", "<link", "@import", "url("] {
        assert!(!without_ns.contains(bad), "the report contains {bad}");
    }
    let t = trace("c/kernels.wasm", "printf_core");
    let steps = html.matches("<tr class=\"step\"").count();
    assert_eq!(
        steps,
        t.replay
            .len()
            .min(spillscope::engine::export::html::MAX_STEPS)
    );
    let moves =
        spillscope::engine::replay::moves::attribute(&t.replay, RegNames::for_triple("x86_64"));
    assert_eq!(
        html.matches("<tr class=\"move\"").count(),
        moves.moves.len()
    );
    assert!(
        html.contains("<span data-inst=\"0\">"),
        "VCode lines carry their instruction"
    );
    assert!(html.contains("<svg"));
}

#[test]
fn a_bug_bundle_reproduces_the_trace_with_its_own_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bundle");
    export(
        "c/kernels.wasm",
        "printf_core",
        &["--bundle", out.to_str().unwrap()],
    );
    // printf_core's log runs past twice what a bundle keeps: its first and
    // last records are kept, compressed.
    for f in [
        "function.clif",
        "flags.txt",
        "regalloc2.log.gz",
        "diagnosis.json",
        "README.md",
        "regalloc2-input.bin",
    ] {
        assert!(out.join(f).is_file(), "{f}");
        assert!(spillscope::engine::export::bundle::FILES.contains(&f));
    }
    // The allocator's input in regalloc2's own format, and the README line
    // that runs it.
    let bin = std::fs::read(out.join("regalloc2-input.bin")).unwrap();
    let (release, func) = spillscope::engine::releases::read_bin(
        Some(spillscope::engine::releases::Release::CRANELIFT),
        &bin,
    )
    .unwrap();
    assert!(func.num_operands() > 100, "{release}");
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    let command = readme
        .lines()
        .find(|l| l.starts_with("spillscope trace function.clif"))
        .expect("the reproduce command");
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .args(&args)
        .arg("--json")
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{args:?}: {}: {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let again: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let t = trace("c/kernels.wasm", "printf_core");
    assert_eq!(again["summary"]["steps"], t.replay.len());
    assert_eq!(again["summary"]["splits"], t.traced.trace.counts().splits);
    let keep = spillscope::engine::export::bundle::LOG_KEEP_BYTES;
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(
            std::fs::File::open(out.join("regalloc2.log.gz")).unwrap(),
        ),
        &mut text,
    )
    .unwrap();
    assert!(text.len() <= 2 * keep + 4096, "{}", text.len());
    let marker = text
        .lines()
        .position(|l| l.starts_with("[spillscope]") && l.contains("left out here"))
        .expect("the place of the cut is marked");
    let records = text
        .lines()
        .filter(|l| l.starts_with("[TRACE regalloc2"))
        .count();
    assert!(marker > 1000 && records > 2000, "{marker} {records}");
    assert!(
        readme.contains("Kept, compressed: the first 8.0 MiB and the last"),
        "{readme}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("diagnosis.json")).unwrap())
            .unwrap();
    assert!(json["log"]["left_out_bytes"].as_u64().unwrap() > 0);
    assert_eq!(json["log"]["file"], "regalloc2.log.gz");
    let size: u64 = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(size < 25_000_000, "{size} bytes: attachable to an issue");

    // A smaller function's bundle keeps its whole log, which replays the trace.
    let small = dir.path().join("small");
    export(
        "c/kernels.wasm",
        "8",
        &["--bundle", small.to_str().unwrap()],
    );
    let log = common::spillscope(&[
        "trace",
        "--log",
        small.join("regalloc2.log").to_str().unwrap(),
        "--json",
    ]);
    let from_log: serde_json::Value = serde_json::from_slice(&log.stdout).unwrap();
    assert_eq!(
        from_log["summary"]["steps"],
        trace("c/kernels.wasm", "8").replay.len()
    );
}

/// A control character in a function's name made the SVG invalid XML: it is
/// shown escaped in the SVG and the HTML report, which stay well formed.
#[test]
fn names_with_control_characters_leave_svg_and_html_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("named.wat");
    std::fs::write(
        &module,
        "(module (func (@name \"bell\\07esc\\1b[31m\") (param i32) (result i32) local.get 0 i32.const 3 i32.mul))",
    )
    .unwrap();
    let svg = dir.path().join("chart.svg");
    let html = dir.path().join("report.html");
    for out in [
        ["--svg", svg.to_str().unwrap()],
        ["--html", html.to_str().unwrap()],
    ] {
        let mut args = vec!["export", module.to_str().unwrap(), "--func", "0"];
        args.extend(out);
        let run = common::spillscope(&args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let text = std::fs::read_to_string(&svg).unwrap();
    roxmltree::Document::parse(&text).expect("the SVG is XML");
    let report = std::fs::read_to_string(&html).unwrap();
    for doc in [&text, &report] {
        assert!(
            !doc.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
            "a raw control character"
        );
    }
    assert!(
        report.contains("bell\\u{7}esc\\u{1b}[31m"),
        "the name, escaped"
    );
}

/// A bundle is written whole or not at all: one that could not be finished
/// (here an earlier bundle's folder holds something else where a file goes)
/// leaves the folder as it was, where files used to be replaced one by one
/// until the failing one; an earlier bundle's folder is replaced whole.
#[test]
fn a_bundle_is_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    let bundle_arg = bundle.to_str().unwrap();
    let run = |sample: &str, func: &str| {
        common::spillscope(&[
            "export",
            common::samples_dir().join(sample).to_str().unwrap(),
            "--func",
            func,
            "--bundle",
            bundle_arg,
        ])
    };
    assert!(run("fib.clif", "fib").status.success());
    let fib_clif = std::fs::read_to_string(bundle.join("function.clif")).unwrap();
    std::fs::remove_file(bundle.join("regalloc2.log")).unwrap();
    std::fs::create_dir(bundle.join("regalloc2.log")).unwrap();
    let out = run("lessons/pressure.wat", "0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("bundle: holds `regalloc2.log`, which is not a bundle file"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(bundle.join("function.clif")).unwrap(),
        fib_clif,
        "the earlier bundle is untouched"
    );
    std::fs::remove_dir(bundle.join("regalloc2.log")).unwrap();
    assert!(run("lessons/pressure.wat", "0").status.success());
    let readme = std::fs::read_to_string(bundle.join("README.md")).unwrap();
    assert!(readme.contains("pressure"), "{readme}");
    let mut names: Vec<String> = std::fs::read_dir(&bundle)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "README.md",
            "diagnosis.json",
            "flags.txt",
            "function.clif",
            "regalloc2-input.bin",
            "regalloc2.log"
        ]
    );
    // Nothing is left beside it.
    let beside: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(beside.len(), 1);
}
