//! model: the process table built from events, live or replayed: who created whom and how, what
//! each task exec'd, how it ended, how long it was a zombie and who reaped it, where orphans went.
//! It answers those questions for every view (program at a time, outcome, kind, reaper, the
//! groups of alike calls), each by an indexed lookup. Tasks are keyed by the order they appeared,
//! so a reused pid never merges two tasks. Never makes text: words belong to the views.

use crate::event::{
    Attach, Cgroup, CloneFlags, Create, CreateFailed, End, Event, Exec, Exit, Header, IdMaps, Kind,
    Namespaces, Pid, Reap, Relation, Reparent, Signo, Syscall, Via, Wait,
};
use std::collections::HashMap;

/// Index of a task in `Model::tasks`, stable for the whole trace.
pub type TaskId = usize;

#[derive(Debug, Clone, Default)]
pub struct Task {
    pub tid: Pid,
    pub tgid: Pid,
    /// Set when it was already running when clonetrace attached.
    pub attached: Option<Attach>,
    /// The call that created it; `None` for the traced command itself.
    pub create: Option<Create>,
    /// The task that made the call (differs from the real parent with `CLONE_PARENT`).
    pub creator: Option<TaskId>,
    /// The process (leader task) it belongs to: itself for a process.
    pub process: TaskId,
    /// The real parent's process task, as at creation.
    pub parent: Option<TaskId>,
    pub execs: Vec<Exec>,
    pub exit: Option<Exit>,
    pub reap: Option<Reap>,
    /// The wait call that reaped it (`--syscalls`).
    pub reaped_by_wait: Option<Wait>,
    /// Creation calls this task made that failed (`--syscalls`).
    pub failed_creates: Vec<CreateFailed>,
    /// Where the kernel moved it when its parent ended (in order).
    pub reparents: Vec<Reparent>,
    /// Processes whose real parent at creation is this one, in creation order.
    pub children: Vec<TaskId>,
    /// Threads of this process (other than itself), in creation order.
    pub threads: Vec<TaskId>,
    /// Signals delivered to it: (time, signal number). Compact, because a parent of many
    /// children gets a SIGCHLD for each, and the model must stay small per task.
    pub signals: Vec<(f64, Signo)>,
    /// Set on a non-leader thread that exec'd: it took over the leader's tid and carries on as the
    /// process (whose record keeps the exec and the exit); this thread's tid is gone.
    pub exec_took_over: bool,
    /// When a leader left before its threads (pthread_exit): a zombie from then on.
    pub leader_exited_at: Option<f64>,
    /// Time of creation (0 for the traced command).
    pub created_at: f64,
    /// The program its creator's process ran when it made this task: what it runs until it
    /// execs. Set once at creation, so naming a process never walks up a chain of creators.
    pub image: Option<Image>,
    /// Namespaces it came to hold that its parent does not, and how, in order.
    pub namespaces: Vec<Namespaces>,
    /// The uid and gid maps of the user namespace it is the first process of.
    pub id_maps: Option<IdMaps>,
    /// The cgroup it was last seen in, where that differs from its parent's.
    pub cgroup: Option<Cgroup>,
}

impl Task {
    pub fn is_thread(&self) -> bool {
        self.create.as_ref().is_some_and(|c| c.kind == Kind::Thread) || self.tid != self.tgid
    }

    /// Its pid in each nested PID namespace (outermost first), when it lives below the tracer's.
    pub fn nspid(&self) -> Option<&[Pid]> {
        self.execs
            .iter()
            .rev()
            .find_map(|e| e.nspid.as_deref())
            .or_else(|| self.create.as_ref().and_then(|c| c.nspid.as_deref()))
    }

    /// Its parent's tgid as of now: the last adoption, or the parent at creation.
    pub fn current_parent_pid(&self) -> Option<Pid> {
        self.reparents
            .last()
            .map(|r| r.to)
            .or_else(|| self.create.as_ref().map(|c| c.parent))
    }

