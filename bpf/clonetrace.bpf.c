// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * clonetrace's BPF side: copies raw values from tracepoints into a ring buffer, for the traced
 * tree (or the whole machine). It decodes nothing and names nothing: userspace (src/ebpf) turns
 * each record into the same events the ptrace engine makes, with the same decode tables. Only
 * raw tracepoints are used (no fentry/fexit, no kprobes: not every kernel clonetrace runs on
 * has them), attached by name, so loading needs the kernel's BTF once, for the CO-RE reads.
 * Nothing here ever stops or slows a task beyond the copy.
 *
 * What each syscall costs everybody on the machine is one program at its exit (sys_exit), the
 * only hook a reap has: a creation's arguments are read from the creator's saved registers at
 * task_newtask, a wait call's from the waiter's at its exit, so nothing runs at syscall entry.
 *
 * The record layouts below are mirrored by src/ebpf/record.rs; change both together.
 *
 * Build: clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -c clonetrace.bpf.c -o clonetrace.bpf.o
 * (bpf/build.sh; the object is committed and embedded, so building clonetrace needs no clang).
 */
#include "clonetrace.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Record kinds. */
#define REC_CREATE 1
#define REC_EXEC 2
#define REC_EXIT 3
#define REC_WAIT 4
#define REC_CREATE_FAILED 5
#define REC_SIGNAL 6

#define MAX_NSPID 4
#define MAX_SET_TID 8
#define CLONE3_MAX 88
#define PATH_MAX_BYTES 256
#define ARGS_MAX_BYTES 1024

#define SIGKILL 9
#define SIGCHLD 17
#define TRACE_SIGNAL_DELIVERED 0
#define TRACE_SIGNAL_IGNORED 1
#define SA_NOCLDWAIT 2
#define SIGNAL_GROUP_EXIT 0x4
#define WNOWAIT 0x01000000
#define PF_KTHREAD 0x00200000
#define CLONE_THREAD 0x00010000

/* Syscall numbers (x86_64): the creation and wait calls. */
#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_WAIT4 61
#define NR_WAITID 247
#define NR_CLONE3 435

/* Set by userspace before load (read-only data). */
const volatile u32 system_mode = 0; /* 1: every task is traced unless a filter narrows it */
const volatile u32 filter_comm = 0; /* 1: tasks named comm_name are traced (with descendants) */
const volatile u32 filter_cgroup = 0; /* 1: tasks in cgroup_id or below are traced */
const volatile u32 filter_tree = 0; /* 1: the seeded tree is traced */
const volatile char comm_name[16] = {};
const volatile u64 cgroup_id = 0;
/* Records are submitted without waking the reader, which drains the ring on a short timer,
 * until this many bytes wait in it: one wakeup per batch, not per record (on a busy machine a
 * wakeup per record costs the traced tasks a context switch each). */
const volatile u64 wake_bytes = 0;

struct header {
	u32 kind;
	u32 pid; /* tid of the task the record is about (for exec: after the exec) */
	u32 tgid;
	u32 parent; /* that task's real parent's tgid, now */
	u64 time; /* bpf_ktime_get_ns */
};

struct raw_call {
	u32 nr; /* syscall number, or ~0 when the creator's call was not seen */
	u32 clone3_read; /* bytes of clone_args copied (0: unreadable or not clone3) */
	u64 args[6];
	u8 clone3[CLONE3_MAX];
	s32 set_tid[MAX_SET_TID];
	u32 set_tid_read; /* entries copied; ~0 when unreadable */
	u32 pad;
};

struct create_rec {
	struct header h;
	u32 child;
	u32 child_tgid;
	u32 child_parent;
	u32 nspid_count;
	s32 nspid[MAX_NSPID]; /* the child's pids, level 0 (outermost) first */
	u64 clone_flags; /* as task_newtask gives them */
	struct raw_call call;
};

struct create_failed_rec {
	struct header h;
	s64 ret;
	struct raw_call call;
};

struct exec_rec {
	struct header h;
	u32 old_pid;
	u32 nspid_count;
	s32 nspid[MAX_NSPID];
	u32 path_len;
	u32 args_len;
	char path[PATH_MAX_BYTES];
	char args[ARGS_MAX_BYTES];
};

struct exit_rec {
	struct header h;
	s32 exit_code; /* the task's own */
	s32 group_exit_code;
	u32 signal_flags;
	s32 exit_signal; /* what its parent is sent */
	u32 live_threads; /* signal->live after this one left */
	u8 group_dead;
	u8 autoreap; /* the kernel releases it at once: no zombie */
	u8 exec_zapped; /* ended by another thread's execve (de_thread), not on its own */
	u8 pad;
};

