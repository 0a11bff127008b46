//! inspect: reads a stopped tracee's memory and its `/proc` files (the `read_*` side of decoding).
//! Every reader returns `None` when the task vanished or the memory is unreadable: callers show
//! the address instead of the value, as strace does.

use crate::event::Pid;
use std::collections::HashMap;
use std::io::IoSliceMut;

/// Reads up to `len` bytes at `addr` in the tracee; returns what was readable.
pub fn read_memory(pid: Pid, addr: u64, len: usize) -> Option<Vec<u8>> {
    if addr == 0 || len == 0 {
        return None;
    }
    let mut buf = vec![0u8; len];
    let remote = [nix::sys::uio::RemoteIoVec {
        base: addr as usize,
        len,
    }];
    let read = nix::sys::uio::process_vm_readv(
        nix::unistd::Pid::from_raw(pid),
        &mut [IoSliceMut::new(&mut buf)],
        &remote,
    )
    .ok()?;
    buf.truncate(read);
    Some(buf)
}

/// Reads a small /proc file whole: open, read, close. `std::fs::read` adds a statx (whose size is
/// 0 for /proc files anyway) and a second read to see the end; on the exec path, where three
/// such files are read per exec, that doubles the syscalls.
pub fn read_proc(path: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    loop {
        let n = file.read(&mut buf[len..]).ok()?;
        len += n;
        // A /proc file that fits comes in one read; only a full buffer may have more.
        if n == 0 || len < buf.len() {
            break;
        }
        buf.resize(buf.len() * 2, 0);
    }
    buf.truncate(len);
    Some(buf)
}

fn read_proc_text(path: &str) -> Option<String> {
    String::from_utf8(read_proc(path)?).ok()
}

/// Reads a native-endian `i32` (a tid or an fd the kernel stored) at `addr`.
pub fn read_i32(pid: Pid, addr: u64) -> Option<i32> {
    let bytes = read_memory(pid, addr, 4)?;
    Some(i32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// Reads `count` native-endian `i32`s at `addr` (clone3's set_tid array).
pub fn read_i32_array(pid: Pid, addr: u64, count: usize) -> Option<Vec<i32>> {
    let bytes = read_memory(pid, addr, count.checked_mul(4)?)?;
    if bytes.len() < count * 4 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| i32::from_ne_bytes(c.try_into().unwrap()))
            .collect(),
    )
}

/// Reads a NUL-terminated string at `addr`, at most `max` bytes, in page-bounded pieces so a
/// string ending just before an unmapped page is still read.
pub fn read_c_string(pid: Pid, addr: u64, max: usize) -> Option<Vec<u8>> {
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut at = addr;
    while out.len() < max {
        let chunk = ((PAGE - at % PAGE) as usize).min(max - out.len());
        let bytes = read_memory(pid, at, chunk)?;
        if let Some(nul) = bytes.iter().position(|&b| b == 0) {
            out.extend_from_slice(&bytes[..nul]);
            return Some(out);
        }
        if bytes.is_empty() {
            break;
        }
        out.extend_from_slice(&bytes);
        at += bytes.len() as u64;
    }
    Some(out)
}

/// The filename exactly as passed to execve, read at the exec event from the new image's
/// `AT_EXECFN` auxiliary vector entry (the syscall's own argument registers are gone by then).
pub fn read_exec_filename(pid: Pid) -> Option<Vec<u8>> {
    let auxv = read_proc(&format!("/proc/{pid}/auxv"))?;
    let word = std::mem::size_of::<usize>();
    let execfn = auxv.chunks_exact(word * 2).find_map(|pair| {
        let key = usize::from_ne_bytes(pair[..word].try_into().unwrap());
        let value = usize::from_ne_bytes(pair[word..].try_into().unwrap());
        (key == libc::AT_EXECFN as usize).then_some(value as u64)
    })?;
    read_c_string(pid, execfn, 4096)
}

/// The argument vector of the task's current image.
pub fn read_argv(pid: Pid) -> Option<Vec<Vec<u8>>> {
    let cmdline = read_proc(&format!("/proc/{pid}/cmdline"))?;
    let mut args: Vec<Vec<u8>> = cmdline.split(|&b| b == 0).map(<[u8]>::to_vec).collect();
    if cmdline.last() == Some(&0) {
        args.pop();
    }
    Some(args)
}

