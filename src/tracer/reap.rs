//! reap: sees zombies being reaped without stopping anyone. A pidfd per zombie (opened as its exit
//! is collected) sits in an epoll set with an empty event mask; the kernel reports EPOLLHUP on it exactly when the process
//! is reaped. A signalfd for SIGCHLD in the same set wakes the engine for ptrace stops, so one
//! `epoll_wait` covers both while zombies are outstanding.

use crate::event::{Pid, Relation};
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::collections::{HashMap, HashSet};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Instant;

/// A process that has exited and whose reap we are waiting for.
#[derive(Debug)]
pub struct Zombie {
    pub pid: Pid,
    pub exited_at: Instant,
    /// Its parent (tgid) as of the exit, updated when it is reparented.
    pub parent: Pid,
    /// What that parent is to the zombie (parent, subreaper or init), decided when it was learnt.
    pub relation: Relation,
}

/// Token for the signalfd in the epoll set; pidfds use their fd number.
const SIGNALFD_TOKEN: u64 = u64::MAX;

pub struct ReapWatcher {
    epoll: Epoll,
    signalfd: SignalFd,
    /// Zombies by pidfd number.
    zombies: HashMap<RawFd, (OwnedFd, Zombie)>,
    /// The pidfd of the latest zombie with each pid (a reaped pid may be reused before its HUP is
    /// read, so two zombies can briefly share one).
    by_pid: HashMap<Pid, RawFd>,
    /// The pidfds of the zombies of each parent.
    by_parent: HashMap<Pid, HashSet<RawFd>>,
}

pub enum Wake {
    /// SIGCHLD (or a termination signal) arrived: drain waitpid.
    Signals,
    Reaped(Zombie),
}

impl ReapWatcher {
    /// `signals` must already be blocked in the tracer.
    pub fn new(signals: &nix::sys::signal::SigSet) -> std::io::Result<Self> {
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
        let signalfd =
            SignalFd::with_flags(signals, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        epoll.add(
            &signalfd,
            EpollEvent::new(EpollFlags::EPOLLIN, SIGNALFD_TOKEN),
        )?;
        Ok(ReapWatcher {
            epoll,
            signalfd,
            zombies: HashMap::new(),
            by_pid: HashMap::new(),
            by_parent: HashMap::new(),
        })
    }

    /// Starts watching a process the tracer has just collected the exit of. Its pidfd is opened
    /// now, before anything else: the real parent was told of the exit inside our waitpid and may
    /// reap it any moment. Returns false when it is gone already (reaped, or released by the
    /// kernel because its parent ignores SIGCHLD), which pidfd_open says with ESRCH.
    pub fn watch_zombie(&mut self, zombie: Zombie) -> bool {
        // nix has no pidfd_open.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, zombie.pid, 0) };
        if fd < 0 {
            return false;
        }
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        let raw = fd.as_raw_fd();
        // An empty mask still reports EPOLLHUP (and EPOLLERR), which is all we want: EPOLLIN
        // would fire at exit already.
        if self
            .epoll
            .add(&fd, EpollEvent::new(EpollFlags::empty(), raw as u64))
            .is_ok()
        {
            self.by_pid.insert(zombie.pid, raw);
            self.by_parent.entry(zombie.parent).or_default().insert(raw);
            self.zombies.insert(raw, (fd, zombie));
        }
        true
    }

    pub fn pending(&self) -> usize {
        self.zombies.len()
    }

    pub fn is_zombie(&self, pid: Pid) -> bool {
        self.by_pid.contains_key(&pid)
    }

    /// The pids of the zombies whose parent is `parent`.
    pub fn zombies_of(&self, parent: Pid) -> Vec<Pid> {
        self.by_parent
            .get(&parent)
            .into_iter()
            .flatten()
            .filter_map(|fd| self.zombies.get(fd))
            .map(|(_, z)| z.pid)
            .collect()
    }

    /// The zombie `pid` has a new parent, which is `relation` to it.
    pub fn reparent(&mut self, pid: Pid, to: Pid, relation: Relation) {
        let Some(&fd) = self.by_pid.get(&pid) else {
            return;
        };
        let Some((_, zombie)) = self.zombies.get_mut(&fd) else {
            return;
        };
        if let Some(fds) = self.by_parent.get_mut(&zombie.parent) {
            fds.remove(&fd);
            if fds.is_empty() {
                self.by_parent.remove(&zombie.parent);
            }
        }
        self.by_parent.entry(to).or_default().insert(fd);
        zombie.parent = to;
        zombie.relation = relation;
    }

    /// Stops watching a zombie and returns it.
    pub fn take_zombie(&mut self, pid: Pid) -> Option<Zombie> {
        let fd = *self.by_pid.get(&pid)?;
        self.forget(fd)
    }

    /// Removes a zombie from the set and every index.
    fn forget(&mut self, fd: RawFd) -> Option<Zombie> {
        let (fd, zombie) = self.zombies.remove(&fd)?;
        let raw = fd.as_raw_fd();
        if self.by_pid.get(&zombie.pid) == Some(&raw) {
            self.by_pid.remove(&zombie.pid);
        }
        if let Some(fds) = self.by_parent.get_mut(&zombie.parent) {
            fds.remove(&raw);
            if fds.is_empty() {
                self.by_parent.remove(&zombie.parent);
            }
        }
        // Closing the pidfd would drop it from the set too; deleting first keeps it explicit.
        let _ = self.epoll.delete(&fd);
        Some(zombie)
    }

    /// Waits for signals or reaps; `timeout_ms` < 0 waits for ever.
    pub fn wait(&mut self, timeout_ms: i32) -> Vec<Wake> {
        let mut events = [EpollEvent::empty(); 32];
        let timeout = EpollTimeout::try_from(timeout_ms).unwrap_or(EpollTimeout::NONE);
        // EINTR (a signal for clonetrace itself) is no wake: the loop looks at it.
        let n = self.epoll.wait(&mut events, timeout).unwrap_or(0);
        let mut wakes = Vec::new();
        for event in &events[..n] {
            let token = event.data();
            if token == SIGNALFD_TOKEN {
                self.drain_signals();
                wakes.push(Wake::Signals);
            } else if let Some(zombie) = self.forget(token as RawFd) {
                wakes.push(Wake::Reaped(zombie));
            }
        }
        wakes
    }

    /// Reads the queued SIGCHLD so the signalfd stops being readable: one read, since SIGCHLD is
    /// the only signal in its mask and only one instance of a standard signal can be pending.
    fn drain_signals(&mut self) {
        let _ = self.signalfd.read_signal();
    }
}
