//! namespaces: which namespaces and cgroup each traced task is in, read from `/proc` at stops the
//! engine already takes (a process creation, an exec, `--syscalls`' unshare and setns exits), and
//! the records a change makes. It never stops a task and never calls ptrace.

use crate::decode::namespaces::{self, CLONE_NEW_ANY, NsKind};
use crate::event::{self, CloneFlags, Event, NsVia, Pid};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::fd::AsFd;

/// A task's namespaces: one inode number per [`NsKind`], 0 where unknown.
pub type NsIds = [u64; 10];

/// How a task came by a namespace, and from whom (setns).
type Way = (NsVia, Option<Pid>);

/// What the engine remembers between stops to tell what changed and how.
#[derive(Debug, Default)]
pub struct NamespaceWatch {
    /// clonetrace's own namespaces: where a traced task starts, and what counts as "the host's".
    tracer: NsIds,
    /// How each namespace first seen in this trace came to be (the record that showed it).
    /// Keyed by kind (`*_for_children` as the kind itself) and inode: the kernel reuses a freed
    /// namespace's inode number, even for another kind.
    origin: HashMap<(NsKind, u64), Way>,
    /// The first traced process seen in each namespace: whose namespace a setns entered.
    holder: HashMap<(NsKind, u64), Pid>,
    /// The namespaces each holder is noted for, forgotten when it ends (their inode numbers can
    /// then be reused).
    held: HashMap<Pid, Vec<(NsKind, u64)>>,
    /// New user namespaces whose uid and gid maps have not been seen written yet.
    awaiting_maps: HashSet<u64>,
    /// The text of `/proc/PID/cgroup` for each cgroup hash a task holds.
    cgroup_texts: HashMap<u64, String>,
    /// clonetrace's own cgroup (hash).
    tracer_cgroup: u64,
    /// Tasks that unshared CLONE_NEWPID and have no child yet: their pid_for_children link
    /// cannot be read until the namespace's first process exists. How they got it, for when it
    /// can.
    unshared_pid: HashMap<Pid, Way>,
    /// The `/proc/TID/ns` directories of tasks that make processes, kept open.
    dirs: NsDirs,
}

/// Tasks whose `/proc/TID/ns` directory is kept open; others' are opened at each look (file
/// descriptors are finite).
const OPEN_NS_DIRS: usize = 64;

/// `/proc/TID/ns` kept open per task, so that a task's links are read again (at each process it
/// makes, at its exec) without looking up its directory each time. The links are read live:
/// an open directory names the task (its `struct pid`), not the namespaces it had, so what
/// changed them since (unshare, setns, exec) shows. A directory whose task is gone fails every
/// read and is opened again by number, so a reused tid never reads a dead task's (or nothing).
#[derive(Debug, Default)]
struct NsDirs {
    open: HashMap<Pid, std::fs::File>,
}

impl NsDirs {
    /// [`read_ids`] of `tid`, through its directory kept open.
    fn read(&mut self, tid: Pid, kinds: &[NsKind]) -> NsIds {
        if let Some(dir) = self.open.get(&tid) {
            if let Some(ids) = read_ids_in(dir, kinds) {
                return ids;
            }
            self.open.remove(&tid);
        }
        let Ok(dir) = std::fs::File::open(format!("/proc/{tid}/ns")) else {
            return [0; 10];
        };
        let ids = read_ids_in(&dir, kinds).unwrap_or([0; 10]);
        if self.open.len() < OPEN_NS_DIRS {
            self.open.insert(tid, dir);
        }
        ids
    }

    /// The task ended (or lost its tid to an exec): its directory is closed.
    fn forget(&mut self, tid: Pid) {
        self.open.remove(&tid);
    }
}

/// A namespace call seen at its syscall exit (`--syscalls`).
#[derive(Debug, Clone, Copy)]
pub enum Call {
    Unshare { flags: u64 },
    Setns { fd: i32, nstype: u64 },
}

