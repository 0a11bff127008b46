//! table: what the engine knows of each task, one state per tid, with the indexes that answer
//! "the threads of a process" and "the live children of a process" without scanning every task.
//! Pure bookkeeping: never calls ptrace or reads /proc.

use super::namespaces::NsIds;
use super::stop::{Exit, Known};
use crate::event::{Pid, Relation};
use std::collections::{BTreeSet, HashMap};

/// What the engine keeps per live traced task.
#[derive(Debug, Clone, Copy)]
pub struct Task {
    pub tgid: Pid,
    /// The real parent's tgid (for a thread: its group's parent). Changed only through
    /// [`TaskTable::reparent`], which keeps the children index right.
    pub parent: Pid,
    /// Whether the task lives in a PID namespace below the tracer's (its pids are then read).
    pub in_child_namespace: bool,
    /// Whether the kernel reports its exit with a PTRACE_EVENT_EXIT stop. Only leaders of
    /// multi-threaded processes need one (to see a leader exit before its threads); a new task
    /// inherits its creator's setting, so it is switched off again at the task's first stop.
    pub exit_traced: bool,
    /// What its current parent is to it: its parent, or a subreaper or init after reparenting.
    pub relation: Relation,
    /// Its namespaces as last read (or inherited): what a later look compares with.
    pub ns: NsIds,
    /// Its cgroup as last read (a hash of `/proc/PID/cgroup`), 0 where unknown.
    pub cgroup: u64,
    /// Its own stack's range, for a thread or vm-sharing child given one (`--stack-usage`);
    /// `None`: its process's main stack.
    pub stack: Option<(u64, u64)>,
    /// `--stack-usage`: (bytes touched, stack size) measured at its exit stop.
    pub stack_used: Option<(u64, u64)>,
}

impl Task {
    pub fn new(tgid: Pid, parent: Pid) -> Self {
        Task {
            tgid,
            parent,
            in_child_namespace: false,
            exit_traced: false,
            relation: Relation::Parent,
            ns: [0; 10],
            cgroup: 0,
            stack: None,
            stack_used: None,
        }
    }
}

/// One task's state.
#[derive(Debug, Clone, Copy)]
pub enum TaskState {
    /// Its first stop came before its creator's fork event: kept stopped until the creation is
    /// reported, so every task's events follow its `create`. Holds its end if it was killed
    /// meanwhile.
    Held(Option<Exit>),
    /// Its creation is reported; its first stop has not arrived yet.
    Awaited(Task),
    /// Reported and past its first stop.
    Running(Task),
    /// `--syscalls`: stopped in a creation or wait call (number, six argument words), kept until
    /// its syscall-exit stop tells the result.
    InSyscall(Task, u64, [u64; 6]),
}

impl TaskState {
    fn task(&self) -> Option<&Task> {
        match self {
            TaskState::Held(_) => None,
            TaskState::Awaited(task)
            | TaskState::Running(task)
            | TaskState::InSyscall(task, ..) => Some(task),
        }
    }

    fn task_mut(&mut self) -> Option<&mut Task> {
        match self {
            TaskState::Held(_) => None,
            TaskState::Awaited(task)
            | TaskState::Running(task)
            | TaskState::InSyscall(task, ..) => Some(task),
        }
    }
}

/// Every task the engine knows, by tid.
#[derive(Debug, Default)]
pub struct TaskTable {
    states: HashMap<Pid, TaskState>,
    /// Tids of the known (not held) tasks of each process, by tgid.
    threads: HashMap<Pid, BTreeSet<Pid>>,
    /// Leaders of the known (not held) processes of each parent, by the parent's tgid.
    children: HashMap<Pid, BTreeSet<Pid>>,
    /// The held tids, so the loop can tell "none held" at once.
    held: BTreeSet<Pid>,
}

impl TaskTable {
    pub fn known(&self, tid: Pid) -> Known {
        match self.states.get(&tid) {
            None => Known::Unknown,
            Some(TaskState::Held(_)) => Known::Held,
            Some(TaskState::Awaited(_)) => Known::Awaited,
            Some(TaskState::Running(_) | TaskState::InSyscall(..)) => Known::Running,
        }
    }

    /// The task (held tasks have none yet).
    pub fn task(&self, tid: Pid) -> Option<&Task> {
        self.states.get(&tid)?.task()
    }

    /// The task, to change its flags; its `tgid` and `parent` are indexed and must not change here.
    pub fn task_mut(&mut self, tid: Pid) -> Option<&mut Task> {
        self.states.get_mut(&tid)?.task_mut()
    }

    pub fn tgid_of(&self, tid: Pid) -> Pid {
        self.task(tid).map_or(tid, |t| t.tgid)
    }

    /// Sets a task's state, replacing what was known of that tid.
    pub fn insert(&mut self, tid: Pid, state: TaskState) {
        self.remove(tid);
        match state.task() {
            Some(task) => {
                self.threads.entry(task.tgid).or_default().insert(tid);
                if tid == task.tgid {
                    self.children.entry(task.parent).or_default().insert(tid);
                }
            }
            None => {
                self.held.insert(tid);
            }
        }
        self.states.insert(tid, state);
    }

    /// Forgets a task, returning what was known of it.
    pub fn remove(&mut self, tid: Pid) -> Option<TaskState> {
        let state = self.states.remove(&tid)?;
        match state.task() {
            Some(task) => {
                remove_from(&mut self.threads, task.tgid, tid);
                if tid == task.tgid {
                    remove_from(&mut self.children, task.parent, tid);
                }
            }
            None => {
                self.held.remove(&tid);
            }
        }
        Some(state)
    }

