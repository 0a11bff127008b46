// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * clonetrace's BPF side: copies raw values from tracepoints into a ring buffer, for the traced
 * tree (or the whole machine). It decodes nothing and names nothing: userspace (src/ebpf) turns
 * each record into the same events the ptrace engine makes, with the same decode tables. Only
 * BTF tracepoints (tp_btf) are used: fentry/fexit and kprobes are not
 * available on every kernel clonetrace runs on. Nothing here ever stops or slows a task beyond
 * the copy.
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

#define MAX_NSPID 4
#define MAX_SET_TID 8
#define CLONE3_MAX 88
#define PATH_MAX_BYTES 256
#define ARGS_MAX_BYTES 1024

#define SIGCHLD 17
#define SA_NOCLDWAIT 2
#define SIGNAL_GROUP_EXIT 0x4
#define WNOWAIT 0x01000000

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
	u8 pad[3];
};

struct pending_wait {
	u32 nr;
	u32 idtype;
	s64 id;
	u64 options;
	u64 out; /* wait4: wstatus pointer; waitid: infop */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} events SEC(".maps");

/* Tasks (by tid) of the traced tree; deleted when the kernel frees the task. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__type(key, u32);
	__type(value, u8);
} traced SEC(".maps");

/* A creation call in flight, by creator tid: its raw arguments, for task_newtask. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, u32);
	__type(value, struct raw_call);
} calls SEC(".maps");

/* A wait call in flight, by waiter tid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, u32);
	__type(value, struct pending_wait);
} waits SEC(".maps");

/* Records the ring buffer had no room for, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} lost SEC(".maps");

/* Scratch space for a raw call (too big for the 512-byte stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct raw_call);
} scratch SEC(".maps");

static __always_inline void count_lost(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&lost, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
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

/* Whether the current task is traced. A task a filter selects joins the tree, so its descendants
 * follow it. */
static __always_inline bool current_traced(void)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	if (system_mode && !filter_comm && !filter_cgroup && !filter_tree)
		return true;
	if (bpf_map_lookup_elem(&traced, &tid))
		return true;
	if ((filter_comm && comm_matches()) || (filter_cgroup && cgroup_matches())) {
		u8 one = 1;
		bpf_map_update_elem(&traced, &tid, &one, BPF_ANY);
		return true;
	}
	return false;
}

static __always_inline bool task_traced(u32 tid)
{
	if (system_mode && !filter_comm && !filter_cgroup && !filter_tree)
		return true;
	return bpf_map_lookup_elem(&traced, &tid) != 0;
}

static __always_inline void fill_header(struct header *h, u32 kind, struct task_struct *task)
{
	h->kind = kind;
	h->pid = BPF_CORE_READ(task, pid);
	h->tgid = BPF_CORE_READ(task, tgid);
	h->parent = BPF_CORE_READ(task, real_parent, tgid);
	h->time = bpf_ktime_get_ns();
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

/* ---- creation ---- */

static __always_inline int enter_creation(u64 *args, u32 nr)
{
	if (!current_traced())
		return 0;
	u32 zero = 0;
	struct raw_call *call = bpf_map_lookup_elem(&scratch, &zero);
	if (!call)
		return 0;
	call->nr = nr;
	call->clone3_read = 0;
	call->set_tid_read = 0;
	for (int i = 0; i < 6; i++)
		call->args[i] = args[i];
	if (nr == NR_CLONE3) {
		const void *uargs = (const void *)args[0];
		u64 size = args[1];
		if (size > CLONE3_MAX)
			size = CLONE3_MAX;
		if (size >= 64 && bpf_probe_read_user(call->clone3, CLONE3_MAX, uargs) == 0)
			call->clone3_read = CLONE3_MAX;
		else if (size >= 64 && bpf_probe_read_user(call->clone3, 64, uargs) == 0)
			call->clone3_read = 64;
		if (call->clone3_read) {
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
	}
	u32 tid = (u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&calls, &tid, call, BPF_ANY);
	return 0;
}

/* The creation call returned: in the creator only (a new task starts in ret_from_fork and never
 * passes here). A failure is reported; either way the saved call is forgotten. */
static __always_inline int exit_creation(long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct raw_call *call = bpf_map_lookup_elem(&calls, &tid);
	if (!call)
		return 0;
	if (ret < 0) {
		struct create_failed_rec *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
		if (!rec) {
			count_lost();
		} else {
			fill_header(&rec->h, REC_CREATE_FAILED,
				    (struct task_struct *)bpf_get_current_task_btf());
			rec->ret = ret;
			__builtin_memcpy(&rec->call, call, sizeof(*call));
			bpf_ringbuf_submit(rec, 0);
		}
	}
	bpf_map_delete_elem(&calls, &tid);
	return 0;
}

/* In the creator, with the new task fully set up (pid, tgid, real_parent). */
SEC("tp_btf/task_newtask")
int BPF_PROG(task_newtask, struct task_struct *child, u64 clone_flags)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	if (!current_traced())
		return 0;
	u32 child_tid = BPF_CORE_READ(child, pid);
	u8 one = 1;
	if (!(system_mode && !filter_comm && !filter_cgroup && !filter_tree))
		bpf_map_update_elem(&traced, &child_tid, &one, BPF_ANY);

	struct create_rec *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost();
		return 0;
	}
	fill_header(&rec->h, REC_CREATE, (struct task_struct *)bpf_get_current_task_btf());
	rec->child = child_tid;
	rec->child_tgid = BPF_CORE_READ(child, tgid);
	rec->child_parent = BPF_CORE_READ(child, real_parent, tgid);
	rec->nspid_count = read_nspid(child, rec->nspid);
	rec->clone_flags = clone_flags;
	struct raw_call *call = bpf_map_lookup_elem(&calls, &tid);
	if (call) {
		__builtin_memcpy(&rec->call, call, sizeof(*call));
	} else {
		/* A kernel thread, or io_uring's workers: no creation syscall of the task's own. */
		__builtin_memset(&rec->call, 0, sizeof(rec->call));
		rec->call.nr = ~0U;
	}
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* ---- exec ---- */

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!current_traced())
		return 0;
	u32 tid = BPF_CORE_READ(task, pid);
	if ((u32)old_pid != tid) {
		/* A non-leader thread exec'd and took the leader's tid: keep it traced. */
		u8 one = 1;
		if (!(system_mode && !filter_comm && !filter_cgroup && !filter_tree))
			bpf_map_update_elem(&traced, &tid, &one, BPF_ANY);
	}
	struct exec_rec *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost();
		return 0;
	}
	fill_header(&rec->h, REC_EXEC, task);
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
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* ---- exit ---- */

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task, bool group_dead)
{
	u32 tid = BPF_CORE_READ(task, pid);
	bpf_map_delete_elem(&calls, &tid);
	bpf_map_delete_elem(&waits, &tid);
	if (!current_traced())
		return 0;
	struct exit_rec *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost();
		return 0;
	}
	fill_header(&rec->h, REC_EXIT, task);
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
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* Late and in a foreign context: only the tree's bookkeeping ends here, never a reap. */
SEC("tp_btf/sched_process_free")
int BPF_PROG(sched_process_free, struct task_struct *task)
{
	u32 tid = BPF_CORE_READ(task, pid);
	bpf_map_delete_elem(&traced, &tid);
	return 0;
}