struct wait_rec {
	struct header h;
	u32 nr; /* wait4 or waitid */
	s32 child; /* the pid the call returned (wait4) or si_pid (waitid) */
	s64 id;
	u32 idtype;
	u32 options;
	s32 status; /* wait4's status, or waitid's si_code */
	u8 status_read;
	u8 level; /* the reaper's PID namespace level, which numbers child */
	u8 pad[2];
};

struct signal_rec {
	struct header h; /* about the task the signal is for */
	s32 signo;
	u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

/* Processes (by tgid) of the traced tree: a thread is traced with its process, so creating one
 * costs no update. Deleted when the kernel frees the process's leader. Allocated as entries
 * come, not all at load (preallocating costs milliseconds at every start); an entry that does
 * not fit is counted as lost. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, u32);
	__type(value, u8);
} traced SEC(".maps");

/* Records the ring buffer had no room for, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} lost SEC(".maps");

static __always_inline void count_lost(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* Room for a record in the ring buffer, or NULL, counted as lost. */
static __always_inline void *reserve(u64 size)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);
	if (!rec)
		count_lost();
	return rec;
}

static __always_inline bool comm_matches(void)
{
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 16; i++) {
		if (comm[i] != comm_name[i])
			return false;
		if (comm[i] == 0)
			return true;
	}
	return true;
}

static __always_inline bool cgroup_matches(void)
{
	if (bpf_get_current_cgroup_id() == cgroup_id)
		return true;
	for (int level = 0; level < 16; level++) {
		u64 id = bpf_get_current_ancestor_cgroup_id(level);
		if (id == 0)
			break;
		if (id == cgroup_id)
			return true;
	}
	return false;
}

static __always_inline bool everything_traced(void)
{
	return system_mode && !filter_comm && !filter_cgroup && !filter_tree;
}

static __always_inline void trace_process(u32 tgid)
{
	u8 one = 1;
	if (bpf_map_update_elem(&traced, &tgid, &one, BPF_ANY) != 0)
		count_lost();
}

/* Whether the current task's process is traced. A task a filter selects brings its process into
 * the tree, so its descendants follow it. */
static __always_inline bool current_traced(void)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (everything_traced())
		return true;
	if (bpf_map_lookup_elem(&traced, &tgid))
		return true;
	if ((filter_comm && comm_matches()) || (filter_cgroup && cgroup_matches())) {
		trace_process(tgid);
		return true;
	}
	return false;
}

static __always_inline bool process_traced(u32 tgid)
{
	return everything_traced() || bpf_map_lookup_elem(&traced, &tgid) != 0;
}

/* The current task. Its fields are read with BPF_CORE_READ, not with direct loads through
 * bpf_get_current_task_btf(): the verifier checks each direct load against the kernel's
 * task_struct, which cost 18 ms at every start, far more than the helper calls save. */
static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

/* A record's header, about the current task. */
static __always_inline void fill_header(struct header *h, u32 kind)
{
	struct task_struct *task = current_task();
	h->kind = kind;
	h->pid = BPF_CORE_READ(task, pid);
	h->tgid = BPF_CORE_READ(task, tgid);
	h->parent = BPF_CORE_READ(task, real_parent, tgid);
	h->time = bpf_ktime_get_ns();
}

/* A record's header, about `task` (not the current one). */
static __always_inline void fill_header_of(struct header *h, u32 kind, struct task_struct *task)
{
	h->kind = kind;
	h->pid = BPF_CORE_READ(task, pid);
	h->tgid = BPF_CORE_READ(task, tgid);
	h->parent = BPF_CORE_READ(task, real_parent, tgid);
	h->time = bpf_ktime_get_ns();
}

/* The current task's saved user registers, typed: pt_regs is small, so a direct load from it is
 * cheap to verify and cheaper than a helper call on the paths every syscall takes. */
static __always_inline struct pt_regs *current_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline u32 read_nspid(struct task_struct *task, s32 *out)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	u32 level = BPF_CORE_READ(pid, level);
	u32 count = 0;
	for (u32 i = 0; i < MAX_NSPID; i++) {
		if (i > level)
			break;
		out[i] = BPF_CORE_READ(pid, numbers[i].nr);
		count++;
	}
	return count;
}

