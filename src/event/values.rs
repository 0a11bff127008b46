//! event::values: what the kernel gives, as types: the creation syscall, clone flags as bits,
//! signal and errno numbers, wait options and idtype, the trace's start time and mode. Their serde
//! form is the recording's words, taken from `decode`'s tables; nothing else here makes text, and
//! nothing here does I/O.

pub use crate::decode::namespaces::NsKind;
use crate::decode::{flags, signal, wait};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::{Duration, SystemTime};

/// The call that created a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Syscall {
    Fork,
    Vfork,
    Clone,
    Clone3,
    /// The creator was killed before its call could be read: only the new task is known.
    #[default]
    Unknown,
}

impl Syscall {
    /// The kernel's name for the call, as strace and the recording write it.
    pub fn name(self) -> &'static str {
        match self {
            Syscall::Fork => "fork",
            Syscall::Vfork => "vfork",
            Syscall::Clone => "clone",
            Syscall::Clone3 => "clone3",
            Syscall::Unknown => "unknown",
        }
    }

    /// fork and vfork take no arguments: there are no flags to show.
    pub fn has_arguments(self) -> bool {
        matches!(self, Syscall::Clone | Syscall::Clone3)
    }
}

/// `CLONE_*` flags as the kernel reads them (for clone, without the exit-signal byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct CloneFlags(pub u64);

impl CloneFlags {
    pub const VM: u64 = libc::CLONE_VM as u64;
    pub const VFORK: u64 = libc::CLONE_VFORK as u64;
    pub const THREAD: u64 = libc::CLONE_THREAD as u64;
    pub const PARENT: u64 = libc::CLONE_PARENT as u64;
    pub const NEWPID: u64 = libc::CLONE_NEWPID as u64;
    pub const INTO_CGROUP: u64 = 0x2_0000_0000;

    pub fn contains(self, bit: u64) -> bool {
        self.0 & bit == bit
    }

    /// The names of the set flags in kernel bit order, then unknown bits as one `0x…`.
    pub fn names(self) -> Vec<String> {
        flags::decode_clone_flags(self.0)
    }
}

impl Serialize for CloneFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for CloneFlags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        flags::flags_from_names(&names)
            .map(CloneFlags)
            .ok_or_else(|| D::Error::custom(format!("unknown clone flag in {names:?}")))
    }
}

/// A signal number, in the kernel's numbering (`SIGRTMIN` is 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signo(pub i32);

impl Signo {
    pub const SIGCHLD: Signo = Signo(libc::SIGCHLD);

    /// strace's name: `SIGCHLD`, `SIGRT_2`, or the number.
    pub fn name(self) -> String {
        signal::signal_name(self.0)
    }
}

impl Serialize for Signo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Signo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        signal::signal_number(&name)
            .map(Signo)
            .ok_or_else(|| D::Error::custom(format!("unknown signal {name:?}")))
    }
}

/// An error number a failed call returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// `EAGAIN`, or the number when it has no name.
    pub fn name(self) -> String {
        wait::errno_name(i64::from(self.0))
    }
}

impl Serialize for Errno {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Errno {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        wait::errno_number(&name)
            .map(Errno)
            .ok_or_else(|| D::Error::custom(format!("unknown errno {name:?}")))
    }
}

/// The wait call that returned a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaitCall {
    Wait4,
    Waitid,
}

impl WaitCall {
    pub fn name(self) -> &'static str {
        match self {
            WaitCall::Wait4 => "wait4",
            WaitCall::Waitid => "waitid",
        }
    }
}

/// waitid's idtype argument: what its id means (`P_ALL`, `P_PID`, `P_PGID`, `P_PIDFD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdType(pub u32);

impl IdType {
    pub fn name(self) -> String {
        wait::idtype_name(u64::from(self.0))
    }
}

impl Serialize for IdType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for IdType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        wait::idtype_number(&name)
            .map(IdType)
            .ok_or_else(|| D::Error::custom(format!("unknown idtype {name:?}")))
    }
}

/// A wait call's options argument. Its names depend on the call (bit 2 is `WUNTRACED` for wait4,
/// `WSTOPPED` for waitid), so the `wait` record writes them with its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WaitOptions(pub u64);

impl WaitOptions {
    pub fn names(self, call: WaitCall) -> Vec<String> {
        wait::decode_wait_options(self.0, call == WaitCall::Waitid)
    }

    pub fn from_names(names: &[String]) -> Option<WaitOptions> {
        wait::wait_options_from_names(names).map(WaitOptions)
    }
}

impl Serialize for NsKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for NsKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        NsKind::from_name(&name)
            .ok_or_else(|| D::Error::custom(format!("unknown namespace kind {name:?}")))
    }
}

