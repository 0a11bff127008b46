//! reap: sees zombies being reaped without stopping anyone. A pidfd per zombie (opened as its exit
//! is collected) sits in an epoll set with an empty event mask; the kernel reports EPOLLHUP on it exactly when the process
//! is reaped. A signalfd for SIGCHLD in the same set wakes the engine for ptrace stops, so one
//! `epoll_wait` covers both while zombies are outstanding.

use crate::event::{Pid, Relation};
use std::collections::HashMap;
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
    epoll: OwnedFd,
    signalfd: OwnedFd,
    /// Zombies by pidfd number.
    zombies: HashMap<RawFd, (OwnedFd, Zombie)>,
}

pub enum Wake {
    /// SIGCHLD (or a termination signal) arrived: drain waitpid.
    Signals,
    Reaped(Zombie),
}

impl ReapWatcher {
    /// `signals` must already be blocked in the tracer.
    pub fn new(signals: &nix::sys::signal::SigSet) -> std::io::Result<Self> {
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let epoll = unsafe { OwnedFd::from_raw_fd(epoll) };
        let signalfd =
            unsafe { libc::signalfd(-1, signals.as_ref(), libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) };
        if signalfd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let signalfd = unsafe { OwnedFd::from_raw_fd(signalfd) };
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: SIGNALFD_TOKEN,
        };
        let rc = unsafe {
            libc::epoll_ctl(
                epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                signalfd.as_raw_fd(),
                &mut event,
            )
        };
        if rc < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(ReapWatcher {
            epoll,
            signalfd,
            zombies: HashMap::new(),
        })
    }

    /// Starts watching a process the tracer has just collected the exit of. Its pidfd is opened
    /// now, before anything else: the real parent was told of the exit inside our waitpid and may
    /// reap it any moment. Returns false when it is gone already (reaped, or released by the
    /// kernel because its parent ignores SIGCHLD), which pidfd_open says with ESRCH.
    pub fn watch_zombie(&mut self, zombie: Zombie) -> bool {
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, zombie.pid, 0) };
        if fd < 0 {
            return false;
        }
        let fd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
        // An empty mask still reports EPOLLHUP (and EPOLLERR), which is all we want: EPOLLIN
        // would fire at exit already.
        let mut event = libc::epoll_event {
            events: 0,
            u64: fd.as_raw_fd() as u64,
        };
        let rc = unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_ADD,
                fd.as_raw_fd(),
                &mut event,
            )
        };
        if rc == 0 {
            self.zombies.insert(fd.as_raw_fd(), (fd, zombie));
        }
        true
    }

    pub fn pending(&self) -> usize {
        self.zombies.len()
    }

    pub fn zombies_mut(&mut self) -> impl Iterator<Item = &mut Zombie> {
        self.zombies.values_mut().map(|(_, z)| z)
    }

    pub fn zombie_mut(&mut self, pid: Pid) -> Option<&mut Zombie> {
        self.zombies_mut().find(|z| z.pid == pid)
    }

    /// Stops watching a zombie and returns it.
    pub fn take_zombie(&mut self, pid: Pid) -> Option<Zombie> {
        let fd = *self.zombies.iter().find(|(_, (_, z))| z.pid == pid)?.0;
        let (fd, zombie) = self.zombies.remove(&fd)?;
        self.unregister(&fd);
        Some(zombie)
    }

    fn unregister(&self, fd: &OwnedFd) {
        unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd.as_raw_fd(),
                std::ptr::null_mut(),
            )
        };
    }

    /// Waits for signals or reaps; `timeout_ms` < 0 waits for ever.
    pub fn wait(&mut self, timeout_ms: i32) -> Vec<Wake> {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 32];
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as i32,
                timeout_ms,
            )
        };
        let mut wakes = Vec::new();
        for event in events.iter().take(n.max(0) as usize) {
            let token = event.u64;
            if token == SIGNALFD_TOKEN {
                self.drain_signals();
                wakes.push(Wake::Signals);
            } else if let Some((fd, zombie)) = self.zombies.remove(&(token as RawFd)) {
                self.unregister(&fd);
                wakes.push(Wake::Reaped(zombie));
            }
        }
        wakes
    }

    /// Reads every queued signal so the signalfd stops being readable: one read, since only one
    /// instance of each standard signal can be pending.
    fn drain_signals(&mut self) {
        const BATCH: usize = 8;
        let mut infos: [libc::signalfd_siginfo; BATCH] = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::signalfd_siginfo>();
        unsafe {
            libc::read(
                self.signalfd.as_raw_fd(),
                infos.as_mut_ptr() as *mut libc::c_void,
                size * BATCH,
            )
        };
    }
}