/// Whether a thread is taking the whole group down with it: started exiting (PF_EXITING) or
/// SIGKILL pending (what exit_group and a fatal signal do to every other thread before the caller
/// exits), or inside execve (which kills the other threads, leader included, with exit code 0).
/// `None` when it is gone.
pub fn thread_ends_group(tgid: Pid, tid: Pid) -> Option<bool> {
    let syscall = read_proc_text(&format!("/proc/{tgid}/task/{tid}/syscall"))?;
    let nr: i64 = syscall.split(' ').next()?.trim().parse().unwrap_or(-1);
    if [syscalls::Sysno::execve.id(), syscalls::Sysno::execveat.id()].contains(&(nr as i32)) {
        return Some(true);
    }
    const PF_EXITING: u64 = 0x4;
    let stat = read_proc_text(&format!("/proc/{tgid}/task/{tid}/stat"))?;
    let flags = parse_stat_field(&stat, 9)?;
    let status = read_proc_text(&format!("/proc/{tgid}/task/{tid}/status"))?;
    let pending = status
        .lines()
        .find_map(|l| l.strip_prefix("SigPnd:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .unwrap_or(0);
    Some(flags & PF_EXITING != 0 || pending & (1 << (libc::SIGKILL - 1)) != 0)
}

/// Processes whose `/proc/PID/stat` is kept open by [`StatFiles`]; others' are opened for
/// each read (file descriptors are finite).
const OPEN_STATS: usize = 64;

/// `/proc/PID/stat` kept open per process and read again from its start: the kernel makes the
/// text anew at each read from offset 0, for the process as it is then, so this saves the
/// path lookup, open and close of each look (a parent's, at each child it reaps). An open
/// file names its process (its `struct pid`): once that is gone every read fails, and the file
/// is opened again by number, so a reused pid never reads a dead process's line.
#[derive(Default)]
pub struct StatFiles {
    open: HashMap<Pid, std::fs::File>,
}

impl StatFiles {
    /// The standard signals (1..=31) a process ignores, from `/proc/PID/stat` (far cheaper for
    /// the kernel to produce than `status`; this is read on a hot path).
    pub fn ignored_signals(&mut self, pid: Pid) -> Option<u64> {
        parse_stat_field(&self.read(pid)?, 33)
    }

    fn read(&mut self, pid: Pid) -> Option<String> {
        if let Some(file) = self.open.get(&pid) {
            if let Some(text) = read_from_start(file) {
                return Some(text);
            }
            self.open.remove(&pid);
        }
        let file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
        let text = read_from_start(&file)?;
        if self.open.len() < OPEN_STATS {
            self.open.insert(pid, file);
        }
        Some(text)
    }

    /// The process ended: its file is closed.
    pub fn forget(&mut self, pid: Pid) {
        self.open.remove(&pid);
    }
}

/// An open /proc file's text, read whole from offset 0 (as [`read_proc`] reads a new one).
fn read_from_start(file: &std::fs::File) -> Option<String> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 1024];
    let mut len = 0;
    loop {
        let n = file.read_at(&mut buf[len..], len as u64).ok()?;
        len += n;
        if n == 0 || len < buf.len() {
            break;
        }
        buf.resize(buf.len() * 2, 0);
    }
    buf.truncate(len);
    String::from_utf8(buf).ok()
}

/// Field `n` (1-based, as in proc(5)) of a `/proc/PID/stat` line; the command name in field 2
/// may contain spaces and parentheses, so counting starts after its closing one.
fn parse_stat_field(stat: &str, n: usize) -> Option<u64> {
    let after = stat.get(stat.rfind(')')? + 2..)?;
    // The field between the (n-3)th and the next single space, found by counting bytes (as
    // `split(' ')` would find it, at a tenth of the cost: this is read at each reap).
    let skip = n.checked_sub(3)?;
    let bytes = after.as_bytes();
    let mut start = 0;
    for _ in 0..skip {
        start += bytes.get(start..)?.iter().position(|&b| b == b' ')? + 1;
    }
    let end = bytes[start..]
        .iter()
        .position(|&b| b == b' ')
        .map_or(bytes.len(), |i| start + i);
    after.get(start..end)?.trim().parse().ok()
}

/// The fields of `/proc/PID/status` the engine needs.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Status {
    pub tgid: Pid,
    pub ppid: Pid,
    /// The pid in each PID namespace, outermost (ours) first.
    pub nspid: Vec<Pid>,
    pub tracer_pid: Pid,
    pub sig_ignored: u64,
}

