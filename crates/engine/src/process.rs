//! Child processes the engine starts in a process group of their own (a
//! user's test command, a runner built against a regalloc2 tree): ended as a
//! group, so nothing they started outlives a timeout or a budget.

/// Kills the process group `pgid` (the child's pid, as it leads its group).
#[cfg(unix)]
pub fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    // SAFETY: killpg only sends a signal, to the group the child leads.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// Without process groups the child alone is killed (by the caller).
#[cfg(not(unix))]
pub fn kill_group(_pgid: u32) {}