impl NamespaceWatch {
    pub fn new() -> Self {
        let mut watch = NamespaceWatch {
            tracer: read_ids(std::process::id() as Pid, &NsKind::ALL),
            ..Default::default()
        };
        if let Some(text) = read_cgroup(std::process::id() as Pid) {
            watch.tracer_cgroup = watch.intern_cgroup(text);
        }
        watch
    }

    /// The namespaces of a command clonetrace starts: its own.
    pub fn tracer_ids(&self) -> NsIds {
        self.tracer
    }

    pub fn tracer_cgroup(&self) -> u64 {
        self.tracer_cgroup
    }

    /// Whether a task with these namespaces lives in a PID namespace other than clonetrace's
    /// (its pids are then read from NSpid).
    pub fn in_child_pid_namespace(&self, ids: &NsIds) -> bool {
        let pid = ids[NsKind::Pid.index()];
        pid != 0 && pid != self.tracer[NsKind::Pid.index()]
    }

    /// A task clonetrace attached to: its namespaces, and a record of those that differ from its
    /// parent's (how it got them is unknown).
    pub fn at_attach(
        &mut self,
        tid: Pid,
        tgid: Pid,
        parent: Pid,
        time: f64,
    ) -> (NsIds, Vec<Event>) {
        let ids = read_ids(tid, &NsKind::ALL);
        let parent_ids = read_ids(parent, &NsKind::ALL);
        let mut events = Vec::new();
        self.note_changes(tgid, &parent_ids, &ids, None, time, &mut events);
        (ids, events)
    }

    /// A creation by `creator` (stopped at its fork event). Reads the creator's namespaces again
    /// when it made a process (they may have changed by unshare or setns since the last look;
    /// threads share them) and the child's when its flags asked for new ones. Returns the
    /// child's namespaces, the records that go before the `create` (the creator's changes) and
    /// those that go after it (the child's).
    #[allow(clippy::too_many_arguments)]
    pub fn at_creation(
        &mut self,
        creator: Pid,
        creator_tgid: Pid,
        creator_ids: &mut NsIds,
        child: Pid,
        flags: CloneFlags,
        clone3: bool,
        time: f64,
    ) -> (NsIds, Vec<Event>, Vec<Event>) {
        let (mut before, mut after) = (Vec::new(), Vec::new());
        let thread = flags.contains(CloneFlags::THREAD);
        let new_flags = flags.0 & CLONE_NEW_ANY & if clone3 { u64::MAX } else { !0xff };
        if !thread {
            let mutable: Vec<NsKind> = NsKind::ALL
                .into_iter()
                .filter(|k| k.changes_in_place())
                .collect();
            let now = self.dirs.read(creator, &mutable);
            if let Some(how) = self.unshared_pid.remove(&creator) {
                // Recorded at the unshare already, without its id: note the id now.
                let id = now[NsKind::PidForChildren.index()];
                if id != 0 {
                    self.origin.entry((NsKind::Pid, id)).or_insert(how);
                    creator_ids[NsKind::PidForChildren.index()] = id;
                }
            }
            let mut current = *creator_ids;
            for kind in &mutable {
                if now[kind.index()] != 0 {
                    current[kind.index()] = now[kind.index()];
                }
            }
            self.note_changes(creator_tgid, creator_ids, &current, None, time, &mut before);
            *creator_ids = current;
        }
        // What a child gets without CLONE_NEW*: its creator's namespaces, its pid and time
        // namespaces being the creator's *_for_children.
        let mut inherited = *creator_ids;
        if !thread {
            inherited[NsKind::Pid.index()] = creator_ids[NsKind::PidForChildren.index()];
            inherited[NsKind::Time.index()] = creator_ids[NsKind::TimeForChildren.index()];
        }
        let child_ids = if new_flags != 0 {
            let read = read_ids(child, &NsKind::ALL);
            let mut ids = inherited;
            for kind in NsKind::ALL {
                if read[kind.index()] != 0 {
                    ids[kind.index()] = read[kind.index()];
                }
            }
            ids
        } else {
            inherited
        };
        if !thread {
            let child_tgid = child;
            // Kinds the flags made new: via clone. Any other difference (a pid namespace from
            // the creator's unshare or setns) is told by how that namespace came to be.
            let by_flags: Vec<NsKind> = namespaces::kinds_of_clone_flags(new_flags, clone3);
            let mut from_clone = *creator_ids;
            for kind in &by_flags {
                from_clone[kind.index()] = child_ids[kind.index()];
                if *kind == NsKind::Pid {
                    from_clone[NsKind::PidForChildren.index()] =
                        child_ids[NsKind::PidForChildren.index()];
                }
                if *kind == NsKind::Time {
                    from_clone[NsKind::TimeForChildren.index()] =
                        child_ids[NsKind::TimeForChildren.index()];
                }
            }
            self.note_changes(
                child_tgid,
                creator_ids,
                &from_clone,
                Some((NsVia::Clone, None)),
                time,
                &mut after,
            );
            self.note_changes(child_tgid, &from_clone, &child_ids, None, time, &mut after);
        }
        (child_ids, before, after)
    }

