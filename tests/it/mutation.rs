//! Mutated inputs, a few hundred of them from a fixed seed: real Wasm (a C
//! module and a sample), real CLIF (the loop reproducer and a sample) and
//! real regalloc2 logs, each with bytes flipped, inserted, deleted,
//! duplicated, cut, or numbers and control characters put in. Every run of
//! `spillscope` on them must end by itself with an exit code of 0, 1 or 2
//! (never a panic's 101, never a signal such as an abort's), and stay under
//! 1 GB of memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The peak memory any one run may reach.
const PEAK_LIMIT_KB: i64 = 1 << 20;

/// xorshift64*: a fixed sequence from a fixed seed, the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed`; text mutations keep text inputs text-like.
fn mutate(rng: &mut Rng, seed: &[u8], text: bool) -> Vec<u8> {
    let mut b = seed.to_vec();
    let rounds = 1 + rng.below(2);
    for _ in 0..rounds {
        let at = rng.below(b.len());
        // Text inputs: half of the mutations change a number.
        let kind = if text && rng.below(2) == 0 {
            6
        } else {
            rng.below(if text { 9 } else { 6 })
        };
        match kind {
            // Flip a few bytes.
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(b.len());
                    if let Some(x) = b.get_mut(i) {
                        *x ^= 1 << rng.below(8);
                    }
                }
            }
            // Insert random bytes.
            1 => {
                let n = 1 + rng.below(16);
                let junk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                b.splice(at..at, junk);
            }
            // Delete a range.
            2 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            // Cut the rest.
            3 => b.truncate(at),
            // Duplicate a chunk.
            4 => {
                let end = (at + 1 + rng.below(256)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            // Overwrite with extreme bytes.
            5 => {
                for x in b.iter_mut().skip(at).take(1 + rng.below(8)) {
                    *x = [0x00, 0xff, 0x7f, 0x80][rng.below(4)];
                }
            }
            // Another number where a number was: small, at a type's edge,
            // or huge (text inputs mostly still parse, and reach the compile).
            6 => {
                if let Some(i) = b[at..].iter().position(u8::is_ascii_digit) {
                    let start = at + i;
                    let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let numbers: [&[u8]; 9] = [
                        b"0",
                        b"1",
                        b"7",
                        b"255",
                        b"65536",
                        b"2147483647",
                        b"4294967295",
                        b"100000000",
                        b"18446744073709551616",
                    ];
                    b.splice(start..end, numbers[rng.below(9)].iter().copied());
                }
            }
            // A control character or an escape sequence.
            7 => {
                let bits: &[u8] =
                    [&b"\x1b[31m"[..], b"\0", b"\r", b"\x07", b"\xef\xbb\xbf"][rng.below(5)];
                b.splice(at..at, bits.iter().copied());
            }
            // Swap two lines.
            _ => {
                let lines: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
                if lines.len() > 2 {
                    let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                    let mut lines: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
                    lines.swap(i, j);
                    b = lines.join(&b'\n');
                }
            }
        }
    }
    b
}

/// How one run ended.
struct Ended {
    code: Option<i32>,
    signal: Option<i32>,
    peak_kb: i64,
    stdout: String,
    stderr: String,
}

/// Runs `spillscope ARGS` and waits for it with `wait4`, which gives the
/// child's own peak memory; a run past 60 s is killed and fails the test.
fn run(args: &[&str], dir: &Path) -> Ended {
    let (stdout_path, stderr_path) = (dir.join("stdout"), dir.join("stderr"));
    let stdout = std::fs::File::create(&stdout_path).unwrap();
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    // Waited for below by `wait4`, which std's `wait` does not expose.
    #[allow(clippy::zombie_processes)]
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_spillscope"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waiting for our own child, into values we own.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed for {args:?}");
        if started.elapsed() > Duration::from_secs(60) {
            // SAFETY: our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("spillscope {args:?} did not end in 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ended {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        peak_kb: usage.ru_maxrss,
        stdout: std::fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr_path).unwrap_or_default(),
    }
}

struct Seed {
    name: &'static str,
    ext: &'static str,
    bytes: Vec<u8>,
    text: bool,
    cases: usize,
}