    /// Exited but not (yet) reaped: still a zombie when the trace ended.
    pub fn is_unreaped_zombie(&self) -> bool {
        !self.is_thread() && self.exit.is_some() && self.reap.is_none()
    }
}

#[derive(Debug, Default)]
pub struct Model {
    pub header: Option<Header>,
    pub tasks: Vec<Task>,
    pub end: Option<End>,
    /// The task currently holding each tid.
    current: HashMap<Pid, TaskId>,
    /// Every task that ever held each tid, in order (a pid is reused after its reap).
    holders: HashMap<Pid, Vec<TaskId>>,
    /// Processes with no traced parent.
    roots: Vec<TaskId>,
    /// The task most recently reaped under each pid, for a wait call reported after the reap.
    last_reaped: HashMap<Pid, TaskId>,
    /// The latest time of any record so far.
    latest: f64,
    /// Records the engine could not hand over (eBPF ring-buffer overflow): the trace is
    /// incomplete when this is not zero.
    pub lost: u64,
}

impl Model {
    pub fn new() -> Self {
        Model::default()
    }

    #[cfg(test)]
    pub fn from_events<'e>(events: impl IntoIterator<Item = &'e Event>) -> Self {
        let mut model = Model::new();
        for event in events {
            model.apply(event);
        }
        model
    }

    /// Processes with no traced parent: the traced command (and, after attach, each attached one).
    pub fn roots(&self) -> &[TaskId] {
        &self.roots
    }

    /// The task that last held `pid`, live or not (for naming reapers once the trace is over).
    pub fn last_task_of(&self, pid: Pid) -> Option<TaskId> {
        self.current
            .get(&pid)
            .copied()
            .or_else(|| self.holders.get(&pid)?.last().copied())
    }

    /// The process that held `pid` at `time`: created by then and not yet reaped.
    pub fn process_of_pid_at(&self, pid: Pid, time: f64) -> Option<TaskId> {
        self.holders.get(&pid)?.iter().rev().copied().find(|&id| {
            let task = &self.tasks[id];
            task.process == id
                && task.created_at <= time
                && task.reap.as_ref().is_none_or(|r| r.time >= time)
        })
    }

    /// Adds a task, indexing its tid.
    fn push(&mut self, task: Task) -> TaskId {
        let id = self.tasks.len();
        self.current.insert(task.tid, id);
        self.holders.entry(task.tid).or_default().push(id);
        self.tasks.push(task);
        id
    }

    /// The task for `pid`, created on first sight if the record never announced it (an event for
    /// the traced command itself, or a recording that starts mid-trace).
    fn task_or_root(&mut self, pid: Pid, tgid: Pid, time: f64) -> TaskId {
        if let Some(&id) = self.current.get(&pid) {
            return id;
        }
        let id = self.tasks.len();
        let process = if tgid == pid {
            id
        } else {
            self.current.get(&tgid).copied().unwrap_or(id)
        };
        self.push(Task {
            tid: pid,
            tgid,
            process,
            created_at: time,
            ..Task::default()
        });
        if process == id {
            self.roots.push(id);
        } else {
            self.tasks[process].threads.push(id);
        }
        id
    }

    /// What is wrong with `event`, given the records before it; `None` for a coherent one.
    /// Asked before `apply`.
    pub fn problem(&self, event: &Event) -> Option<Problem> {
        if event.time().is_some_and(|t| t + 1e-6 < self.latest) {
            return Some(Problem::TimeBackwards);
        }
        let (pid, introduces) = match event {
            Event::Create(c) => {
                // A creator the tracer could not read is recorded as such, not as absurd.
                let creator_known = !c.unreadable.iter().any(|u| u == "pid");
                if [c.child, c.child_tgid].iter().any(|&p| p <= 0)
                    || (creator_known && (c.pid <= 0 || c.tgid <= 0))
                    || c.stack_size.is_some_and(|s| s > i64::MAX as u64)
                {
                    return Some(Problem::AbsurdNumber);
                }
                if self.current.contains_key(&c.child) {
                    return Some(Problem::DuplicateTask);
                }
                if !creator_known {
                    return None;
                }
                (c.pid, false)
            }
            Event::Attach(a) => (a.pid, true),
            Event::Exec(e) => (e.old_pid.unwrap_or(e.pid), false),
            Event::Signal(e) => (e.pid, false),
            Event::Exit(e) => (e.pid, false),
            Event::LeaderExit(e) => (e.pid, false),
            Event::Reap(e) => (e.pid, false),
            Event::Namespaces(e) => (e.pid, false),
            Event::IdMaps(e) => (e.pid, false),
            Event::Cgroup(e) => (e.pid, false),
            _ => return None,
        };
        if pid <= 0 {
            return Some(Problem::AbsurdNumber);
        }
        // The traced command is introduced by its first record; every later task by a create.
        if introduces || self.tasks.is_empty() || self.current.contains_key(&pid) {
            return None;
        }
        Some(if self.last_reaped.contains_key(&pid) {
            Problem::AfterReap
        } else {
            Problem::UnknownTask
        })
    }

    pub fn apply(&mut self, event: &Event) {
        if let Some(time) = event.time() {
            self.latest = self.latest.max(time);
        }
        match event {
            Event::Header(header) => self.header = Some(header.clone()),
            Event::Attach(attach) => self.on_attach(attach),
            Event::Create(create) => self.on_create(create),
            Event::Exec(exec) => self.on_exec(exec),
            Event::Signal(signal) => {
                let id = self.task_or_root(signal.pid, signal.tgid, signal.time);
                self.tasks[id].signals.push((signal.time, signal.signal));
            }
            Event::Exit(exit) => {
                let id = self.task_or_root(exit.pid, exit.tgid, exit.time);
                self.tasks[id].exit = Some(exit.clone());
                // Threads are gone at exit; a process's pid is held until its reap.
                if self.tasks[id].is_thread() {
                    self.current.remove(&exit.pid);
                }
            }
            Event::LeaderExit(leader) => {
                if let Some(&id) = self.current.get(&leader.pid) {
                    self.tasks[id].leader_exited_at = Some(leader.time);
                }
            }
            Event::Reap(reap) => {
                if let Some(id) = self.current.remove(&reap.pid) {
                    self.tasks[id].reap = Some(reap.clone());
                    self.last_reaped.insert(reap.pid, id);
                }
            }
            Event::CreateFailed(failed) => {
                let id = self.task_or_root(failed.pid, failed.tgid, failed.time);
                self.tasks[id].failed_creates.push(failed.clone());
            }
            Event::Wait(wait) if wait.reaped => {
                // The reap and the wait call's return race: pair whichever comes second.
                let zombie = self
                    .current
                    .get(&wait.child)
                    .copied()
                    .filter(|&id| self.tasks[id].exit.is_some());
                if let Some(id) = zombie.or_else(|| self.last_reaped.get(&wait.child).copied()) {
                    self.tasks[id].reaped_by_wait = Some(wait.clone());
                }
            }
            Event::Wait(_) => {}
            Event::Reparent(reparent) => {
                if let Some(&id) = self.current.get(&reparent.pid) {
                    self.tasks[id].reparents.push(reparent.clone());
                }
            }
            Event::Namespaces(change) => {
                let id = self.task_or_root(change.pid, change.tgid, change.time);
                self.tasks[id].namespaces.push(change.clone());
            }
            Event::IdMaps(maps) => {
                let id = self.task_or_root(maps.pid, maps.tgid, maps.time);
                self.tasks[id].id_maps = Some(maps.clone());
            }
            Event::Cgroup(cgroup) => {
                let id = self.task_or_root(cgroup.pid, cgroup.tgid, cgroup.time);
                self.tasks[id].cgroup = Some(cgroup.clone());
            }
            Event::End(end) => self.end = Some(end.clone()),
            Event::Lost(lost) => self.lost += lost.count,
        }
    }

    fn on_attach(&mut self, attach: &Attach) {
        let id = self.tasks.len();
        let leader = attach.pid == attach.tgid;
        let process = if leader {
            id
        } else {
            self.current.get(&attach.tgid).copied().unwrap_or(id)
        };
        // A process attached with its parent (--descendants) nests under it.
        let parent = if leader {
            self.current.get(&attach.parent).copied()
        } else {
            self.tasks.get(process).and_then(|p| p.parent)
        };
        self.push(Task {
            tid: attach.pid,
            tgid: attach.tgid,
            attached: Some(attach.clone()),
            process,
            parent,
            created_at: attach.time,
            ..Task::default()
        });
        match (process == id, parent) {
            (false, _) => self.tasks[process].threads.push(id),
            (true, Some(p)) => self.tasks[p].children.push(id),
            (true, None) => self.roots.push(id),
        }
    }

    fn on_create(&mut self, create: &Create) {
        let creator = self.task_or_root(create.pid, create.tgid, create.time);
        let id = self.tasks.len();
        let thread = create.kind == Kind::Thread;
        let process = if thread {
            self.tasks[creator].process
        } else {
            id
        };
        // The real parent differs from the creator's process with CLONE_PARENT.
        let parent = if thread {
            self.tasks[process].parent
        } else if create.parent == create.tgid {
            Some(self.tasks[creator].process)
        } else {
            self.current
                .get(&create.parent)
                .map(|&p| self.tasks[p].process)
        };
        let image = self.current_image(self.tasks[creator].process);
        self.push(Task {
            tid: create.child,
            tgid: create.child_tgid,
            create: Some(create.clone()),
            creator: Some(creator),
            process,
            parent,
            created_at: create.time,
            image,
            ..Task::default()
        });
        if thread {
            self.tasks[process].threads.push(id);
        } else {
            match parent {
                Some(p) => self.tasks[p].children.push(id),
                None => self.roots.push(id),
            }
        }
    }

    fn on_exec(&mut self, exec: &Exec) {
        if let Some(old) = exec.old_pid {
            // A non-leader thread exec'd: it takes the leader's tid and carries on as the process,
            // whose record keeps the exec and, later, the exit.
            if let Some(thread) = self.current.remove(&old) {
                self.tasks[thread].exec_took_over = true;
            }
        }
        let id = self.task_or_root(exec.pid, exec.tgid, exec.time);
        self.tasks[id].execs.push(exec.clone());
    }

    /// Threads of a process, the process's own task first.
    pub fn threads_of(&self, process: TaskId) -> impl Iterator<Item = TaskId> + '_ {
        std::iter::once(process).chain(self.tasks[process].threads.iter().copied())
    }
}