    /// The task, if its state is `Awaited`, now `Running`: its first stop has come.
    pub fn first_stop_came(&mut self, tid: Pid) {
        if let Some(state) = self.states.get_mut(&tid)
            && let TaskState::Awaited(task) = *state
        {
            *state = TaskState::Running(task);
        }
    }

    /// `--syscalls`: a known task stopped in a call we watch.
    pub fn enter_syscall(&mut self, tid: Pid, nr: u64, args: [u64; 6]) {
        if let Some(state) = self.states.get_mut(&tid)
            && let Some(&task) = state.task()
        {
            *state = TaskState::InSyscall(task, nr, args);
        }
    }

    /// `--syscalls`: the call a task was stopped in, if any, now that it returned.
    pub fn leave_syscall(&mut self, tid: Pid) -> Option<(u64, [u64; 6])> {
        let state = self.states.get_mut(&tid)?;
        let TaskState::InSyscall(task, nr, args) = *state else {
            return None;
        };
        *state = TaskState::Running(task);
        Some((nr, args))
    }

    /// A held task's end, kept until its creation is reported. False when the task is not held.
    pub fn hold_exit(&mut self, tid: Pid, exit: Exit) -> bool {
        match self.states.get_mut(&tid) {
            Some(TaskState::Held(held)) => {
                *held = Some(exit);
                true
            }
            _ => false,
        }
    }

    pub fn any_held(&self) -> bool {
        !self.held.is_empty()
    }

    pub fn held(&self) -> Vec<Pid> {
        self.held.iter().copied().collect()
    }

    /// The tids of the known tasks of process `tgid`, in order.
    pub fn threads_of(&self, tgid: Pid) -> impl Iterator<Item = Pid> + '_ {
        self.threads.get(&tgid).into_iter().flatten().copied()
    }

    /// The leaders of the known processes whose parent is `parent`, in order.
    pub fn children_of(&self, parent: Pid) -> Vec<Pid> {
        self.children
            .get(&parent)
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Every task of process `pid` now has parent `to`, which is `relation` to it.
    pub fn reparent(&mut self, pid: Pid, to: Pid, relation: Relation) {
        let tids: Vec<Pid> = self.threads_of(pid).collect();
        for tid in tids {
            let Some(task) = self.states.get_mut(&tid).and_then(TaskState::task_mut) else {
                continue;
            };
            if tid == pid {
                remove_from(&mut self.children, task.parent, tid);
                self.children.entry(to).or_default().insert(tid);
            }
            task.parent = to;
            task.relation = relation;
        }
    }

    /// Every tid in the table, held or not.
    pub fn tids(&self) -> Vec<Pid> {
        self.states.keys().copied().collect()
    }

    pub fn clear(&mut self) {
        *self = TaskTable::default();
    }
}

fn remove_from(index: &mut HashMap<Pid, BTreeSet<Pid>>, key: Pid, tid: Pid) {
    if let Some(set) = index.get_mut(&key) {
        set.remove(&tid);
        if set.is_empty() {
            index.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(tgid: Pid, parent: Pid) -> TaskState {
        TaskState::Running(Task::new(tgid, parent))
    }

    #[test]
    fn threads_and_children_follow_inserts_and_removals() {
        let mut table = TaskTable::default();
        table.insert(10, running(10, 1));
        table.insert(11, running(10, 1));
        table.insert(20, TaskState::Awaited(Task::new(20, 10)));
        table.insert(30, TaskState::Held(None));
        assert_eq!(table.threads_of(10).collect::<Vec<_>>(), [10, 11]);
        assert_eq!(table.children_of(1), [10]);
        assert_eq!(table.children_of(10), [20]);
        assert!(table.any_held());
        assert_eq!(table.known(30), Known::Held);
        assert_eq!(table.known(20), Known::Awaited);
        table.first_stop_came(20);
        assert_eq!(table.known(20), Known::Running);
        table.remove(10);
        assert_eq!(table.threads_of(10).collect::<Vec<_>>(), [11]);
        assert!(table.children_of(1).is_empty());
        table.remove(30);
        assert!(!table.any_held());
    }

    #[test]
    fn reparenting_moves_the_process_and_its_threads() {
        let mut table = TaskTable::default();
        table.insert(20, running(20, 10));
        table.insert(21, running(20, 10));
        table.reparent(20, 1, Relation::Init);
        assert!(table.children_of(10).is_empty());
        assert_eq!(table.children_of(1), [20]);
        for tid in [20, 21] {
            assert_eq!(table.task(tid).unwrap().parent, 1);
            assert_eq!(table.task(tid).unwrap().relation, Relation::Init);
        }
        // Removed under its new parent.
        table.remove(20);
        assert!(table.children_of(1).is_empty());
    }

    #[test]
    fn a_syscall_is_entered_and_left_once() {
        let mut table = TaskTable::default();
        table.insert(5, running(5, 1));
        table.enter_syscall(5, 61, [1, 2, 3, 4, 5, 6]);
        assert_eq!(table.known(5), Known::Running);
        assert_eq!(table.leave_syscall(5), Some((61, [1, 2, 3, 4, 5, 6])));
        assert_eq!(table.leave_syscall(5), None);
        // Unknown and held tasks are never in a call.
        table.enter_syscall(6, 61, [0; 6]);
        assert_eq!(table.known(6), Known::Unknown);
    }

    #[test]
    fn a_held_task_keeps_its_end() {
        let mut table = TaskTable::default();
        table.insert(7, TaskState::Held(None));
        assert!(table.hold_exit(7, Exit::Code(3)));
        assert!(matches!(
            table.remove(7),
            Some(TaskState::Held(Some(Exit::Code(3))))
        ));
        assert!(!table.hold_exit(7, Exit::Code(3)));
    }
}
