//! Running a user's test command on a CLIF file, for `reduce --test` and
//! `scan --test`: the text goes to a file in a private temporary folder, the
//! command runs with `sh -c` (`{}` replaced by that file's quoted path) in its
//! own process group, and the whole group is killed at the timeout, so that a
//! hanging compiler started by a wrapper script dies with it. What happened
//! is one [`CommandEnd`]; each caller decides what it means for its own
//! purpose (an interesting candidate, a function's scan status).

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// An error that keeps a test command from being run at all.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error("test command `{command}`: {message}")]
    Command { command: String, message: String },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

/// How one run of a test command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandEnd {
    /// It exited with this code.
    Exit(i32),
    /// It was still running at the timeout and was killed with its group.
    Timeout,
    /// A signal ended it (not the timeout's kill).
    Signal(i32),
    /// It never ran: `sh` could not be started (no code), or the shell could
    /// not run the command (126: not executable, 127: not found).
    SpawnError {
        exit_code: Option<i32>,
        message: String,
    },
}

/// What one run of a test command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandRun {
    pub end: CommandEnd,
    pub elapsed: Duration,
    /// Its error output, the first 64 KiB.
    pub stderr: String,
}

impl CommandRun {
    /// The exit code, spawn errors from the shell included; `None` after a
    /// timeout or a signal.
    pub fn exit_code(&self) -> Option<i32> {
        match &self.end {
            CommandEnd::Exit(code) => Some(*code),
            CommandEnd::SpawnError { exit_code, .. } => *exit_code,
            CommandEnd::Timeout | CommandEnd::Signal(_) => None,
        }
    }

    /// The signal that ended it, the timeout's kill excepted.
    pub fn signal(&self) -> Option<i32> {
        match self.end {
            CommandEnd::Signal(s) => Some(s),
            _ => None,
        }
    }

    pub fn timed_out(&self) -> bool {
        self.end == CommandEnd::Timeout
    }

    /// The last few non-empty lines of its error output, for messages.
    pub fn stderr_tail(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        lines[lines.len().saturating_sub(3)..].join(" / ")
    }
}

/// A test command bound to its candidate file and timeout.
pub struct CommandRunner {
    template: String,
    timeout: Duration,
    dir: tempfile::TempDir,
    file: PathBuf,
}

/// `path` quoted for `sh`.
fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// The command in a process group of its own, so the timeout's kill reaches
/// whatever it started.
#[cfg(unix)]
fn in_own_group(command: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt as _;
    command.process_group(0)
}

#[cfg(not(unix))]
fn in_own_group(command: &mut Command) -> &mut Command {
    command
}

/// The signal that ended a process, where the platform has signals.
#[cfg(unix)]
fn signal_of(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt as _;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_status: std::process::ExitStatus) -> Option<i32> {
    None
}