/* ---- reaps: the reaper's own wait call ---- */

static __always_inline int enter_wait(u64 *args, u32 nr)
{
	struct pending_wait w = {};
	w.nr = nr;
	if (nr == NR_WAIT4) {
		w.id = (s32)args[0];
		w.out = args[1];
		w.options = args[2];
	} else {
		w.idtype = args[0];
		w.id = (s32)args[1];
		w.out = args[2];
		w.options = args[3];
	}
	if (w.options & WNOWAIT)
		return 0; /* reaps nothing */
	u32 tid = (u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&waits, &tid, &w, BPF_ANY);
	return 0;
}

static __always_inline int exit_wait(long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct pending_wait *w = bpf_map_lookup_elem(&waits, &tid);
	if (!w)
		return 0;
	struct pending_wait saved = *w;
	bpf_map_delete_elem(&waits, &tid);
	s32 child = 0, status = 0;
	u8 status_read = 0;
	if (saved.nr == NR_WAIT4) {
		if (ret <= 0)
			return 0;
		child = ret;
		if (saved.out && bpf_probe_read_user(&status, 4, (void *)saved.out) == 0)
			status_read = 1;
	} else {
		if (ret != 0 || !saved.out)
			return 0;
		/* siginfo: si_signo, si_errno, si_code, pad, then si_pid at 16. */
		if (bpf_probe_read_user(&child, 4, (void *)(saved.out + 16)) != 0)
			return 0;
		if (bpf_probe_read_user(&status, 4, (void *)(saved.out + 8)) == 0)
			status_read = 1;
		if (child <= 0)
			return 0; /* WNOHANG with nothing to report */
	}
	/* The reaper is in the tree, or the child was (an orphan adopted by init or a subreaper
	 * outside the tree). The child's entry lives until the kernel frees it. */
	if (!current_traced() && !task_traced(child))
		return 0;
	struct wait_rec *rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_lost();
		return 0;
	}
	fill_header(&rec->h, REC_WAIT, (struct task_struct *)bpf_get_current_task_btf());
	rec->nr = saved.nr;
	rec->child = child;
	rec->id = saved.id;
	rec->idtype = saved.idtype;
	rec->options = saved.options;
	rec->status = status;
	rec->status_read = status_read;
	bpf_ringbuf_submit(rec, 0);
	return 0;
}

/* ---- the syscalls: one BTF tracepoint for every syscall's entry and exit ----
 *
 * The syscalls/sys_enter_* tracepoints would select the six calls in the kernel, but each is a
 * perf event whose release waits for an RCU grace period (about 70 ms each here), and they sit
 * on these same raw tracepoints anyway. So: two programs, and a switch on the number. */

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_CLONE:
	case NR_CLONE3:
	case NR_FORK:
	case NR_VFORK:
	case NR_WAIT4:
	case NR_WAITID:
		break;
	default:
		return 0;
	}
	u64 args[6];
	/* A BTF tracepoint's pointer arguments are read directly (CO-RE relocated loads). */
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
	if (id == NR_WAIT4 || id == NR_WAITID)
		return enter_wait(args, id);
	if (id == NR_FORK || id == NR_VFORK)
		args[0] = args[1] = args[2] = args[3] = args[4] = args[5] = 0;
	return enter_creation(args, id);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	/* Runs at every syscall's exit: one direct load, no helper call. */
	long id = regs->orig_ax;
	switch (id) {
	case NR_CLONE:
	case NR_CLONE3:
	case NR_FORK:
	case NR_VFORK:
		return exit_creation(ret);
	case NR_WAIT4:
	case NR_WAITID:
		return exit_wait(ret);
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