/// A line under a process in an outline of the trace, in order: its threads (runs of alike ones
/// together), the creation calls its tasks made that failed (alike ones counted), its children.
#[derive(Debug, Clone, PartialEq)]
pub enum Under<'m> {
    /// What sets it apart from its parent: namespaces it came to hold (and how), its user
    /// namespace's id maps, its cgroup.
    Namespaces(&'m Namespaces),
    IdMaps(&'m IdMaps),
    Cgroup(&'m Cgroup),
    /// Threads that differ only in their tid: same call, same outcome, same creator.
    Threads(Vec<TaskId>),
    /// A failed creation call and how many alike ones the process's tasks made.
    Failed(&'m CreateFailed, usize),
    Process(TaskId),
}

/// Alike namespace changes: the program, the first such record (its kinds and way stand for
/// all), how many.
#[derive(Debug, Clone, Copy)]
pub struct NamespaceGroup<'m> {
    pub program: Option<&'m str>,
    pub change: &'m Namespaces,
    pub count: usize,
}

/// A record that does not fit what came before it: the model still applies it as well as it can
/// (views render what is coherent), and the reader says so once per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// Its time is before an earlier record's.
    TimeBackwards,
    /// A pid, tid or tgid of zero or below, or a size beyond 2^63.
    AbsurdNumber,
    /// A `create` whose new task is already alive.
    DuplicateTask,
    /// An event for a task no record introduced.
    UnknownTask,
    /// An exit or a reap of a process already reaped.
    AfterReap,
}

/// Where a program is recorded: a task's n-th exec, or what /proc said when clonetrace attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Image {
    Exec(TaskId, usize),
    Attach(TaskId),
}

