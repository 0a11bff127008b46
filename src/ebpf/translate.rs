//! ebpf::translate: turns ring-buffer records into the `Event`s the ptrace engine makes, keeping
//! the little state that needs: live tasks, processes and their parents, zombies awaiting a reap,
//! a leader that left before its threads. Memory is bounded by the live tasks and zombies. Reads
//! /proc only to name an adopter and a task first seen in system mode; never prints anything.

use super::creation;
use super::record::{
    CreateFailedRecord, CreateRecord, ExecRecord, ExitRecord, Header, SignalRecord, WaitRecord,
};
use crate::decode::wait::{WaitStatus, decode_wait_status, siginfo_child_ended};
use crate::event::{self, Errno, Event, IdType, Kind, Pid, Relation, Signo, WaitCall, WaitOptions};
use crate::tracer::creation::text_from_bytes;
use crate::tracer::inspect;
use crate::tracer::lifecycle::adopter_kind;
use std::collections::{HashMap, HashSet};

/// `SIGNAL_GROUP_EXIT` in `signal_struct.flags`: the whole group was told to exit, with
/// `group_exit_code`.
const SIGNAL_GROUP_EXIT: u32 = 0x4;
const NR_WAITID: u32 = 247;

#[derive(Debug)]
struct Process {
    /// Its parent (tgid) as far as we know, and what that parent is to it.
    parent: Pid,
    relation: Relation,
    /// When the whole process ended (it is a zombie until its reap).
    exited_at: Option<f64>,
    /// The same, in the kernel's nanoseconds: zombie times are measured in those.
    exited_ns: u64,
    /// The leader's own status when it left before its threads.
    leader_status: Option<i32>,
    /// Its pid in each PID namespace, outermost first, when it is in a nested one: a reaper
    /// inside that namespace is told its pid as the namespace numbers it.
    nspid: Option<Box<[Pid]>>,
}

pub struct Translator {
    start_ns: u64,
    latest: f64,
    tracer_pid: Pid,
    /// `--syscalls`: failed creations and wait calls are recorded too.
    syscalls: bool,
    /// System mode: a task first seen in a record is introduced with an `attach`.
    introduce_unknown: bool,
    /// Live tasks: tid → tgid.
    tasks: HashMap<Pid, Pid>,
    /// Live and zombie processes by tgid.
    processes: HashMap<Pid, Process>,
    /// Parent tgid → its known child processes (live or zombie).
    children: HashMap<Pid, HashSet<Pid>>,
    /// Children of an ended process that the kernel had not yet handed to an adopter when we
    /// looked: (orphan, its dead parent).
    orphans: Vec<(Pid, Pid)>,
}

impl Translator {
    pub fn new(start_ns: u64, tracer_pid: Pid, syscalls: bool, introduce_unknown: bool) -> Self {
        Translator {
            start_ns,
            latest: 0.0,
            tracer_pid,
            syscalls,
            introduce_unknown,
            tasks: HashMap::new(),
            processes: HashMap::new(),
            children: HashMap::new(),
            orphans: Vec::new(),
        }
    }

    /// Seconds since the trace started, never going back (records from different CPUs can be
    /// committed a little out of order).
    fn time(&mut self, ktime_ns: u64) -> f64 {
        let t = ktime_ns.saturating_sub(self.start_ns) as f64 / 1e9;
        self.latest = self.latest.max(t);
        self.latest
    }

    /// The latest time seen, for records made here (lost counts, the end).
    pub fn now(&self) -> f64 {
        self.latest
    }

    pub fn advance(&mut self, ktime_ns: u64) -> f64 {
        self.time(ktime_ns)
    }

    /// Tasks still running.
    pub fn live_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Processes that ended and wait for their reap.
    pub fn zombies(&self) -> usize {
        self.processes
            .values()
            .filter(|p| p.exited_at.is_some())
            .count()
    }

    /// The spawned command, started by the tracer (its parent) and traced from its exec.
    pub fn add_root(&mut self, pid: Pid) {
        self.tasks.insert(pid, pid);
        self.add_process(pid, self.tracer_pid);
    }