    /// An exec: the task's namespaces read again (an exec also moves it into its
    /// time_for_children), and its cgroup. Returns its namespaces and cgroup now.
    pub fn at_exec(
        &mut self,
        tid: Pid,
        ids: &NsIds,
        cgroup: u64,
        time: f64,
        events: &mut Vec<Event>,
    ) -> (NsIds, u64) {
        // Each link costs a few µs (more on a process /proc has not shown yet): read the eight a
        // task can change, and its pid and time namespaces only when not known. Exec never
        // changes the pid namespace, and moves the task into its time_for_children.
        let kinds: Vec<NsKind> = NsKind::ALL
            .into_iter()
            .filter(|k| k.changes_in_place() || ids[k.index()] == 0)
            .collect();
        let read = self.dirs.read(tid, &kinds);
        let mut now = *ids;
        for kind in NsKind::ALL {
            if read[kind.index()] != 0 {
                now[kind.index()] = read[kind.index()];
            }
        }
        if read[NsKind::Time.index()] == 0 && now[NsKind::TimeForChildren.index()] != 0 {
            now[NsKind::Time.index()] = now[NsKind::TimeForChildren.index()];
        }
        self.note_changes(tid, ids, &now, None, time, events);
        self.maps_if_written(tid, &now, time, events);
        let cgroup = self.cgroup_change(tid, cgroup, time, events);
        (now, cgroup)
    }

    /// A child created straight into a cgroup (`CLONE_INTO_CGROUP`): its cgroup now, and the
    /// record that says so.
    pub fn created_in_cgroup(
        &mut self,
        child: Pid,
        inherited: u64,
        time: f64,
        events: &mut Vec<Event>,
    ) -> u64 {
        self.cgroup_change(child, inherited, time, events)
    }

    /// Reads a process's cgroup; records it where it differs from `was`.
    fn cgroup_change(&mut self, tid: Pid, was: u64, time: f64, events: &mut Vec<Event>) -> u64 {
        let Some(text) = read_cgroup(tid) else {
            return was;
        };
        let hash = self.intern_cgroup(text);
        if hash != was
            && let Some(path) = self.changed_path(was, hash)
        {
            events.push(Event::Cgroup(event::Cgroup {
                time,
                pid: tid,
                tgid: tid,
                path,
            }));
        }
        hash
    }