/// How a task ended, as far as the trace saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `exit(code)`.
    Exited(i32),
    /// Killed by a signal, perhaps dumping core.
    Killed { signal: Signo, core_dumped: bool },
    /// An exit record without a code or a signal (a recording made by another tool).
    Ended,
    /// A thread that exec'd: it took over its process's pid (`pid`) and carries on as the process.
    TookOver { pid: Pid },
    /// Still running when the trace ended.
    Running,
}

impl Outcome {
    pub fn is_success(self) -> bool {
        self == Outcome::Exited(0)
    }
}

/// What a process runs: the path it exec'd (or that /proc showed at attach) and its argv, as
/// recorded. `inherited` when it never exec'd: it runs the image its creator ran then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program<'m> {
    pub path: &'m str,
    pub argv: &'m [String],
    pub inherited: bool,
    /// What the kernel ran, where it differs from `path` (exec's `exe`).
    pub exe: Option<&'m str>,
}

impl<'m> From<&'m Exec> for Program<'m> {
    fn from(exec: &'m Exec) -> Self {
        Program {
            path: &exec.path,
            argv: &exec.argv,
            inherited: false,
            exe: exec.exe.as_deref(),
        }
    }
}

impl<'m> Program<'m> {
    /// What names the program: its path, unless the path is only a handle on the running
    /// binary (`/proc/self/exe`, `/dev/fd/N`, `/proc/self/fd/N`: a program re-executing itself,
    /// as runc, busybox and clonetrace's tour do), where argv[0] is the name it gave itself.
    pub fn identity(&self) -> &'m str {
        let handle = self.path == "/proc/self/exe"
            || self.path.starts_with("/dev/fd/")
            || self.path.starts_with("/proc/self/fd/");
        match self.argv.first() {
            Some(argv0) if handle && !argv0.is_empty() => argv0,
            _ => self.path,
        }
    }

    /// For a program run through a handle on a binary that goes by many names (busybox run as
    /// `/proc/self/exe` with argv[0] `sleep`): that binary's base name, where it differs from
    /// the identity's. `None` for a memfd copy (runc's), whose name says nothing.
    pub fn multi_call(&self) -> Option<&'m str> {
        // A memfd copy (`/memfd:…`) or a file in a detached mount (`/`) names nothing.
        let exe = self
            .exe
            .filter(|e| e.len() > 1 && e.starts_with('/') && !e.starts_with("/memfd:"))?;
        let exe = exe.strip_suffix(" (deleted)").unwrap_or(exe);
        let identity = self.identity();
        (identity != self.path && basename(exe) != basename(identity)).then(|| basename(exe))
    }
}