    fn add_process(&mut self, pid: Pid, parent: Pid) {
        self.processes.insert(
            pid,
            Process {
                parent,
                relation: Relation::Parent,
                exited_at: None,
                exited_ns: 0,
                leader_status: None,
                nspid: None,
            },
        );
        self.children.entry(parent).or_default().insert(pid);
    }

    /// A task running before the trace began, first seen now: announced as attached.
    /// What it runs is read from /proc when it is first seen (for a task first seen at its exec,
    /// that is already the new program).
    pub fn introduce(&mut self, tid: Pid, tgid: Pid, parent: Pid, time: f64, out: &mut Vec<Event>) {
        if self.tasks.contains_key(&tid) || tid <= 0 {
            return;
        }
        let leader = tid == tgid;
        if !leader && !self.tasks.contains_key(&tgid) && !self.processes.contains_key(&tgid) {
            self.introduce(tgid, tgid, parent, time, out);
        }
        self.tasks.insert(tid, tgid);
        if leader && !self.processes.contains_key(&tid) {
            self.add_process(tid, parent);
        }
        let path = leader
            .then(|| std::fs::read_link(format!("/proc/{tid}/exe")).ok())
            .flatten()
            .map(|p| text_from_bytes(p.as_os_str().as_encoded_bytes()));
        let argv = leader
            .then(|| inspect::read_argv(tid))
            .flatten()
            .map(|args| args.iter().map(|a| text_from_bytes(a)).collect());
        out.push(Event::Attach(event::Attach {
            time,
            pid: tid,
            tgid,
            parent,
            path,
            argv,
        }));
    }

    /// The task a record is about: introduced if new (system mode), and its process's parent
    /// compared with what we knew (reparenting has no tracepoint: this is where it shows).
    fn about(&mut self, h: &Header, time: f64, out: &mut Vec<Event>) {
        let (tid, tgid, parent) = (h.pid as Pid, h.tgid as Pid, h.parent as Pid);
        if self.introduce_unknown {
            self.introduce(tid, tgid, parent, time, out);
        }
        self.check_parent(tgid, parent, time, out);
    }

    fn check_parent(&mut self, pid: Pid, parent_now: Pid, time: f64, out: &mut Vec<Event>) {
        let Some(process) = self.processes.get(&pid) else {
            return;
        };
        if parent_now <= 0 || process.parent == parent_now {
            return;
        }
        // A process that has ended adopts nobody: a record made before its exit reparented the
        // child (a task dying at the same time as its parent) names it still.
        if self
            .processes
            .get(&parent_now)
            .is_some_and(|p| p.exited_at.is_some())
        {
            return;
        }
        let from = process.parent;
        let relation = adopter_kind(parent_now);
        self.move_child(pid, from, parent_now, relation);
        out.push(Event::Reparent(event::Reparent {
            time,
            pid,
            from,
            to: parent_now,
            relation,
        }));
    }

    fn move_child(&mut self, pid: Pid, from: Pid, to: Pid, relation: Relation) {
        if let Some(siblings) = self.children.get_mut(&from) {
            siblings.remove(&pid);
            if siblings.is_empty() {
                self.children.remove(&from);
            }
        }
        self.children.entry(to).or_default().insert(pid);
        if let Some(process) = self.processes.get_mut(&pid) {
            process.parent = to;
            process.relation = relation;
        }
    }