    /// `--syscalls`: a successful unshare or setns by `tid`, seen at its syscall exit.
    pub fn after_call(
        &mut self,
        tid: Pid,
        tgid: Pid,
        ids: &mut NsIds,
        call: Call,
        time: f64,
        events: &mut Vec<Event>,
    ) {
        let read = read_ids(tid, &NsKind::ALL);
        let mut now = *ids;
        for kind in NsKind::ALL {
            if read[kind.index()] != 0 {
                now[kind.index()] = read[kind.index()];
            }
        }
        let how = match call {
            Call::Unshare { .. } => (NsVia::Unshare, None),
            Call::Setns { fd, .. } => {
                // The namespace entered (one link of the fd, or several for a pidfd): whose?
                let entered = NsKind::ALL
                    .into_iter()
                    .find(|k| now[k.index()] != 0 && now[k.index()] != ids[k.index()])
                    .map(|k| (k.own(), now[k.index()]));
                // A pidfd names its process exactly; a namespace fd only its namespace.
                let from = pidfd_target(tid, fd)
                    .or_else(|| entered.and_then(|key| self.holder_of(key)))
                    .or_else(|| entered.and_then(|key| holder_on_machine(key, tgid)));
                (NsVia::Setns, from)
            }
        };
        let start = events.len();
        self.note_changes(tgid, ids, &now, Some(how), time, events);
        let flags = match call {
            Call::Unshare { flags } => flags,
            Call::Setns { nstype, .. } => nstype,
        };
        // unshare(CLONE_NEWPID): pid_for_children cannot be read before the namespace's first
        // process exists, but the call made it.
        let mut unseen_pid = matches!(call, Call::Unshare { .. })
            && flags & CloneFlags::NEWPID != 0
            && now[NsKind::PidForChildren.index()] == ids[NsKind::PidForChildren.index()];
        if unseen_pid {
            self.unshared_pid.insert(tid, how);
            if events.len() == start {
                events.push(Event::Namespaces(event::Namespaces {
                    time,
                    pid: tgid,
                    tgid,
                    new: Vec::new(),
                    via: how.0,
                    ids: BTreeMap::new(),
                    from_pid: None,
                    flags: None,
                }));
            }
        }
        for event in &mut events[start..] {
            if let Event::Namespaces(record) = event {
                record.flags = Some(CloneFlags(flags));
                if unseen_pid {
                    record.new.push(NsKind::PidForChildren);
                    record.new.sort();
                    unseen_pid = false;
                }
            }
        }
        self.maps_if_written(tid, &now, time, events);
        *ids = now;
    }

    /// Compares what a task had (or its parent has) with what it has now, and records the kinds
    /// that differ. `how` is known for clone and `--syscalls`; otherwise a namespace already seen
    /// means the task entered it (setns), and a namespace never seen is `unknown`.
    fn note_changes(
        &mut self,
        tgid: Pid,
        before: &NsIds,
        now: &NsIds,
        how: Option<Way>,
        time: f64,
        events: &mut Vec<Event>,
    ) {
        let differs = |k: NsKind| {
            let (was, is) = (before[k.index()], now[k.index()]);
            was != 0 && is != 0 && was != is
        };
        // A new pid (time) namespace is also its holder's pid_for_children: say it once.
        let changed: Vec<NsKind> = NsKind::ALL
            .into_iter()
            .filter(|&k| differs(k))
            .filter(|&k| {
                k.own() == k || !differs(k.own()) || now[k.index()] != now[k.own().index()]
            })
            .collect();
        // One record per way the namespaces came: a child's new mnt via clone and its pid
        // namespace from its creator's unshare are two stories.
        let mut groups: Vec<(Way, Vec<NsKind>)> = Vec::new();
        for kind in changed {
            let id = now[kind.index()];
            let way = match how {
                Some(way) => way,
                None => self.way_of(id, kind, tgid),
            };
            match groups.iter_mut().find(|(w, _)| *w == way) {
                Some((_, kinds)) => kinds.push(kind),
                None => groups.push((way, vec![kind])),
            }
        }
        for ((via, from_pid), new) in groups {
            let ids: BTreeMap<NsKind, u64> = new.iter().map(|k| (*k, now[k.index()])).collect();
            for (kind, id) in &ids {
                self.origin
                    .entry((kind.own(), *id))
                    .or_insert((via, from_pid));
                if *kind == NsKind::User && via != NsVia::Setns {
                    self.awaiting_maps.insert(*id);
                }
            }
            events.push(Event::Namespaces(event::Namespaces {
                time,
                pid: tgid,
                tgid,
                new,
                via,
                ids,
                from_pid,
                flags: None,
            }));
        }
        for kind in NsKind::ALL.into_iter().filter(|k| k.own() == *k) {
            let id = now[kind.index()];
            if id != 0 && id != self.tracer[kind.index()] {
                self.holder.entry((kind, id)).or_insert_with(|| {
                    self.held.entry(tgid).or_default().push((kind, id));
                    tgid
                });
            }
        }
    }

