/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The few kernel types clonetrace's BPF program reads, declared by hand for CO-RE: with
 * preserve_access_index, clang records each field access by name and the loader relocates it
 * against the running kernel's BTF (/sys/kernel/btf/vmlinux). Only the fields used are declared;
 * their order and the structs' sizes here do not matter. A full vmlinux.h (2.8 MB) is not needed.
 */
#ifndef CLONETRACE_H
#define CLONETRACE_H

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u8 u8;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef int pid_t;
typedef _Bool bool;
enum { false = 0, true = 1 };

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pid_namespace;

struct upid {
	int nr;
	struct pid_namespace *ns;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

typedef void (*__sighandler_t)(int);

struct sigaction {
	__sighandler_t sa_handler;
	unsigned long sa_flags;
};

struct k_sigaction {
	struct sigaction sa;
};

struct sighand_struct {
	struct k_sigaction action[64];
};

typedef struct {
	int counter;
} atomic_t;

struct task_struct;

struct signal_struct {
	atomic_t live;
	struct task_struct *group_exec_task;
	int nr_threads;
	int group_exit_code;
	unsigned int flags;
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
};

struct task_struct {
	unsigned int flags;
	pid_t pid;
	pid_t tgid;
	int exit_code;
	int exit_signal;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	struct signal_struct *signal;
	struct sighand_struct *sighand;
	struct mm_struct *mm;
	char comm[16];
};

/* x86_64's saved user registers: the syscall number and its six arguments. */
struct pt_regs {
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
};

struct linux_binprm {
	const char *filename;
};

#pragma clang attribute pop

#endif