    pub fn on_create(&mut self, rec: &CreateRecord, out: &mut Vec<Event>) {
        let time = self.time(rec.h.time);
        self.about(&rec.h, time, out);
        let mut create = creation::describe(&rec.call);
        let (child, child_tgid) = (rec.child as Pid, rec.child_tgid as Pid);
        create.time = time;
        create.pid = rec.h.pid as Pid;
        create.tgid = rec.h.tgid as Pid;
        create.child = child;
        create.child_tgid = child_tgid;
        create.parent = rec.child_parent as Pid;
        // The kernel's own flags say what was made, whether or not the call was seen.
        create.kind = if child != child_tgid {
            Kind::Thread
        } else {
            Kind::of(event::CloneFlags(rec.clone_flags))
        };
        let levels = (rec.nspid_count as usize).min(rec.nspid.len());
        if levels > 1 {
            create.nspid = Some(rec.nspid[..levels].to_vec());
        }
        // A pid in use again: whatever held it was reaped unseen (its records were lost).
        self.tasks.remove(&child);
        if let Some(old) = self.processes.remove(&child) {
            self.forget_child(child, old.parent);
        }
        self.tasks.insert(child, child_tgid);
        if create.kind != Kind::Thread {
            self.add_process(child, create.parent);
            if let (Some(nspid), Some(process)) = (&create.nspid, self.processes.get_mut(&child)) {
                process.nspid = Some(nspid.clone().into_boxed_slice());
            }
        }
        out.push(Event::Create(create));
    }

    pub fn on_create_failed(&mut self, rec: &CreateFailedRecord, out: &mut Vec<Event>) {
        let time = self.time(rec.h.time);
        if !self.syscalls {
            return;
        }
        self.about(&rec.h, time, out);
        let decoded = creation::describe(&rec.call);
        out.push(Event::CreateFailed(event::CreateFailed {
            time,
            pid: rec.h.pid as Pid,
            tgid: rec.h.tgid as Pid,
            syscall: decoded.syscall,
            flags: decoded.flags,
            exit_signal: decoded.exit_signal,
            errno: Errno(-rec.ret as i32),
            unreadable: decoded.unreadable,
            // What refused the call is read by the ptrace engine at the call's exit stop.
            rlimit_nproc: None,
            user_tasks: None,
            cap_sys_admin: None,
        }));
    }

    pub fn on_exec(&mut self, rec: &ExecRecord, out: &mut Vec<Event>) {
        let time = self.time(rec.h.time);
        let tid = rec.h.pid as Pid;
        let former = rec.old_pid as Pid;
        if former != tid && self.tasks.remove(&former).is_some() {
            // A non-leader thread exec'd: it now holds the leader's tid.
            self.tasks.insert(tid, tid);
        }
        self.about(&rec.h, time, out);
        let mut unreadable = Vec::new();
        let path_len = (rec.path_len as usize).min(rec.path.len());
        if path_len == 0 {
            unreadable.push("path".to_string());
        }
        let path = text_from_bytes(&rec.path[..path_len]);
        let args_len = (rec.args_len as usize).min(rec.args.len());
        if args_len == 0 {
            unreadable.push("argv".to_string());
        }
        let argv = split_args(&rec.args[..args_len]);
        let levels = (rec.nspid_count as usize).min(rec.nspid.len());
        out.push(Event::Exec(event::Exec {
            time,
            pid: tid,
            tgid: tid,
            path,
            argv,
            old_pid: (former != tid).then_some(former),
            nspid: (levels > 1).then(|| rec.nspid[..levels].to_vec()),
            // Every thread the exec ended had its exit reported already.
            vanished: Vec::new(),
            unreadable,
            // Read by ptrace at the exec stop; here the process has moved on by the time the
            // record is read, so /proc could name a later program.
            exe: None,
        }));
    }