/* Every record leaves through here: the reader is woken only once a batch has gathered. */
static __always_inline void submit(void *rec)
{
	u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(rec, waiting >= wake_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* ---- creation ---- */

static __always_inline bool is_creation(long nr)
{
	return nr == NR_CLONE || nr == NR_CLONE3 || nr == NR_FORK || nr == NR_VFORK;
}

/* The creation call `nr` as the creator made it, from its saved registers (unchanged while the
 * call runs) and, for clone3, the struct and set_tid array in its memory (just copied by the
 * kernel, so resident). */
static __always_inline void read_call(struct raw_call *call, struct pt_regs *regs, u32 nr)
{
	call->nr = nr;
	call->clone3_read = 0;
	call->set_tid_read = 0;
	call->pad = 0;
	if (nr == NR_FORK || nr == NR_VFORK) {
		for (int i = 0; i < 6; i++)
			call->args[i] = 0;
		return;
	}
	call->args[0] = BPF_CORE_READ(regs, di);
	call->args[1] = BPF_CORE_READ(regs, si);
	call->args[2] = BPF_CORE_READ(regs, dx);
	call->args[3] = BPF_CORE_READ(regs, r10);
	call->args[4] = BPF_CORE_READ(regs, r8);
	call->args[5] = BPF_CORE_READ(regs, r9);
	if (nr != NR_CLONE3)
		return;
	const void *uargs = (const void *)call->args[0];
	u64 size = call->args[1];
	if (size > CLONE3_MAX)
		size = CLONE3_MAX;
	if (size >= 64 && bpf_probe_read_user(call->clone3, CLONE3_MAX, uargs) == 0)
		call->clone3_read = CLONE3_MAX;
	else if (size >= 64 && bpf_probe_read_user(call->clone3, 64, uargs) == 0)
		call->clone3_read = 64;
	if (!call->clone3_read)
		return;
	/* set_tid at offset 64, set_tid_size at 72 (clone_args version 1, 80 bytes). */
	u64 set_tid = 0, set_tid_size = 0;
	if (size >= 80) {
		__builtin_memcpy(&set_tid, &call->clone3[64], 8);
		__builtin_memcpy(&set_tid_size, &call->clone3[72], 8);
	}
	if (set_tid_size > 0 && set_tid_size <= MAX_SET_TID) {
		u32 n = set_tid_size;
		if (bpf_probe_read_user(call->set_tid, (n * 4) & 63, (void *)set_tid) == 0)
			call->set_tid_read = n;
		else
			call->set_tid_read = ~0U;
	} else if (set_tid_size > MAX_SET_TID) {
		call->set_tid_read = ~0U;
	}
}

/* In the creator, with the new task fully set up (pid, tgid, real_parent). */
SEC("raw_tp/task_newtask")
int BPF_PROG(task_newtask, struct task_struct *child, u64 clone_flags)
{
	if (!current_traced())
		return 0;
	u32 child_tid = BPF_CORE_READ(child, pid);
	if (!(clone_flags & CLONE_THREAD) && !everything_traced())
		trace_process(child_tid);

	struct create_rec *rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	struct task_struct *creator = current_task();
	fill_header(&rec->h, REC_CREATE);
	rec->child = child_tid;
	rec->child_tgid = BPF_CORE_READ(child, tgid);
	rec->child_parent = BPF_CORE_READ(child, real_parent, tgid);
	rec->nspid_count = read_nspid(child, rec->nspid);
	rec->clone_flags = clone_flags;
	/* A kernel thread, or io_uring's workers (made inside io_uring_setup or _enter): no
	 * creation syscall of the task's own. */
	struct pt_regs *regs = current_regs();
	long nr = regs->orig_ax;
	if (!(BPF_CORE_READ(creator, flags) & PF_KTHREAD) && is_creation(nr)) {
		read_call(&rec->call, regs, nr);
	} else {
		__builtin_memset(&rec->call, 0, sizeof(rec->call));
		rec->call.nr = ~0U;
	}
	submit(rec);
	return 0;
}

/* ---- exec ---- */

SEC("raw_tp/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	/* A non-leader thread that execs takes its leader's tid; the tgid, and so the process's
	 * place in the tree, stay. */
	if (!current_traced())
		return 0;
	struct exec_rec *rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_header(&rec->h, REC_EXEC);
	rec->old_pid = old_pid;
	rec->nspid_count = read_nspid(task, rec->nspid);
	const char *filename = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(rec->path, sizeof(rec->path), filename);
	rec->path_len = n > 0 ? n - 1 : 0;
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	u64 len = end - start;
	if (len > ARGS_MAX_BYTES)
		len = ARGS_MAX_BYTES;
	rec->args_len = 0;
	if (len > 0 && bpf_probe_read_user(rec->args, len, (void *)start) == 0)
		rec->args_len = len;
	submit(rec);
	return 0;
}

/* ---- exit ---- */

SEC("raw_tp/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task, bool group_dead)
{
	if (!current_traced())
		return 0;
	struct exit_rec *rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_header(&rec->h, REC_EXIT);
	rec->exit_code = BPF_CORE_READ(task, exit_code);
	rec->group_exit_code = BPF_CORE_READ(task, signal, group_exit_code);
	rec->signal_flags = BPF_CORE_READ(task, signal, flags);
	rec->live_threads = BPF_CORE_READ(task, signal, live.counter);
	rec->group_dead = group_dead;
	struct task_struct *exec_task = BPF_CORE_READ(task, signal, group_exec_task);
	rec->exec_zapped = exec_task != 0 && exec_task != task;
	/* The process's end as its parent sees it: the leader's exit signal, the parent's SIGCHLD
	 * disposition (do_notify_parent releases the child at once when it ignores SIGCHLD or set
	 * SA_NOCLDWAIT). */
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	int exit_signal = BPF_CORE_READ(leader, exit_signal);
	rec->exit_signal = exit_signal;
	rec->autoreap = 0;
	if (group_dead && exit_signal == SIGCHLD) {
		struct sighand_struct *sighand = BPF_CORE_READ(leader, real_parent, sighand);
		unsigned long handler =
			(unsigned long)BPF_CORE_READ(sighand, action[SIGCHLD - 1].sa.sa_handler);
		unsigned long flags = BPF_CORE_READ(sighand, action[SIGCHLD - 1].sa.sa_flags);
		rec->autoreap = handler == 1 /* SIG_IGN */ || (flags & SA_NOCLDWAIT);
	}
	submit(rec);
	return 0;
}

/* Late and in a foreign context: only the tree's bookkeeping ends here, never a reap. A
 * process is gone when its leader is freed: the leader outlives its threads, and one replaced
 * by an exec from another thread is freed with that thread's former tid. */
SEC("raw_tp/sched_process_free")
int BPF_PROG(sched_process_free, struct task_struct *task)
{
	u32 tid = BPF_CORE_READ(task, pid);
	if (tid == (u32)BPF_CORE_READ(task, tgid) && !everything_traced())
		bpf_map_delete_elem(&traced, &tid);
	return 0;
}

/* ---- a creation that failed ---- */

static __always_inline int creation_failed(struct pt_regs *regs, u32 nr, long ret)
{
	if (!current_traced())
		return 0;
	struct create_failed_rec *rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_header(&rec->h, REC_CREATE_FAILED);
	rec->ret = ret;
	read_call(&rec->call, regs, nr);
	submit(rec);
	return 0;
}

/* ---- reaps: the reaper's own wait call, read at its return ---- */

static __always_inline int wait_returned(struct pt_regs *regs, u32 nr, long ret)
{
	s64 id;
	u32 idtype = 0;
	u64 out, options;
	if (nr == NR_WAIT4) {
		id = (s32)BPF_CORE_READ(regs, di);
		out = BPF_CORE_READ(regs, si);
		options = BPF_CORE_READ(regs, dx);
	} else {
		idtype = BPF_CORE_READ(regs, di);
		id = (s32)BPF_CORE_READ(regs, si);
		out = BPF_CORE_READ(regs, dx);
		options = BPF_CORE_READ(regs, r10);
	}
	if (options & WNOWAIT)
		return 0; /* reaps nothing */
	s32 child = 0, status = 0;
	u8 status_read = 0;
	if (nr == NR_WAIT4) {
		if (ret <= 0)
			return 0;
		child = ret;
		if (out && bpf_probe_read_user(&status, 4, (void *)out) == 0)
			status_read = 1;
	} else {
		if (ret != 0 || !out)
			return 0;
		/* siginfo: si_signo, si_errno, si_code, pad, then si_pid at 16. */
		if (bpf_probe_read_user(&child, 4, (void *)(out + 16)) != 0)
			return 0;
		if (bpf_probe_read_user(&status, 4, (void *)(out + 8)) == 0)
			status_read = 1;
		if (child <= 0)
			return 0; /* WNOHANG with nothing to report */
	}
	/* The reaper is in the tree, or the child was (an orphan adopted by init or a subreaper
	 * outside the tree). The child's entry lives until the kernel frees it. (A child number
	 * from a reaper in a nested PID namespace is that namespace's: userspace maps it.) */
	if (!current_traced() && !process_traced(child))
		return 0;
	struct wait_rec *rec = reserve(sizeof(*rec));
	if (!rec)
		return 0;
	fill_header(&rec->h, REC_WAIT);
	rec->nr = nr;
	rec->child = child;
	rec->id = id;
	rec->idtype = idtype;
	rec->options = options;
	rec->status = status;
	rec->status_read = status_read;
	rec->level = BPF_CORE_READ(current_task(), thread_pid, level);
	__builtin_memset(rec->pad, 0, sizeof(rec->pad));
	submit(rec);
	return 0;
}

/* ---- signals ----
 *
 * What the ptrace engine reports as signal-delivery stops. A ptraced task dequeues every signal
 * sent to it, where an untraced one is spared two kinds of signal at the sending:
 * - one it ignores is discarded (signal_generate says IGNORED);
 * - one that will kill it (no handler, no core dump) becomes a kill of the whole group there
 *   and then: the group is marked exiting with that signal, and its tasks dequeue SIGKILL.
 * So: a signal a task dequeues (signal_deliver, in the receiver), plus those two, seen where
 * they are sent. A signal dropped because its group is already exiting is dropped for a
 * ptraced task too. SIGKILL, which ptrace never stops for, is left out. */

static __always_inline void signal_record(u32 signo, struct task_struct *task, bool current)
{
	struct signal_rec *rec = reserve(sizeof(*rec));
	if (!rec)
		return;
	if (current)
		fill_header(&rec->h, REC_SIGNAL);
	else
		fill_header_of(&rec->h, REC_SIGNAL, task);
	rec->signo = signo;
	rec->pad = 0;
	submit(rec);
}

SEC("raw_tp/signal_deliver")
int BPF_PROG(signal_deliver, int sig, void *info, void *ka)
{
	if (sig == SIGKILL || !current_traced())
		return 0;
	signal_record(sig, 0, true);
	return 0;
}

SEC("raw_tp/signal_generate")
int BPF_PROG(signal_generate, int sig, void *info, struct task_struct *task, int group, int result)
{
	if (sig == SIGKILL)
		return 0;
	u32 flags = BPF_CORE_READ(task, signal, flags);
	bool exiting = flags & SIGNAL_GROUP_EXIT;
	if (result == TRACE_SIGNAL_IGNORED) {
		if (exiting)
			return 0; /* dropped: the group is already on its way out */
	} else if (result == TRACE_SIGNAL_DELIVERED) {
		/* Only when this very signal made the group exit: otherwise signal_deliver sees it. */
		if (!exiting || BPF_CORE_READ(task, signal, group_exit_code) != sig)
			return 0;
	} else {
		return 0;
	}
	if (!process_traced(BPF_CORE_READ(task, tgid)))
		return 0;
	signal_record(sig, task, false);
	return 0;
}

/* ---- every syscall's exit ----
 *
 * One raw tracepoint for all of them, since the syscalls/sys_exit_* tracepoints are perf events
 * whose release waits for an RCU grace period each (about 70 ms here) at the end of every trace.
 * It costs every syscall on the machine this program's run, so it returns at once for all but
 * the six calls it needs. */

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	long nr = current_regs()->orig_ax;
	switch (nr) {
	case NR_CLONE:
	case NR_CLONE3:
	case NR_FORK:
	case NR_VFORK:
		/* Only a failure: a success was reported at task_newtask. */
		return ret < 0 ? creation_failed(regs, nr, ret) : 0;
	case NR_WAIT4:
	case NR_WAITID:
		return wait_returned(regs, nr, ret);
	default:
		return 0;
	}
}

/* The sizes src/ebpf/record.rs asserts too (layouts_match_the_c_side). */
_Static_assert(sizeof(struct header) == 24, "header");
_Static_assert(sizeof(struct raw_call) == 184, "raw_call");
_Static_assert(sizeof(struct create_rec) == 248, "create_rec");
_Static_assert(sizeof(struct create_failed_rec) == 216, "create_failed_rec");
_Static_assert(sizeof(struct exec_rec) == 1336, "exec_rec");
_Static_assert(sizeof(struct exit_rec) == 48, "exit_rec");
_Static_assert(sizeof(struct wait_rec) == 56, "wait_rec");
_Static_assert(sizeof(struct signal_rec) == 32, "signal_rec");
