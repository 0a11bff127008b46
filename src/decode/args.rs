//! decode::args: which syscall numbers create tasks on each architecture, and what their six raw
//! argument words mean. The only place that knows per-architecture argument order. Pure, no I/O.

use syscalls::{aarch64, riscv64, x86_64};

/// An architecture's syscall ABI: its numbering and its clone(2) argument order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    dead_code,
    reason = "each build constructs only its own architecture outside the unit tests"
)]
pub enum Arch {
    X86_64,
    Aarch64,
    Riscv64,
}

impl Arch {
    /// The architecture this binary runs on, hence the one its tracees use (we don't trace
    /// 32-bit compat or x32 tasks: their numbers don't match any table here, so nothing decodes).
    #[cfg(target_arch = "x86_64")]
    pub const NATIVE: Arch = Arch::X86_64;
    #[cfg(target_arch = "aarch64")]
    pub const NATIVE: Arch = Arch::Aarch64;
    #[cfg(target_arch = "riscv64")]
    pub const NATIVE: Arch = Arch::Riscv64;
    /// Unsupported architectures still build: most newer ones (loongarch64, riscv32, csky…) use
    /// the asm-generic syscall table aarch64 uses. Older ones (mips, powerpc, s390x) number
    /// differently, so expect nothing to decode there rather than wrong decodes.
    #[cfg(not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "riscv64"
    )))]
    pub const NATIVE: Arch = Arch::Aarch64;

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
        }
    }
}

/// A task-creating syscall with its arguments, named and in the kernel's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreationCall {
    Fork,
    Vfork,
    Clone {
        flags: u64,
        stack: u64,
        parent_tid: u64,
        child_tid: u64,
        tls: u64,
    },
    /// `args` is the tracee address of its `struct clone_args`, `size` what it claims to be.
    Clone3 {
        args: u64,
        size: u64,
    },
}

#[cfg(test)]
impl CreationCall {
    pub fn syscall_name(&self) -> &'static str {
        match self {
            CreationCall::Fork => "fork",
            CreationCall::Vfork => "vfork",
            CreationCall::Clone { .. } => "clone",
            CreationCall::Clone3 { .. } => "clone3",
        }
    }
}

/// The creation syscalls, independent of numbering.
enum Creation {
    Fork,
    Vfork,
    Clone,
    Clone3,
}

/// Looks `nr` up in `arch`'s table from the syscalls crate, so no syscall number is hand-written.
fn creation_kind(arch: Arch, nr: u64) -> Option<Creation> {
    // Anything that doesn't fit (e.g. -1 for a syscall a seccomp filter skipped) is no syscall.
    let nr = usize::try_from(nr).ok()?;
    match arch {
        Arch::X86_64 => match x86_64::Sysno::new(nr)? {
            x86_64::Sysno::fork => Some(Creation::Fork),
            x86_64::Sysno::vfork => Some(Creation::Vfork),
            x86_64::Sysno::clone => Some(Creation::Clone),
            x86_64::Sysno::clone3 => Some(Creation::Clone3),
            _ => None,
        },
        // The asm-generic table has no fork or vfork: libc implements both with clone.
        Arch::Aarch64 => match aarch64::Sysno::new(nr)? {
            aarch64::Sysno::clone => Some(Creation::Clone),
            aarch64::Sysno::clone3 => Some(Creation::Clone3),
            _ => None,
        },
        Arch::Riscv64 => match riscv64::Sysno::new(nr)? {
            riscv64::Sysno::clone => Some(Creation::Clone),
            riscv64::Sysno::clone3 => Some(Creation::Clone3),
            _ => None,
        },
    }
}