    pub fn on_exit(&mut self, rec: &ExitRecord, out: &mut Vec<Event>) {
        let time = self.time(rec.h.time);
        let (tid, tgid) = (rec.h.pid as Pid, rec.h.tgid as Pid);
        if rec.exec_zapped != 0 && tid == tgid {
            // The old leader, ended by a non-leader thread's execve: that thread takes its tid,
            // and the exec's `old_pid` says so (the ptrace engine reports no exit for it either).
            // The other threads the exec ends go through their exit as usual, with status 0.
            return;
        }
        self.about(&rec.h, time, out);
        self.tasks.remove(&tid);
        let group_exit = rec.signal_flags & SIGNAL_GROUP_EXIT != 0;
        let status = if group_exit {
            rec.group_exit_code
        } else {
            rec.exit_code
        };
        let leader = tid == tgid;
        if rec.group_dead == 0 && leader {
            // The leader leaves before its threads: a zombie holding the pid until the last of
            // them ends; its exit is reported then, with the process's status.
            if let Some(process) = self.processes.get_mut(&tgid) {
                process.leader_status = Some(rec.exit_code);
            }
            if !group_exit && rec.exit_code & 0x7f == 0 {
                out.push(Event::LeaderExit(event::LeaderExit {
                    time,
                    pid: tid,
                    threads: rec.live_threads as usize,
                }));
            }
            return;
        }
        out.push(exit_event(time, tid, tgid, status));
        if rec.group_dead == 0 {
            return;
        }
        if !leader {
            let leader_status = self.processes.get(&tgid).and_then(|p| p.leader_status);
            let process_status = if group_exit {
                rec.group_exit_code
            } else {
                leader_status.unwrap_or(rec.exit_code)
            };
            out.push(exit_event(time, tgid, tgid, process_status));
        }
        self.on_process_ended(tgid, (time, rec.h.time), rec.autoreap != 0, out);
    }

    /// A whole process has ended: a zombie now, unless the kernel released it at once. Its
    /// children are handed to an adopter by the kernel right after this tracepoint.
    fn on_process_ended(
        &mut self,
        pid: Pid,
        (time, ns): (f64, u64),
        autoreap: bool,
        out: &mut Vec<Event>,
    ) {
        let Some(process) = self.processes.get_mut(&pid) else {
            return;
        };
        process.exited_at = Some(time);
        process.exited_ns = ns;
        let parent = process.parent;
        // Where /proc already shows the adopter, say so now; otherwise the orphan's next record
        // (or its reap) will.
        let orphans: Vec<Pid> = self
            .children
            .get(&pid)
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default();
        let mut orphans = orphans;
        orphans.sort_unstable();
        self.orphans
            .extend(orphans.into_iter().map(|orphan| (orphan, pid)));
        self.check_orphans(out);
        if autoreap {
            out.push(Event::Reap(event::Reap {
                time,
                pid,
                reaper: parent,
                relation: Relation::Auto,
                zombie_seconds: 0.0,
            }));
            self.processes.remove(&pid);
            self.forget_child(pid, parent);
        }
    }

    /// Whether some orphan's adoption is still to be seen: then the engine looks again soon.
    pub fn orphans_pending(&self) -> bool {
        !self.orphans.is_empty()
    }

    /// Looks in /proc for the adopters of orphans whose parent has ended: the kernel moves them
    /// (in exit_notify) just after the exit tracepoint, so usually at once. An orphan that is
    /// gone, or whose adoption a later record already showed, is no longer looked for.
    pub fn check_orphans(&mut self, out: &mut Vec<Event>) {
        let time = self.latest;
        for (orphan, dead) in std::mem::take(&mut self.orphans) {
            if self.processes.get(&orphan).is_none_or(|p| p.parent != dead) {
                continue;
            }
            match inspect::read_status(orphan) {
                None => {}
                Some(status) if status.ppid == dead || status.ppid <= 0 => {
                    self.orphans.push((orphan, dead));
                }
                Some(status) => self.check_parent(orphan, status.ppid, time, out),
            }
        }
    }

    fn forget_child(&mut self, pid: Pid, parent: Pid) {
        if let Some(siblings) = self.children.get_mut(&parent) {
            siblings.remove(&pid);
            if siblings.is_empty() {
                self.children.remove(&parent);
            }
        }
    }