/// How a task came to hold namespaces its parent does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NsVia {
    /// `CLONE_NEW*` flags at its creation (or, for a child's pid and time namespaces, its
    /// creator's earlier unshare or setns: see the creator's own record).
    Clone,
    /// It called `unshare()`.
    Unshare,
    /// It called `setns()`: entered namespaces that already existed.
    Setns,
    /// Only a comparison of `/proc/PID/ns/` at a later stop revealed it (default mode: unshare
    /// and setns make no stop).
    Unknown,
}

/// How the trace was made: `default` (event stops only) or `syscalls` (`--syscalls`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Default,
    Syscalls,
}

/// When the trace started, to the millisecond: UTC RFC 3339 in the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StartTime {
    /// Milliseconds since the Unix epoch.
    pub unix_millis: i64,
}

impl StartTime {
    pub fn from_system(time: SystemTime) -> StartTime {
        let since = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        StartTime {
            unix_millis: since.as_millis() as i64,
        }
    }

    pub fn unix_seconds(self) -> f64 {
        self.unix_millis as f64 / 1000.0
    }

    /// `2026-11-18T11:06:40.123Z`, without a date crate.
    pub fn rfc3339(self) -> String {
        let secs = self.unix_millis.div_euclid(1000);
        let millis = self.unix_millis.rem_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        // Howard Hinnant's civil-from-days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
        )
    }

    /// Reads `YYYY-MM-DDTHH:MM:SS[.fff…]Z` (what `rfc3339` writes); `None` otherwise.
    pub fn parse_rfc3339(text: &str) -> Option<StartTime> {
        let text = text.strip_suffix('Z')?;
        let (date, time) = text.split_once('T')?;
        let mut date = date.splitn(3, '-').map(str::parse::<i64>);
        let (y, m, d) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
        let mut time = time.splitn(3, ':');
        let h: i64 = time.next()?.parse().ok()?;
        let min: i64 = time.next()?.parse().ok()?;
        let seconds = time.next()?;
        let (whole, fraction) = seconds.split_once('.').unwrap_or((seconds, ""));
        let s: i64 = whole.parse().ok()?;
        if !fraction.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let millis: i64 = format!("{fraction:0<3}")[..3].parse().ok()?;
        // Howard Hinnant's days-from-civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        let secs = days * 86_400 + h * 3600 + min * 60 + s;
        Some(StartTime {
            unix_millis: secs * 1000 + millis,
        })
    }
}

impl Serialize for StartTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for StartTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        StartTime::parse_rfc3339(&text)
            .ok_or_else(|| D::Error::custom(format!("not an RFC 3339 UTC time: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_round_trips_through_rfc3339() {
        let t = StartTime {
            unix_millis: 1_795_000_000_123,
        };
        assert_eq!(t.rfc3339(), "2026-11-18T11:06:40.123Z");
        assert_eq!(
            StartTime::parse_rfc3339("2026-11-18T11:06:40.123Z"),
            Some(t)
        );
        assert_eq!(StartTime::default().rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            StartTime::parse_rfc3339("1970-01-01T00:00:01.500Z").map(StartTime::unix_seconds),
            Some(1.5)
        );
        assert_eq!(StartTime::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn values_are_written_with_the_kernels_names() {
        let flags = CloneFlags(CloneFlags::VM | CloneFlags::VFORK | 1 << 40);
        let text = serde_json::to_string(&flags).unwrap();
        assert_eq!(text, r#"["CLONE_VM","CLONE_VFORK","0x10000000000"]"#);
        assert_eq!(serde_json::from_str::<CloneFlags>(&text).unwrap(), flags);
        assert!(serde_json::from_str::<CloneFlags>(r#"["CLONE_BOGUS"]"#).is_err());
        for signal in [Signo(libc::SIGCHLD), Signo(32), Signo(40), Signo(99)] {
            let text = serde_json::to_string(&signal).unwrap();
            assert_eq!(serde_json::from_str::<Signo>(&text).unwrap(), signal);
        }
        let errno = Errno(libc::EAGAIN);
        assert_eq!(serde_json::to_string(&errno).unwrap(), r#""EAGAIN""#);
        assert_eq!(serde_json::from_str::<Errno>(r#""EAGAIN""#).unwrap(), errno);
        let idtype = IdType(libc::P_PIDFD);
        assert_eq!(serde_json::to_string(&idtype).unwrap(), r#""P_PIDFD""#);
        assert_eq!(
            serde_json::from_str::<IdType>(r#""P_PIDFD""#).unwrap(),
            idtype
        );
    }
}