/// The stack a creation call gave the new task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stack {
    /// None: the child runs on (a copy of) its creator's stack.
    Inherited,
    /// A stack pointer without a size (clone(2) has no size argument).
    Pointer,
    /// clone3's `stack_size`.
    Size(u64),
}

impl Stack {
    pub fn of(create: &Create) -> Stack {
        match create.stack_size {
            Some(size) if size > 0 => Stack::Size(size),
            _ if create.stack != 0 => Stack::Pointer,
            _ => Stack::Inherited,
        }
    }
}

/// Everything about a creation call that says how it was made, apart from who made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape {
    pub kind: Kind,
    pub syscall: Syscall,
    pub flags: CloneFlags,
    pub exit_signal: Option<Signo>,
    pub stack: Stack,
    /// False when clone3's struct could not be read: flags, signal and stack are then not data.
    pub readable: bool,
    /// The library call behind it, when the record names one.
    pub via: Option<Via>,
}

impl Shape {
    pub fn of(create: &Create) -> Shape {
        Shape {
            kind: create.kind,
            syscall: create.syscall,
            flags: create.flags,
            exit_signal: create.exit_signal,
            stack: Stack::of(create),
            readable: !create.unreadable.iter().any(|f| f == "clone3_args"),
            via: create.via,
        }
    }
}