    pub fn on_wait(&mut self, rec: &WaitRecord, out: &mut Vec<Event>) {
        let time = self.time(rec.h.time);
        let reaper = rec.h.tgid as Pid;
        let child = self.global_pid(rec.child, rec.level, reaper);
        let waitid = rec.nr == NR_WAITID;
        let reaped = match (waitid, rec.status_read != 0) {
            (true, true) => siginfo_child_ended(rec.status),
            (false, true) => matches!(
                decode_wait_status(rec.status),
                WaitStatus::Exited(_) | WaitStatus::Signaled { .. }
            ),
            // No status to look at: a wait4 with a NULL status pointer; it reaped unless it
            // asked for stops too.
            (_, false) => rec.options & (libc::WUNTRACED | libc::WCONTINUED) as u32 == 0,
        };
        // The wait call is ours to record when the reaper is a traced task; the reaper may also
        // be outside the traced tree (init, a subreaper) when the child was in it.
        let ours = reaper != self.tracer_pid && self.tasks.contains_key(&(rec.h.pid as Pid));
        if ours {
            self.check_parent(reaper, rec.h.parent as Pid, time, out);
        }
        if self.syscalls && ours {
            let syscall = if waitid {
                WaitCall::Waitid
            } else {
                WaitCall::Wait4
            };
            out.push(Event::Wait(event::Wait {
                time,
                pid: rec.h.pid as Pid,
                tgid: reaper,
                syscall,
                idtype: waitid.then_some(IdType(rec.idtype)),
                id: rec.id,
                options: WaitOptions(u64::from(rec.options)),
                // What the call returned, as the reaper's PID namespace numbers it.
                child: rec.child,
                reaped,
            }));
        }
        if !reaped {
            return;
        }
        let Some(process) = self.processes.get(&child) else {
            return;
        };
        if process.exited_at.is_none() {
            return;
        }
        if reaper != process.parent && ours {
            // Adopted after we last looked.
            self.check_parent(child, reaper, time, out);
        }
        let Some(process) = self.processes.remove(&child) else {
            return;
        };
        self.forget_child(child, process.parent);
        out.push(Event::Reap(event::Reap {
            time,
            pid: child,
            reaper,
            relation: if reaper == self.tracer_pid {
                Relation::Tracer
            } else {
                process.relation
            },
            zombie_seconds: rec.h.time.saturating_sub(process.exited_ns) as f64 / 1e9,
        }));
    }

    /// Tasks and zombies /proc no longer has: their records were lost (or are still in the ring
    /// buffer: drain it before `forget`).
    /// A signal for a traced task, as the ptrace engine reports its signal-delivery stops.
    pub fn on_signal(&mut self, rec: &SignalRecord, out: &mut Vec<Event>) {
        let time = self.time(rec.h.time);
        // Ours (system mode traces clonetrace too): the Ctrl-C that ends the trace is not news.
        if rec.h.tgid as Pid == self.tracer_pid {
            return;
        }
        self.about(&rec.h, time, out);
        out.push(Event::Signal(event::Signal {
            time,
            pid: rec.h.pid as Pid,
            tgid: rec.h.tgid as Pid,
            signal: Signo(rec.signo),
        }));
    }

    /// The pid, as the initial namespace numbers it, of the process a reaper in a PID namespace
    /// `level` deep calls `vnr`: one of its own children first, else any process that number
    /// names at that level.
    fn global_pid(&self, vnr: Pid, level: u8, reaper: Pid) -> Pid {
        if level == 0 {
            return vnr;
        }
        let named = |pid: &Pid| {
            self.processes.get(pid).is_some_and(|p| {
                p.nspid
                    .as_ref()
                    .is_some_and(|ns| ns.get(usize::from(level)) == Some(&vnr))
            })
        };
        if let Some(&own) = self
            .children
            .get(&reaper)
            .and_then(|c| c.iter().find(|p| named(p)))
        {
            return own;
        }
        self.processes
            .keys()
            .copied()
            .find(|p| named(p))
            .unwrap_or(vnr)
    }