impl CommandRunner {
    /// `template` must contain `{}`, replaced by the candidate file's path.
    pub fn new(template: &str, timeout: Duration) -> Result<CommandRunner, RunnerError> {
        if !template.contains("{}") {
            return Err(RunnerError::Command {
                command: template.into(),
                message: "the command must contain `{}`, which stands for the candidate CLIF file"
                    .into(),
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("spillscope-test")
            .tempdir()
            .map_err(|e| RunnerError::Io {
                path: std::env::temp_dir(),
                message: format!("cannot create a temporary folder: {e}"),
            })?;
        let file = dir.path().join("candidate.clif");
        Ok(CommandRunner {
            template: template.into(),
            timeout,
            dir,
            file,
        })
    }

    /// The command as the user gave it, `{}` included.
    pub fn template(&self) -> &str {
        &self.template
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The command line for the candidate file.
    fn command_line(&self) -> String {
        self.template.replace("{}", &shell_quote(&self.file))
    }

    /// Writes `text` to the candidate file and runs the command on it, in its
    /// own process group, killed at the timeout. Errors are only those that
    /// keep it from running (the file cannot be written, the wait fails);
    /// a command that cannot start is a [`CommandEnd::SpawnError`].
    pub fn run(&mut self, text: &str) -> Result<CommandRun, RunnerError> {
        std::fs::write(&self.file, text).map_err(|e| RunnerError::Io {
            path: self.file.clone(),
            message: format!("cannot write the candidate: {e}"),
        })?;
        let stderr_path = self.dir.path().join("stderr");
        let stderr = std::fs::File::create(&stderr_path).map_err(|e| RunnerError::Io {
            path: stderr_path.clone(),
            message: e.to_string(),
        })?;
        let started = Instant::now();
        let mut command = Command::new("sh");
        let spawned = in_own_group(command.arg("-c").arg(self.command_line()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(e) => {
                return Ok(CommandRun {
                    end: CommandEnd::SpawnError {
                        exit_code: None,
                        message: format!("cannot start `sh`: {e}"),
                    },
                    elapsed: started.elapsed(),
                    stderr: String::new(),
                });
            }
        };
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => {}
                Err(e) => {
                    crate::process::kill_group(child.id());
                    let _ = child.kill();
                    return Err(RunnerError::Command {
                        command: self.template.clone(),
                        message: format!("cannot wait for it: {e}"),
                    });
                }
            }
            if started.elapsed() >= self.timeout {
                crate::process::kill_group(child.id());
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(pause.min(self.timeout.saturating_sub(started.elapsed())));
            pause = (pause * 2).min(Duration::from_millis(20));
        };
        let elapsed = started.elapsed();
        let mut err_text = String::new();
        if let Ok(mut f) = std::fs::File::open(&stderr_path) {
            let _ = f.by_ref().take(64 * 1024).read_to_string(&mut err_text);
        }
        let end = match status {
            None => CommandEnd::Timeout,
            Some(s) => match (s.code(), signal_of(s)) {
                // The shell's own codes: not executable, not found.
                (Some(code @ (126 | 127)), _) => CommandEnd::SpawnError {
                    exit_code: Some(code),
                    message: format!("the shell could not run the command (exit code {code})"),
                },
                (Some(code), _) => CommandEnd::Exit(code),
                (None, Some(sig)) => CommandEnd::Signal(sig),
                // Unix gives one or the other; kept apart from a real exit.
                (None, None) => CommandEnd::SpawnError {
                    exit_code: None,
                    message: "it ended without an exit code or a signal".into(),
                },
            },
        };
        Ok(CommandRun {
            end,
            elapsed,
            stderr: err_text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(template: &str, timeout_ms: u64) -> CommandRun {
        let mut r = CommandRunner::new(template, Duration::from_millis(timeout_ms)).unwrap();
        r.run("function %f() {\nblock0:\n    return\n}\n").unwrap()
    }

    #[test]
    fn exit_codes_signals_timeouts_and_spawn_errors_are_told_apart() {
        assert_eq!(run("test -s {}", 10_000).end, CommandEnd::Exit(0));
        assert_eq!(run("grep -q imul {}", 10_000).end, CommandEnd::Exit(1));
        assert_eq!(
            run("cat {} >/dev/null; exit 3", 10_000).end,
            CommandEnd::Exit(3)
        );
        assert_eq!(
            run("kill -SEGV $$ # {}", 10_000).end,
            CommandEnd::Signal(11)
        );
        let missing = run("/nonexistent/tool {}", 10_000);
        assert!(
            matches!(
                missing.end,
                CommandEnd::SpawnError {
                    exit_code: Some(127),
                    ..
                }
            ),
            "{missing:?}"
        );
        assert!(missing.stderr_tail().contains("nonexistent"), "{missing:?}");
        let slow = run("sh -c 'sleep 30' ; true {}", 200);
        assert_eq!(slow.end, CommandEnd::Timeout);
        assert_eq!((slow.exit_code(), slow.signal()), (None, None));
    }

    #[test]
    fn a_template_without_the_file_is_refused() {
        assert!(matches!(
            CommandRunner::new("true", Duration::from_secs(1)),
            Err(RunnerError::Command { .. })
        ));
    }
}