    /// A task ended, or lost its tid to another thread's exec.
    pub fn task_ended(&mut self, tid: Pid) {
        self.dirs.forget(tid);
    }

    /// A process ended: the namespaces it was noted as holding may die with it, and their
    /// inode numbers be reused.
    pub fn forget(&mut self, tgid: Pid) {
        self.unshared_pid.remove(&tgid);
        for key in self.held.remove(&tgid).unwrap_or_default() {
            self.holder.remove(&key);
            self.origin.remove(&key);
        }
    }

    /// How a task came to be in namespace `id`, judged without seeing the call.
    fn way_of(&self, id: u64, kind: NsKind, tgid: Pid) -> Way {
        if let Some(&(via, from)) = self.origin.get(&(kind.own(), id))
            && matches!(kind, NsKind::Pid | NsKind::Time)
        {
            // A child's pid or time namespace is its creator's *_for_children: it came the way
            // that one did.
            return (via, from);
        }
        match self.holder_of((kind.own(), id)) {
            Some(holder) if holder != tgid => (NsVia::Setns, Some(holder)),
            _ => (NsVia::Unknown, None),
        }
    }

    /// A process known to be in this namespace: clonetrace itself for its own, else the first
    /// traced process seen in it.
    fn holder_of(&self, (kind, id): (NsKind, u64)) -> Option<Pid> {
        if id == self.tracer[kind.index()] {
            return Some(std::process::id() as Pid);
        }
        self.holder.get(&(kind, id)).copied()
    }

    /// The first look at a new user namespace's maps once its creator or a helper wrote them.
    fn maps_if_written(&mut self, tid: Pid, ids: &NsIds, time: f64, events: &mut Vec<Event>) {
        let user = ids[NsKind::User.index()];
        if !self.awaiting_maps.contains(&user) {
            return;
        }
        let read = |name: &str| {
            super::inspect::read_proc(&format!("/proc/{tid}/{name}"))
                .map(|bytes| namespaces::parse_id_map(&String::from_utf8_lossy(&bytes)))
                .unwrap_or_default()
        };
        let (uid_map, gid_map) = (read("uid_map"), read("gid_map"));
        if uid_map.is_empty() && gid_map.is_empty() {
            return;
        }
        self.awaiting_maps.remove(&user);
        // Shown with the namespace's first process, whichever process's stop read them.
        let first = self
            .holder
            .get(&(NsKind::User, user))
            .copied()
            .unwrap_or(tid);
        events.push(Event::IdMaps(event::IdMaps {
            time,
            pid: first,
            tgid: first,
            uid_map,
            gid_map,
        }));
    }

    fn intern_cgroup(&mut self, text: String) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let hash = BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .hash_one(&text)
            .max(1);
        self.cgroup_texts.entry(hash).or_insert(text);
        hash
    }

    /// The path to show for a move from cgroup `was` to `now`: the unified hierarchy's if it
    /// changed, else the first v1 hierarchy's that did, as `controllers:path`.
    fn changed_path(&self, was: u64, now: u64) -> Option<String> {
        let now = self.cgroup_texts.get(&now)?;
        let was = self
            .cgroup_texts
            .get(&was)
            .map(String::as_str)
            .unwrap_or("");
        let lines = |text: &str| -> Vec<(String, String)> {
            text.lines()
                .filter_map(|l| {
                    let mut parts = l.splitn(3, ':');
                    let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
                    Some((controllers.to_string(), path.to_string()))
                })
                .collect()
        };
        let before = lines(was);
        let changed: Vec<(String, String)> = lines(now)
            .into_iter()
            .filter(|line| !before.contains(line))
            .collect();
        let unified = changed.iter().find(|(c, _)| c.is_empty());
        match unified.or(changed.first()) {
            Some((controllers, path)) if controllers.is_empty() => Some(path.clone()),
            Some((controllers, path)) => Some(format!("{controllers}:{path}")),
            None => None,
        }
    }
}