/// Alike creation calls made from the same program: the program's path as recorded, the shape,
/// how many.
#[derive(Debug, Clone)]
pub struct Group<'m> {
    pub program: Option<&'m str>,
    pub shape: Shape,
    pub count: usize,
}

impl Model {
    pub fn outcome(&self, id: TaskId) -> Outcome {
        let task = &self.tasks[id];
        if task.exec_took_over {
            return Outcome::TookOver {
                pid: self.tasks[task.process].tid,
            };
        }
        match &task.exit {
            Some(exit) => match (exit.code, exit.signal) {
                (Some(code), _) => Outcome::Exited(code),
                (None, Some(signal)) => Outcome::Killed {
                    signal,
                    core_dumped: exit.core_dumped,
                },
                (None, None) => Outcome::Ended,
            },
            None => Outcome::Running,
        }
    }

    /// When the trace ended: its `end` record, else the last time the model knows of.
    pub fn end_time(&self) -> f64 {
        if let Some(end) = &self.end {
            return end.time;
        }
        self.tasks
            .iter()
            .flat_map(|t| {
                [Some(t.created_at), t.leader_exited_at]
                    .into_iter()
                    .chain([
                        t.exit.as_ref().map(|e| e.time),
                        t.reap.as_ref().map(|r| r.time),
                    ])
                    .chain(t.execs.iter().map(|e| Some(e.time)))
                    .flatten()
            })
            .fold(0.0, f64::max)
    }

    /// Who reaped a process and how they are related, with the reaper's task when it was traced.
    pub fn reaper(&self, id: TaskId) -> Option<(Pid, Relation, Option<TaskId>)> {
        let reap = self.tasks[id].reap.as_ref()?;
        Some((
            reap.reaper,
            reap.relation,
            self.process_of_pid_at(reap.reaper, reap.time),
        ))
    }