fn seeds() -> Vec<Seed> {
    let samples = crate::common::samples_dir();
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let log = |name: &str| {
        // The first 40 KB of a real log: whole records, quick to read.
        let mut b = read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/regalloc2-logs")
                .join(name),
        );
        b.truncate(40_000);
        b
    };
    vec![
        Seed {
            name: "kernels",
            ext: "wasm",
            bytes: read(samples.join("c/kernels.wasm")),
            text: false,
            cases: 100,
        },
        Seed {
            name: "calls",
            ext: "wasm",
            bytes: wat::parse_file(samples.join("calls.wat")).unwrap(),
            text: false,
            cases: 40,
        },
        Seed {
            name: "pressure",
            ext: "wat",
            bytes: read(samples.join("pressure.wat")),
            text: true,
            cases: 50,
        },
        Seed {
            name: "memory",
            ext: "wat",
            bytes: read(samples.join("memory.wat")),
            text: true,
            cases: 40,
        },
        Seed {
            name: "loop",
            ext: "clif",
            bytes: read(samples.join("hang/loop-reduced.clif")),
            text: true,
            cases: 60,
        },
        Seed {
            name: "fib",
            ext: "clif",
            bytes: read(samples.join("fib.clif")),
            text: true,
            cases: 40,
        },
        Seed {
            name: "log-0.15",
            ext: "log",
            bytes: log("regalloc2-0.15.2.log"),
            text: true,
            cases: 40,
        },
        Seed {
            name: "log-0.9",
            ext: "log",
            bytes: log("regalloc2-0.9.3.log"),
            text: true,
            cases: 30,
        },
    ]
}

#[test]
fn mutated_wasm_clif_and_logs_never_crash_and_stay_under_1_gb() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x5eed_5ca1_ab1e_0001);
    let mut runs = 0;
    let mut by_exit = [0usize; 3];
    let mut peak_kb = 0;
    let mut traced = 0;
    let mut func: String;
    for seed in seeds() {
        for case in 0..seed.cases {
            let bytes = mutate(&mut rng, &seed.bytes, seed.text);
            let path = dir
                .path()
                .join(format!("{}-{case}.{}", seed.name, seed.ext));
            std::fs::write(&path, &bytes).unwrap();
            let p = path.to_str().unwrap();
            // Every mutant is listed (or read as a log); a mutant that still
            // lists has its first defined function traced, briefly.
            let listing = if seed.ext == "log" {
                vec!["trace", "--log", p, "--json"]
            } else {
                vec!["list", p, "--json"]
            };
            let mut next = Some(listing);
            while let Some(args) = next.take() {
                let ended = run(&args, dir.path());
                runs += 1;
                let code = ended.code.unwrap_or(-1);
                let failure = if ended.signal.is_some() {
                    Some(format!("ended by signal {:?}", ended.signal))
                } else if !(0..=2).contains(&code) {
                    Some(format!("exit code {code}"))
                } else if ended.stderr.contains("RUST_BACKTRACE") {
                    Some("an uncaught panic".to_string())
                } else if ended.peak_kb >= PEAK_LIMIT_KB {
                    Some(format!("peak memory {} MB", ended.peak_kb / 1024))
                } else {
                    None
                };
                if let Some(failure) = failure {
                    // Kept where a developer finds it again.
                    let kept =
                        Path::new(env!("CARGO_TARGET_TMPDIR")).join(path.file_name().unwrap());
                    let _ = std::fs::copy(&path, &kept);
                    panic!(
                        "{failure}: spillscope {args:?} on a mutant of {} (kept as {}): {}",
                        seed.name,
                        kept.display(),
                        ended.stderr
                    );
                }
                by_exit[code as usize] += 1;
                peak_kb = peak_kb.max(ended.peak_kb);
                if args[0] == "trace" {
                    if args[1] != "--log" {
                        traced += 1;
                    }
                    continue;
                }
                if args[0] == "list" && code == 0 {
                    let listed: serde_json::Value =
                        serde_json::from_str(&ended.stdout).expect("list --json prints JSON");
                    let first = listed.as_array().and_then(|fs| {
                        fs.iter()
                            .find(|f| f["imported"] != true)
                            .and_then(|f| f["index"].as_u64())
                    });
                    if let Some(index) = first {
                        func = index.to_string();
                        next = Some(vec![
                            "trace",
                            p,
                            "--func",
                            &func,
                            "--budget",
                            "20000",
                            "--timeout",
                            "10",
                        ]);
                    }
                }
            }
            let _ = std::fs::remove_file(&path);
        }
    }
    eprintln!(
        "mutation: {runs} runs ({traced} traces); exit 0: {}, 1: {}, 2: {}; largest peak {} MB",
        by_exit[0],
        by_exit[1],
        by_exit[2],
        peak_kb / 1024
    );
    // The mutants are not all refused, nor all accepted: the runs reached
    // past the readers into the compile.
    assert!(by_exit[0] > 20 && by_exit[1] > 20, "{by_exit:?}");
    assert!(traced > 20, "only {traced} mutants reached a trace");
}