pub fn read_status(pid: Pid) -> Option<Status> {
    let text = read_proc_text(&format!("/proc/{pid}/status"))?;
    Some(parse_status(&text))
}

fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Tgid" => status.tgid = value.parse().unwrap_or(0),
            "PPid" => status.ppid = value.parse().unwrap_or(0),
            "TracerPid" => status.tracer_pid = value.parse().unwrap_or(0),
            "NSpid" => {
                status.nspid = value
                    .split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect()
            }
            "SigIgn" => status.sig_ignored = u64::from_str_radix(value, 16).unwrap_or(0),
            _ => {}
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_parsed() {
        let text = "Name:\tsh\nTgid:\t12\nPid:\t12\nPPid:\t3\nTracerPid:\t9\nNSpid:\t12\t1\nSigIgn:\t0000000000010000\n";
        let status = parse_status(text);
        assert_eq!(status.tgid, 12);
        assert_eq!(status.ppid, 3);
        assert_eq!(status.tracer_pid, 9);
        assert_eq!(status.nspid, vec![12, 1]);
        assert_eq!(status.sig_ignored, 1 << (libc::SIGCHLD - 1));
    }

    #[test]
    fn stat_fields_count_past_a_command_with_spaces() {
        let stat = "12 (a b) c) S 1 12 12 0 -1 4194560 0 0 0";
        assert_eq!(parse_stat_field(stat, 4), Some(1));
        assert_eq!(parse_stat_field(stat, 9), Some(4194560));
        // As split(' ') counts: every single space ends a field, the last ends the line.
        let by_split = |stat: &str, n: usize| -> Option<u64> {
            let after = stat.get(stat.rfind(')')? + 2..)?;
            after.split(' ').nth(n.checked_sub(3)?)?.trim().parse().ok()
        };
        let me = std::process::id() as Pid;
        let own = read_proc_text(&format!("/proc/{me}/stat")).unwrap();
        for line in [
            stat,
            own.as_str(),
            "1 (x) S 2  3 4\n",
            "1 (x) S 2 3 4 \n",
            "1 (x)",
            "1 (x) ",
            "1 (x) S",
            "no parenthesis",
            "1 (x) S 2 3 18446744073709551615\n",
        ] {
            for n in 0..60 {
                assert_eq!(parse_stat_field(line, n), by_split(line, n), "{line:?} {n}");
            }
        }
        let me = std::process::id() as Pid;
        // stat's obsolete field covers the standard signals only (1..=31); SIGCHLD is one.
        let mut stats = StatFiles::default();
        let ignored = stats.ignored_signals(me).unwrap();
        assert_eq!(ignored, read_status(me).unwrap().sig_ignored & 0x7fff_ffff);
        // Kept open and read again: what a fresh open reads, as it is at each read.
        assert!(stats.open.contains_key(&me));
        let file = &stats.open[&me];
        let first = read_from_start(file).unwrap();
        let again = read_from_start(file).unwrap();
        let fresh = read_proc_text(&format!("/proc/{me}/stat")).unwrap();
        assert_eq!(first.split(' ').next(), fresh.split(' ').next());
        assert_eq!(again.split(' ').count(), fresh.split(' ').count());
        assert_eq!(stats.ignored_signals(me), Some(ignored));
    }

    #[test]
    fn proc_files_are_read_whole_even_past_one_buffer() {
        // Any file works; a regular one of 10,000 bytes needs the buffer to grow twice.
        let me = std::process::id();
        let path = std::env::temp_dir().join(format!("clonetrace-read-proc-{me}"));
        let content: Vec<u8> = (0..10_000u32).map(|n| (n % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        assert_eq!(read_proc(path.to_str().unwrap()).unwrap(), content);
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            read_proc("/proc/self/status").map(|s| s.starts_with(b"Name:")),
            Some(true)
        );
    }

    #[test]
    fn own_memory_and_auxv_are_readable() {
        let me = std::process::id() as Pid;
        let text = b"hello\0world";
        let got = read_c_string(me, text.as_ptr() as u64, 64).unwrap();
        assert_eq!(got, b"hello");
        assert!(read_exec_filename(me).is_some());
        assert!(!read_argv(me).unwrap().is_empty());
    }
}
