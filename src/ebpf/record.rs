//! ebpf::record: the raw records the BPF program (bpf/clonetrace.bpf.c) writes to its ring
//! buffer, mirrored field for field, and their parsing from bytes. Pure: no I/O, no meaning;
//! `translate` gives them meaning. Change a layout here and in the C source together.

/// Record kinds, as the C side numbers them.
const REC_CREATE: u32 = 1;
const REC_EXEC: u32 = 2;
const REC_EXIT: u32 = 3;
const REC_WAIT: u32 = 4;
const REC_CREATE_FAILED: u32 = 5;
const REC_SIGNAL: u32 = 6;

pub const MAX_NSPID: usize = 4;
pub const CLONE3_MAX: usize = 88;
pub const MAX_SET_TID: usize = 8;

/// Every record starts with this: the task it is about, its real parent now, and when.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Header {
    pub kind: u32,
    pub pid: u32,
    pub tgid: u32,
    pub parent: u32,
    /// `bpf_ktime_get_ns`: CLOCK_MONOTONIC.
    pub time: u64,
}

/// A creation or failed creation call's raw arguments, as the syscall tracepoint saw them.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawCall {
    /// The syscall number; `u32::MAX` when no call of the creator's was seen.
    pub nr: u32,
    /// How many bytes of `clone3` were copied: 0 (unreadable, or not clone3), 64 or 88.
    pub clone3_read: u32,
    pub args: [u64; 6],
    pub clone3: [u8; CLONE3_MAX],
    pub set_tid: [i32; MAX_SET_TID],
    /// Entries of `set_tid` copied; `u32::MAX` when the array could not be read.
    pub set_tid_read: u32,
    pub pad: u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CreateRecord {
    pub h: Header,
    pub child: u32,
    pub child_tgid: u32,
    pub child_parent: u32,
    pub nspid_count: u32,
    pub nspid: [i32; MAX_NSPID],
    pub clone_flags: u64,
    pub call: RawCall,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CreateFailedRecord {
    pub h: Header,
    pub ret: i64,
    pub call: RawCall,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ExecRecord {
    pub h: Header,
    pub old_pid: u32,
    pub nspid_count: u32,
    pub nspid: [i32; MAX_NSPID],
    pub path_len: u32,
    pub args_len: u32,
    pub path: [u8; 256],
    pub args: [u8; 1024],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ExitRecord {
    pub h: Header,
    pub exit_code: i32,
    pub group_exit_code: i32,
    pub signal_flags: u32,
    pub exit_signal: i32,
    pub live_threads: u32,
    pub group_dead: u8,
    pub autoreap: u8,
    pub exec_zapped: u8,
    pub pad: u8,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct WaitRecord {
    pub h: Header,
    pub nr: u32,
    pub child: i32,
    pub id: i64,
    pub idtype: u32,
    pub options: u32,
    /// wait4's status word, or waitid's `si_code`.
    pub status: i32,
    pub status_read: u8,
    /// The level of the reaper's PID namespace (0: the initial one), which numbers `child`.
    pub level: u8,
    pub pad: [u8; 2],
}

/// A signal for a task: one it dequeued, or one discarded when sent because it ignores it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SignalRecord {
    /// About the task the signal is for.
    pub h: Header,
    pub signo: i32,
    pub pad: u32,
}

/// One ring-buffer record.
#[derive(Debug, Clone)]
pub enum Record {
    Create(Box<CreateRecord>),
    CreateFailed(Box<CreateFailedRecord>),
    Exec(Box<ExecRecord>),
    Exit(ExitRecord),
    Wait(WaitRecord),
    Signal(SignalRecord),
}

/// Marks the record structs as plain old data: every bit pattern is a valid value.
///
/// # Safety
/// Only for `#[repr(C)]` structs of integers and integer arrays.
unsafe trait Plain: Copy {}
unsafe impl Plain for Header {}
unsafe impl Plain for CreateRecord {}
unsafe impl Plain for CreateFailedRecord {}
unsafe impl Plain for ExecRecord {}
unsafe impl Plain for ExitRecord {}
unsafe impl Plain for WaitRecord {}
unsafe impl Plain for SignalRecord {}

fn read<T: Plain>(bytes: &[u8]) -> Option<T> {
    if bytes.len() < size_of::<T>() {
        return None;
    }
    // SAFETY: long enough, read unaligned, and every bit pattern is a valid T (Plain).
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// Parses one record; `None` for a record of an unknown kind or too short for its kind.
pub fn parse(bytes: &[u8]) -> Option<Record> {
    let header: Header = read(bytes)?;
    Some(match header.kind {
        REC_CREATE => Record::Create(Box::new(read(bytes)?)),
        REC_CREATE_FAILED => Record::CreateFailed(Box::new(read(bytes)?)),
        REC_EXEC => Record::Exec(Box::new(read(bytes)?)),
        REC_EXIT => Record::Exit(read(bytes)?),
        REC_WAIT => Record::Wait(read(bytes)?),
        REC_SIGNAL => Record::Signal(read(bytes)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sizes bpf/clonetrace.bpf.c asserts for the same structs (_Static_assert at its end).
    #[test]
    fn layouts_match_the_c_side() {
        assert_eq!(size_of::<Header>(), 24);
        assert_eq!(size_of::<RawCall>(), 184);
        assert_eq!(size_of::<CreateRecord>(), 248);
        assert_eq!(size_of::<CreateFailedRecord>(), 216);
        assert_eq!(size_of::<ExecRecord>(), 1336);
        assert_eq!(size_of::<ExitRecord>(), 48);
        assert_eq!(size_of::<WaitRecord>(), 56);
        assert_eq!(size_of::<SignalRecord>(), 32);
    }

    #[test]
    fn short_or_unknown_records_are_refused() {
        let mut bytes = vec![0u8; 48];
        bytes[0] = REC_EXIT as u8;
        assert!(matches!(parse(&bytes), Some(Record::Exit(_))));
        assert!(parse(&bytes[..40]).is_none());
        bytes[0] = 99;
        assert!(parse(&bytes).is_none());
    }
}