/// Reads the namespace links of `kinds` for a task: one open of its `ns` directory, one
/// readlinkat per kind (each ~3 µs: the kernel builds the link's text). 0 where unreadable.
pub fn read_ids(tid: Pid, kinds: &[NsKind]) -> NsIds {
    match std::fs::File::open(format!("/proc/{tid}/ns")) {
        Ok(dir) => read_ids_in(&dir, kinds).unwrap_or([0; 10]),
        Err(_) => [0; 10],
    }
}

/// The links of `kinds` in an open `ns` directory (0 where unreadable); `None` when none of
/// them could be read (the task is gone).
fn read_ids_in(dir: &std::fs::File, kinds: &[NsKind]) -> Option<NsIds> {
    let mut ids = [0; 10];
    let mut read = false;
    for kind in kinds {
        if let Some(id) = read_link(dir, kind.name()) {
            ids[kind.index()] = id;
            read = true;
        }
    }
    (read || kinds.is_empty()).then_some(ids)
}

/// The inode number in one link of an open `ns` directory (0 if its text does not parse);
/// `None` when it cannot be read. The name and the text (`mnt:[4026531840]`) are short: both
/// sit in buffers on our stack, where nix's readlinkat allocates a path and a PATH_MAX buffer
/// for each link.
fn read_link(dir: &std::fs::File, name: &str) -> Option<u64> {
    use std::os::fd::AsRawFd;
    let mut path = [0u8; 32];
    let mut text = [0u8; 64];
    if name.len() >= path.len() {
        let text = nix::fcntl::readlinkat(dir.as_fd(), name).ok()?;
        return Some(namespaces::parse_link(text.as_encoded_bytes()).unwrap_or(0));
    }
    path[..name.len()].copy_from_slice(name.as_bytes());
    // SAFETY: `path` is NUL-terminated (zeroed past the name); the kernel writes at most
    // `text.len()` bytes into `text`.
    let len = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            path.as_ptr().cast(),
            text.as_mut_ptr().cast(),
            text.len(),
        )
    };
    let len = usize::try_from(len).ok()?;
    if len == text.len() {
        // Perhaps cut short: read it whole.
        let text = nix::fcntl::readlinkat(dir.as_fd(), name).ok()?;
        return Some(namespaces::parse_link(text.as_encoded_bytes()).unwrap_or(0));
    }
    Some(namespaces::parse_link(&text[..len]).unwrap_or(0))
}

fn read_cgroup(tid: Pid) -> Option<String> {
    let bytes = super::inspect::read_proc(&format!("/proc/{tid}/cgroup"))?;
    String::from_utf8(bytes).ok()
}

/// The cgroup directory a `CLONE_INTO_CGROUP` fd of `creator` names.
pub fn cgroup_fd_path(creator: Pid, fd: u64) -> Option<String> {
    let path = std::fs::read_link(format!("/proc/{creator}/fd/{fd}")).ok()?;
    Some(path.to_string_lossy().into_owned())
}

/// The process a setns fd names when it is a pidfd (`/proc/PID/fdinfo/FD` says `Pid:`).
fn pidfd_target(tid: Pid, fd: i32) -> Option<Pid> {
    let info = super::inspect::read_proc(&format!("/proc/{tid}/fdinfo/{fd}"))?;
    String::from_utf8_lossy(&info)
        .lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .and_then(|p| p.trim().parse().ok())
        .filter(|&p: &Pid| p > 0)
}

