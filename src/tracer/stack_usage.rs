//! stack_usage: `--stack-usage`, how much of its stack a task touched, measured at its exit stop
//! (PTRACE_EVENT_EXIT, where its memory is still whole) as the pages of its stack range that
//! `/proc/TID/pagemap` shows present and mapped by it alone (or swapped out): a forked child's
//! copy-on-write pages that it never wrote are still its parent's, and are not counted.
//! Reads only; never calls ptrace.

use super::{limits, maps};
use crate::event::Pid;
use std::io::{Read, Seek, SeekFrom};

const PAGE: u64 = 4096;

/// Bytes of `[start, end)` that are resident and exclusively mapped (or swapped out) in `tid`'s
/// memory.
pub fn resident_bytes(tid: Pid, start: u64, end: u64) -> Option<u64> {
    let (first, last) = (start / PAGE, end.div_ceil(PAGE));
    let mut file = std::fs::File::open(format!("/proc/{tid}/pagemap")).ok()?;
    file.seek(SeekFrom::Start(first * 8)).ok()?;
    let mut entries = vec![0u8; ((last - first) * 8) as usize];
    file.read_exact(&mut entries).ok()?;
    let touched = entries
        .chunks_exact(8)
        .map(|e| u64::from_le_bytes(e.try_into().unwrap_or_default()))
        // Bit 63: present, 62: swapped, 56: exclusively mapped (Linux 4.2).
        .filter(|e| e & (1 << 62) != 0 || (e & (1 << 63) != 0 && e & (1 << 56) != 0))
        .count() as u64;
    Some(touched * PAGE)
}

/// `(used, size)` of a task's stack at its end: a thread's own range when it has one, else its
/// process's main stack (`[stack]`) against its RLIMIT_STACK soft limit.
pub fn measure(tid: Pid, range: Option<(u64, u64)>) -> Option<(u64, u64)> {
    if let Some((start, end)) = range {
        return Some((resident_bytes(tid, start, end)?, end - start));
    }
    let text = // maps comes a page of lines per read: read to the end, not one buffer.
        std::fs::read_to_string(format!("/proc/{tid}/maps")).ok()?;
    let stack = maps::parse_maps(&text)
        .into_iter()
        .find(|m| m.path.as_deref() == Some("[stack]"))?;
    let used = resident_bytes(tid, stack.start, stack.end)?;
    let limit = limits::read_rlimit(tid, libc::RLIMIT_STACK)
        .and_then(|l| l.soft)
        .unwrap_or(stack.end - stack.start);
    Some((used, limit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_we_touch_are_resident_and_others_not() {
        let size = 64 * PAGE as usize;
        // SAFETY: a private anonymous mapping of our own, unmapped below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED);
        for page in 0..5 {
            unsafe { *(base as *mut u8).add(page * PAGE as usize * 3) = 1 };
        }
        let me = std::process::id() as Pid;
        let start = base as u64;
        let used = resident_bytes(me, start, start + size as u64).unwrap();
        unsafe { libc::munmap(base, size) };
        assert_eq!(used, 5 * PAGE);
    }
}