/// Names the arguments of a task-creating syscall; `None` for any other syscall.
pub fn decode_creation_call(arch: Arch, nr: u64, args: &[u64; 6]) -> Option<CreationCall> {
    Some(match creation_kind(arch, nr)? {
        Creation::Fork => CreationCall::Fork,
        Creation::Vfork => CreationCall::Vfork,
        Creation::Clone => {
            let [flags, stack, parent_tid, fourth, fifth, _] = *args;
            // kernel/fork.c: x86_64 takes the default order; arm64 and riscv select
            // CONFIG_CLONE_BACKWARDS, which swaps the last two so tls comes fourth.
            let (child_tid, tls) = match arch {
                Arch::X86_64 => (fourth, fifth),
                Arch::Aarch64 | Arch::Riscv64 => (fifth, fourth),
            };
            CreationCall::Clone {
                flags,
                stack,
                parent_tid,
                child_tid,
                tls,
            }
        }
        Creation::Clone3 => CreationCall::Clone3 {
            args: args[0],
            size: args[1],
        },
    })
}

/// The kernel's name for syscall `nr` on `arch`, e.g. to label a stop that isn't a creation.
pub fn syscall_name(arch: Arch, nr: u64) -> Option<&'static str> {
    let nr = usize::try_from(nr).ok()?;
    Some(match arch {
        Arch::X86_64 => x86_64::Sysno::new(nr)?.name(),
        Arch::Aarch64 => aarch64::Sysno::new(nr)?.name(),
        Arch::Riscv64 => riscv64::Sysno::new(nr)?.name(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Arch; 3] = [Arch::X86_64, Arch::Aarch64, Arch::Riscv64];

    #[test]
    fn x86_64_glibc_fork() {
        // Registers at entry to glibc 2.3x fork(): clone(CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID
        // |SIGCHLD, NULL, NULL, &THREAD_SELF->tid, 0).
        let args = [0x1200011, 0, 0, 0x7f12_3456_7a10, 0, 0];
        assert_eq!(
            decode_creation_call(Arch::X86_64, 56, &args),
            Some(CreationCall::Clone {
                flags: 0x1200011,
                stack: 0,
                parent_tid: 0,
                child_tid: 0x7f12_3456_7a10,
                tls: 0,
            })
        );
    }

    #[test]
    fn x86_64_pthread_create() {
        // glibc pthread_create via clone: (flags, stack, &pd->tid, &pd->tid, tls=pd).
        let args = [
            0x3d0f00,
            0x7f00_dead_0000,
            0x7f00_dead_f910,
            0x7f00_dead_f910,
            0x7f00_dead_f640,
            0,
        ];
        assert_eq!(
            decode_creation_call(Arch::X86_64, 56, &args),
            Some(CreationCall::Clone {
                flags: 0x3d0f00,
                stack: 0x7f00_dead_0000,
                parent_tid: 0x7f00_dead_f910,
                child_tid: 0x7f00_dead_f910,
                tls: 0x7f00_dead_f640,
            })
        );
    }

    #[test]
    fn aarch64_and_riscv64_pthread_clone_swap_tls_and_child_tid() {
        // CONFIG_CLONE_BACKWARDS: x0..x4 = (flags, stack, parent_tid, tls, child_tid). Distinct
        // tid and tls values make a swapped decode visible.
        let tls = 0xffff_8a5f_f8e0;
        let child_tid = 0xffff_8a5f_f1d0;
        let args = [
            0x3d0f00,
            0xffff_8a5f_e9f0,
            0xffff_8a5f_f1d0,
            tls,
            child_tid,
            0,
        ];
        let expected = Some(CreationCall::Clone {
            flags: 0x3d0f00,
            stack: 0xffff_8a5f_e9f0,
            parent_tid: 0xffff_8a5f_f1d0,
            child_tid,
            tls,
        });
        assert_eq!(decode_creation_call(Arch::Aarch64, 220, &args), expected);
        assert_eq!(decode_creation_call(Arch::Riscv64, 220, &args), expected);
        // The same registers read as x86_64 put them the other way round.
        let Some(CreationCall::Clone {
            child_tid: x86_child_tid,
            tls: x86_tls,
            ..
        }) = decode_creation_call(Arch::X86_64, 56, &args)
        else {
            panic!("x86_64 clone not decoded");
        };
        assert_eq!((x86_child_tid, x86_tls), (tls, child_tid));
    }

    #[test]
    fn clone3_everywhere() {
        let args = [0x7ffd_1234_5670, 88, 0xdead, 0xbeef, 1, 2];
        for arch in ALL {
            let call = decode_creation_call(arch, 435, &args);
            assert_eq!(
                call,
                Some(CreationCall::Clone3 {
                    args: 0x7ffd_1234_5670,
                    size: 88
                }),
                "{arch:?}"
            );
            assert_eq!(call.unwrap().syscall_name(), "clone3");
        }
    }

    #[test]
    fn x86_64_fork_and_vfork() {
        let args = [0xdead; 6];
        assert_eq!(
            decode_creation_call(Arch::X86_64, 57, &args),
            Some(CreationCall::Fork)
        );
        assert_eq!(
            decode_creation_call(Arch::X86_64, 58, &args),
            Some(CreationCall::Vfork)
        );
        assert_eq!(CreationCall::Fork.syscall_name(), "fork");
        assert_eq!(CreationCall::Vfork.syscall_name(), "vfork");
    }

    #[test]
    fn nr_57_is_close_on_generic_tables() {
        for arch in [Arch::Aarch64, Arch::Riscv64] {
            assert_eq!(decode_creation_call(arch, 57, &[0; 6]), None);
            assert_eq!(syscall_name(arch, 57), Some("close"));
        }
        assert_eq!(syscall_name(Arch::X86_64, 57), Some("fork"));
    }

    #[test]
    fn generic_tables_have_no_fork_or_vfork() {
        for arch in [Arch::Aarch64, Arch::Riscv64] {
            for nr in 0..1024 {
                let call = decode_creation_call(arch, nr, &[0; 6]);
                assert!(
                    !matches!(call, Some(CreationCall::Fork | CreationCall::Vfork)),
                    "{arch:?} {nr}"
                );
            }
        }
    }

    #[test]
    fn creation_calls_agree_with_syscall_names() {
        for arch in ALL {
            for nr in 0..1024 {
                if let Some(call) = decode_creation_call(arch, nr, &[0; 6]) {
                    assert_eq!(syscall_name(arch, nr), Some(call.syscall_name()));
                }
            }
        }
    }

    #[test]
    fn other_syscalls_are_not_creation_calls() {
        for arch in ALL {
            // write, and numbers no table has: -1 (skipped syscall) and an x32-style number.
            for nr in [1, 64, u64::MAX, 0x4000_0038, 100_000] {
                let name = syscall_name(arch, nr);
                if !matches!(name, Some("fork" | "vfork" | "clone" | "clone3")) {
                    assert_eq!(decode_creation_call(arch, nr, &[0; 6]), None);
                }
            }
            assert_eq!(syscall_name(arch, u64::MAX), None);
        }
        assert_eq!(syscall_name(Arch::X86_64, 1), Some("write"));
        assert_eq!(syscall_name(Arch::Aarch64, 64), Some("write"));
    }

    #[test]
    fn names() {
        assert_eq!(Arch::X86_64.name(), "x86_64");
        assert_eq!(Arch::Aarch64.name(), "aarch64");
        assert_eq!(Arch::Riscv64.name(), "riscv64");
        if cfg!(any(
            target_arch = "x86_64",
            target_arch = "aarch64",
            target_arch = "riscv64"
        )) {
            assert_eq!(Arch::NATIVE.name(), std::env::consts::ARCH);
        }
        let clone = CreationCall::Clone {
            flags: 0,
            stack: 0,
            parent_tid: 0,
            child_tid: 0,
            tls: 0,
        };
        assert_eq!(clone.syscall_name(), "clone");
    }
}