    /// What `process` ran at `time`: its last exec by then or, before any exec, the image it
    /// inherited from its creator (or ran when clonetrace attached). Constant work: the
    /// inherited image was noted at creation.
    pub fn program_at(&self, process: TaskId, time: f64) -> Option<Program<'_>> {
        let task = &self.tasks[process];
        if let Some(exec) = task.execs.iter().rev().find(|e| e.time <= time) {
            return Some(exec.into());
        }
        if task.attached.as_ref().is_some_and(|a| a.path.is_some()) {
            return self.image(Image::Attach(process), false);
        }
        self.image(task.image?, true)
    }

    fn image(&self, image: Image, inherited: bool) -> Option<Program<'_>> {
        let program = match image {
            Image::Exec(task, n) => Program::from(self.tasks[task].execs.get(n)?),
            Image::Attach(task) => {
                let attach = self.tasks[task].attached.as_ref()?;
                Program {
                    path: attach.path.as_deref()?,
                    argv: attach.argv.as_deref().unwrap_or_default(),
                    inherited: false,
                    exe: None,
                }
            }
        };
        Some(Program {
            inherited,
            ..program
        })
    }

    /// The image a process runs now, as a reference a new task can keep.
    fn current_image(&self, process: TaskId) -> Option<Image> {
        let task = &self.tasks[process];
        if !task.execs.is_empty() {
            Some(Image::Exec(process, task.execs.len() - 1))
        } else if task.attached.as_ref().is_some_and(|a| a.path.is_some()) {
            Some(Image::Attach(process))
        } else {
            task.image
        }
    }

    /// What a process runs now: its last exec, else what it inherited at its creation.
    pub fn program(&self, process: TaskId) -> Option<Program<'_>> {
        let task = &self.tasks[process];
        self.program_at(
            process,
            task.execs.last().map_or(task.created_at, |e| e.time),
        )
    }

    /// The program that made a task's creation call, when the call was made.
    pub fn creator_program(&self, id: TaskId) -> Option<Program<'_>> {
        let task = &self.tasks[id];
        let creator = task.creator?;
        self.program_at(self.tasks[creator].process, task.created_at)
    }

    /// clonetrace's own pid, from the header.
    pub fn tracer_pid(&self) -> Option<Pid> {
        self.header.as_ref().map(|h| h.tracer_pid)
    }

    /// Namespace changes counted by the program that made or got them, what changed and how,
    /// most frequent first (first seen first among equals).
    pub fn namespace_groups(&self) -> Vec<NamespaceGroup<'_>> {
        let changes = self.tasks.iter().enumerate().flat_map(|(id, task)| {
            task.namespaces.iter().map(move |change| {
                let program = self
                    .program_at(id, change.time)
                    .map(|p| basename(p.identity()));
                (
                    (program, change.new.as_slice(), change.via),
                    (program, change),
                )
            })
        });
        tally(changes)
            .into_iter()
            .map(|((program, change), count)| NamespaceGroup {
                program,
                change,
                count,
            })
            .collect()
    }

    /// For every process in a PID namespace below the tracer's, the init of that namespace (the
    /// process that is pid 1 there): itself, or the init of the process that created it when
    /// both are as deep. One pass: creators come before what they create.
    pub fn pid_namespace_inits(&self) -> HashMap<TaskId, TaskId> {
        let mut init: HashMap<TaskId, TaskId> = HashMap::new();
        for (id, task) in self.tasks.iter().enumerate() {
            if task.process != id {
                continue;
            }
            let Some(nspid) = task.nspid().filter(|n| n.len() > 1) else {
                continue;
            };
            if nspid.last() == Some(&1) {
                init.insert(id, id);
                continue;
            }
            let creator = task.creator.map(|c| self.tasks[c].process);
            if let Some(creator) = creator
                && self.tasks[creator].nspid().map(<[Pid]>::len) == Some(nspid.len())
                && let Some(&their) = init.get(&creator)
            {
                init.insert(id, their);
            }
        }
        init
    }

    /// What goes under a process in an outline (tree, HTML page): see [`Under`]. Linear in what
    /// it lists.
    pub fn under(&self, process: TaskId) -> Vec<Under<'_>> {
        let task = &self.tasks[process];
        let mut lines: Vec<Under> = task.namespaces.iter().map(Under::Namespaces).collect();
        lines.extend(task.id_maps.iter().map(Under::IdMaps));
        lines.extend(task.cgroup.iter().map(Under::Cgroup));
        let mut run_key = None;
        for &thread in &self.tasks[process].threads {
            let key = self.thread_key(thread);
            match lines.last_mut() {
                Some(Under::Threads(run)) if run_key == Some(key) => run.push(thread),
                _ => {
                    lines.push(Under::Threads(vec![thread]));
                    run_key = Some(key);
                }
            }
        }
        let mut failed_at: HashMap<_, usize> = HashMap::new();
        for task in self.threads_of(process) {
            for failed in &self.tasks[task].failed_creates {
                let key = (
                    failed.syscall,
                    failed.flags,
                    failed.exit_signal,
                    failed.errno,
                );
                match failed_at.get(&key) {
                    Some(&n) => {
                        if let Under::Failed(_, count) = &mut lines[n] {
                            *count += 1;
                        }
                    }
                    None => {
                        failed_at.insert(key, lines.len());
                        lines.push(Under::Failed(failed, 1));
                    }
                }
            }
        }
        lines.extend(
            self.tasks[process]
                .children
                .iter()
                .map(|&c| Under::Process(c)),
        );
        lines
    }

    /// What makes two threads of a process alike: their call, their outcome, and their creator
    /// when that is not the process's main thread (or the thread took over by exec).
    fn thread_key(&self, id: TaskId) -> (Option<Shape>, Outcome, Option<Pid>) {
        let task = &self.tasks[id];
        let creator = task.creator.map(|c| &self.tasks[c]);
        let special =
            task.exec_took_over || creator.is_some_and(|c| c.tid != self.tasks[task.process].tid);
        (
            task.create.as_ref().map(Shape::of),
            self.outcome(id),
            creator.filter(|_| special).map(|c| c.tid),
        )
    }

    /// The creation calls grouped by (program, shape), most frequent first, ties in order of
    /// first appearance. One pass, hashed.
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut creates: Vec<(TaskId, &Create)> = self
            .tasks
            .iter()
            .enumerate()
            .filter_map(|(id, task)| Some((id, task.create.as_ref()?)))
            .collect();
        // Tasks are pushed in creation order already; sort by time anyway so a stray late record
        // cannot reorder the table.
        creates.sort_by(|a, b| a.1.time.total_cmp(&b.1.time).then(a.0.cmp(&b.0)));
        let calls = creates.into_iter().map(|(id, create)| {
            let program = self.creator_program(id).map(|p| basename(p.identity()));
            let shape = Shape::of(create);
            ((program, shape), (program, shape))
        });
        tally(calls)
            .into_iter()
            .map(|((program, shape), count)| Group {
                program,
                shape,
                count,
            })
            .collect()
    }
}