    pub fn vanished(&self) -> Vec<Pid> {
        self.tasks
            .keys()
            .chain(self.processes.keys())
            .copied()
            .filter(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
            .collect()
    }

    /// Forgets tasks whose end was never seen (their records were lost, and counted as such).
    pub fn forget(&mut self, pids: &[Pid]) {
        for &pid in pids {
            self.tasks.remove(&pid);
            if let Some(process) = self.processes.remove(&pid) {
                self.forget_child(pid, process.parent);
            }
        }
    }
}

fn exit_event(time: f64, pid: Pid, tgid: Pid, status: i32) -> Event {
    let (code, signal, core_dumped) = match decode_wait_status(status) {
        WaitStatus::Exited(code) => (Some(code), None, false),
        WaitStatus::Signaled {
            signal,
            core_dumped,
        } => (None, Some(Signo(signal)), core_dumped),
        // An exit status is never a stop; read it as the low byte says.
        _ => (None, Some(Signo(status & 0x7f)), false),
    };
    Event::Exit(event::Exit {
        time,
        pid,
        tgid,
        code,
        signal,
        core_dumped,
        // --stack-usage needs an exit stop: ptrace engine only.
        stack_used: None,
        stack_size: None,
    })
}

/// argv as the kernel keeps it: NUL-terminated strings back to back (cut at the bytes copied).
fn split_args(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes.split(|&b| b == 0).map(text_from_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_is_split_at_nuls() {
        assert_eq!(split_args(b"sh\0-c\0true\0"), ["sh", "-c", "true"]);
        assert_eq!(split_args(b""), Vec::<String>::new());
        assert_eq!(split_args(b"a\xff\0"), ["a\\xff"]);
    }

    fn exit(pid: u32, tgid: u32, exit_code: i32, group_dead: bool, flags: u32) -> ExitRecord {
        ExitRecord {
            h: Header {
                kind: 3,
                pid,
                tgid,
                parent: 10,
                time: 2_000,
            },
            exit_code,
            group_exit_code: 3 << 8,
            signal_flags: flags,
            exit_signal: 17,
            live_threads: 1,
            group_dead: u8::from(group_dead),
            autoreap: 0,
            exec_zapped: 0,
            pad: 0,
        }
    }

    /// pthread_exit in the leader, then exit(3) from the last thread: a leader_exit, then the
    /// thread's exit and the process's, both with the group's status.
    #[test]
    fn leader_leaving_first_reports_its_exit_with_the_last_thread() {
        let mut t = Translator::new(1_000, 10, false, false);
        t.add_root(11);
        t.tasks.insert(12, 11);
        let mut out = Vec::new();
        t.on_exit(&exit(11, 11, 0, false, 0), &mut out);
        assert!(matches!(&out[..], [Event::LeaderExit(l)] if l.pid == 11 && l.threads == 1));
        out.clear();
        t.on_exit(&exit(12, 11, 0, true, SIGNAL_GROUP_EXIT), &mut out);
        let exits: Vec<(Pid, Option<i32>)> = out
            .iter()
            .filter_map(|e| match e {
                Event::Exit(x) => Some((x.pid, x.code)),
                _ => None,
            })
            .collect();
        assert_eq!(exits, [(12, Some(3)), (11, Some(3))]);
        assert_eq!(t.zombies(), 1);
        assert_eq!(t.live_tasks(), 0);
    }

    #[test]
    fn a_reap_by_the_parent_measures_the_zombie_time() {
        let mut t = Translator::new(0, 10, false, false);
        t.add_root(11);
        t.add_process(12, 11);
        t.tasks.insert(12, 12);
        let mut out = Vec::new();
        let mut rec = exit(12, 12, 0, true, 0);
        rec.h.parent = 11;
        rec.h.time = 1_000_000_000;
        t.on_exit(&rec, &mut out);
        let wait = WaitRecord {
            h: Header {
                kind: 4,
                pid: 11,
                tgid: 11,
                parent: 10,
                time: 1_250_000_000,
            },
            nr: 61,
            child: 12,
            id: -1,
            idtype: 0,
            options: 0,
            status: 0,
            status_read: 1,
            level: 0,
            pad: [0; 2],
        };
        out.clear();
        t.on_wait(&wait, &mut out);
        let [Event::Reap(reap)] = &out[..] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (reap.pid, reap.reaper, reap.relation),
            (12, 11, Relation::Parent)
        );
        assert!((reap.zombie_seconds - 0.25).abs() < 1e-9);
        assert_eq!(t.zombies(), 0);
    }
}