/// `--syscalls` setns into a namespace no traced process holds: the lowest-numbered process on
/// the machine in it, other than the caller (a scan of /proc, paid only on this rare call).
fn holder_on_machine((kind, id): (NsKind, u64), caller: Pid) -> Option<Pid> {
    let mut pids: Vec<Pid> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&p| p != caller)
        .collect();
    pids.sort_unstable();
    pids.into_iter()
        .find(|&pid| read_ids(pid, &[kind])[kind.index()] == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch_with(texts: &[&str]) -> (NamespaceWatch, Vec<u64>) {
        let mut watch = NamespaceWatch::default();
        let hashes = texts
            .iter()
            .map(|t| watch.intern_cgroup(t.to_string()))
            .collect();
        (watch, hashes)
    }

    #[test]
    fn a_cgroup_move_is_named_by_the_unified_path_or_the_first_v1_hierarchy_that_moved() {
        let (watch, h) = watch_with(&[
            "0::/user.slice\n",
            "0::/lxc.payload.t1\n",
            "4:memory:/\n1:cpu:/\n0::/\n",
            "4:memory:/t1\n1:cpu:/t1\n0::/\n",
            "4:memory:/t1\n1:cpu:/t1\n0::/t1\n",
        ]);
        assert_eq!(
            watch.changed_path(h[0], h[1]).as_deref(),
            Some("/lxc.payload.t1")
        );
        assert_eq!(
            watch.changed_path(h[2], h[3]).as_deref(),
            Some("memory:/t1")
        );
        assert_eq!(watch.changed_path(h[2], h[4]).as_deref(), Some("/t1"));
        assert_eq!(watch.changed_path(h[3], h[3]), None);
    }

    #[test]
    fn only_kinds_that_differ_are_new_and_a_new_pid_namespace_is_said_once() {
        let mut watch = NamespaceWatch::default();
        let before: NsIds = [1, 2, 3, 4, 5, 5, 7, 7, 9, 10];
        let mut after = before;
        after[NsKind::Mnt.index()] = 30;
        after[NsKind::Pid.index()] = 50;
        after[NsKind::PidForChildren.index()] = 50;
        let mut events = Vec::new();
        watch.note_changes(
            42,
            &before,
            &after,
            Some((NsVia::Clone, None)),
            1.0,
            &mut events,
        );
        let [Event::Namespaces(record)] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!(record.new, [NsKind::Mnt, NsKind::Pid]);
        assert_eq!(record.ids[&NsKind::Pid], 50);
        // A later look that finds a third process in that mnt namespace says whose it is.
        let mut third = before;
        third[NsKind::Mnt.index()] = 30;
        events.clear();
        watch.note_changes(43, &before, &third, None, 2.0, &mut events);
        let [Event::Namespaces(entered)] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!((entered.via, entered.from_pid), (NsVia::Setns, Some(42)));
        // Once 42 ends, its inode numbers may be reused: nothing is claimed any more.
        watch.forget(42);
        events.clear();
        watch.note_changes(44, &before, &third, None, 3.0, &mut events);
        let [Event::Namespaces(unknown)] = events.as_slice() else {
            panic!("{events:?}");
        };
        assert_eq!((unknown.via, unknown.from_pid), (NsVia::Unknown, None));
    }

    #[test]
    fn our_own_links_read_as_nix_reads_them() {
        let me = std::process::id() as Pid;
        let dir = std::fs::File::open(format!("/proc/{me}/ns")).unwrap();
        for kind in NsKind::ALL {
            let by_nix = nix::fcntl::readlinkat(dir.as_fd(), kind.name())
                .ok()
                .map(|t| namespaces::parse_link(t.as_encoded_bytes()).unwrap_or(0));
            assert_eq!(read_link(&dir, kind.name()), by_nix, "{}", kind.name());
        }
        assert_eq!(read_link(&dir, "nothing"), None);
    }
}