/// Counts items by key, keeping the first item of each: most frequent first, and among equals
/// the first seen first. One pass, hashed.
fn tally<K: std::hash::Hash + Eq, T>(items: impl IntoIterator<Item = (K, T)>) -> Vec<(T, usize)> {
    let mut counted: Vec<(T, usize)> = Vec::new();
    let mut index: HashMap<K, usize> = HashMap::new();
    for (key, item) in items {
        match index.get(&key) {
            Some(&n) => counted[n].1 += 1,
            None => {
                index.insert(key, counted.len());
                counted.push((item, 1));
            }
        }
    }
    // A stable sort keeps first appearance among equal counts.
    counted.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
    counted
}

/// The last component of a path: `true` for `/usr/bin/true`.
pub fn basename(path: &str) -> &str {
    path.rsplit('/')
        .find(|part| !part.is_empty())
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(time: f64, pid: Pid, tgid: Pid, child: Pid, kind: Kind, parent: Pid) -> Event {
        Event::Create(Create {
            time,
            pid,
            tgid,
            syscall: Syscall::Clone,
            exit_signal: Some(Signo::SIGCHLD),
            child,
            child_tgid: if kind == Kind::Thread { tgid } else { child },
            parent,
            kind,
            ..Create::default()
        })
    }

    fn exit(pid: Pid, tgid: Pid) -> Event {
        Event::Exit(Exit {
            time: 1.0,
            pid,
            tgid,
            code: Some(0),
            signal: None,
            core_dumped: false,
            stack_used: None,
            stack_size: None,
        })
    }

    fn reap(pid: Pid) -> Event {
        Event::Reap(Reap {
            time: 1.0,
            pid,
            reaper: 1,
            relation: Relation::Parent,
            zombie_seconds: 0.0,
        })
    }

    #[test]
    fn a_reused_pid_is_a_new_task() {
        let events = [
            create(0.1, 10, 10, 11, Kind::Process, 10),
            exit(11, 11),
            reap(11),
            create(0.2, 10, 10, 11, Kind::Process, 10),
        ];
        let model = Model::from_events(&events);
        assert_eq!(model.tasks.len(), 3);
        assert_eq!(model.tasks[0].children, vec![1, 2]);
        assert!(model.tasks[1].reap.is_some());
        assert!(model.tasks[2].reap.is_none());
    }

    #[test]
    fn threads_belong_to_their_process_and_clone_parent_to_the_grandparent() {
        let events = [
            create(0.1, 10, 10, 11, Kind::Process, 10),
            create(0.2, 11, 11, 12, Kind::Thread, 10),
            create(0.3, 12, 11, 13, Kind::Process, 10),
        ];
        let model = Model::from_events(&events);
        assert_eq!(model.tasks[1].threads, vec![2]);
        assert_eq!(model.tasks[3].parent, Some(0));
        assert_eq!(model.tasks[3].creator, Some(2));
        assert_eq!(model.tasks[0].children, vec![1, 3]);
    }
}
