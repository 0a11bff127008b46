//! scenario: the demo's programs, run as `NAME-demo` (clonetrace re-executed) under the tracer. Each one
//! makes processes or threads the way its tour entry explains and prints, in a fixed order, what
//! each side sees. Never traces or renders anything: the tour in `demo` does that.
//!
//! Every line is written with one `write(2)` on descriptor 1 (the [`say!`] macro), unbuffered,
//! so a fork never duplicates buffered text and lines from several processes never mix. Children
//! end with `_exit`, so Rust's and libc's exit-time cleanup runs once, in the process that owns it.

use std::ffi::{CString, c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Writes one line to standard output with a single `write(2)`.
macro_rules! say {
    ($($arg:tt)*) => {
        write_line(&format!($($arg)*))
    };
}

fn write_line(text: &str) {
    let line = format!("{text}\n");
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        // SAFETY: the pointer and length describe `rest`, which outlives the call.
        let written = unsafe { libc::write(1, rest.as_ptr().cast(), rest.len()) };
        if written < 0 && errno() == libc::EINTR {
            continue;
        }
        if written <= 0 {
            return;
        }
        rest = &rest[written as usize..];
    }
}

fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// The name of the last error, e.g. `EPERM (Operation not permitted)`.
fn last_error() -> String {
    let error = std::io::Error::last_os_error();
    let code = error.raw_os_error().unwrap_or(0);
    let name = nix::errno::Errno::from_raw(code);
    format!("{name:?} ({})", name.desc())
}

/// Reports a failed call on standard error and gives the scenario's failure status.
fn failed(what: &str) -> i32 {
    eprintln!("scenario: {what} failed: {}", last_error());
    1
}

fn getpid() -> i32 {
    // SAFETY: getpid, getppid and gettid cannot fail and touch no memory.
    unsafe { libc::getpid() }
}

fn getppid() -> i32 {
    // SAFETY: as getpid.
    unsafe { libc::getppid() }
}

fn gettid() -> i32 {
    // SAFETY: as getpid.
    unsafe { libc::gettid() }
}

/// Waits for `pid` (or any child, -1) with `options`, retrying on EINTR; returns the raw wait
/// status.
fn wait_for(pid: i32, options: c_int) -> Result<c_int, String> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer for the call.
        let got = unsafe { libc::waitpid(pid, &mut status, options) };
        if got > 0 {
            return Ok(status);
        }
        if got < 0 && errno() == libc::EINTR {
            continue;
        }
        return Err(last_error());
    }
}

/// Waits for `pid` to end; on failure says why on stderr (the scenario then exits 1).
fn reap(pid: i32) -> Option<c_int> {
    wait_for(pid, 0)
        .inspect_err(|e| eprintln!("scenario: waitpid({pid}): {e}"))
        .ok()
}

/// Describes a raw wait status the way a reader checks it: which W* macro holds, and its value.
fn describe_status(status: c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("WIFEXITED, WEXITSTATUS = {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        let name = nix::sys::signal::Signal::try_from(signal)
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|_| format!("signal {signal}"));
        format!("WIFSIGNALED, WTERMSIG = {signal} ({name})")
    } else {
        format!("{status:#x}")
    }
}

/// A pipe used as a one-byte gate: the side that reads waits until the other writes (or until
/// every copy of the write end is closed, e.g. by the writer's exit).
struct Gate {
    read: c_int,
    write: c_int,
}

impl Gate {
    fn new() -> Option<Gate> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe returns.
        (unsafe { libc::pipe(fds.as_mut_ptr()) } == 0).then_some(Gate {
            read: fds[0],
            write: fds[1],
        })
    }

    /// Blocks until a byte arrives or the write end is closed everywhere.
    fn wait(&self) {
        let mut byte = 0u8;
        loop {
            // SAFETY: reads at most one byte into `byte`.
            let got = unsafe { libc::read(self.read, (&raw mut byte).cast(), 1) };
            if got < 0 && errno() == libc::EINTR {
                continue;
            }
            return;
        }
    }

    fn open(&self) {
        // SAFETY: writes one byte from a live local.
        unsafe { libc::write(self.write, [1u8].as_ptr().cast(), 1) };
    }

    fn close_write(&self) {
        // SAFETY: closing our own descriptor; nothing else uses it afterwards in this process.
        unsafe { libc::close(self.write) };
    }
}

/// A stack the caller allocates for glibc's `clone()`: `SIZE` bytes on the heap, 16-byte aligned.
struct ChildStack {
    memory: Vec<u128>,
}

impl ChildStack {
    const SIZE: usize = 64 * 1024;

    fn new() -> ChildStack {
        ChildStack {
            memory: vec![0; Self::SIZE / size_of::<u128>()],
        }
    }

    fn base(&mut self) -> *mut u8 {
        self.memory.as_mut_ptr().cast()
    }

    /// The address passed to clone(): the end of the block, since stacks grow down on the
    /// architectures Linux runs on.
    fn top(&mut self) -> *mut c_void {
        // SAFETY: one past the end of the allocation is a valid pointer to form.
        unsafe { self.base().add(Self::SIZE).cast() }
    }
}

/// Runs glibc's `clone(work, stack top, flags, arg)`; returns the new pid or -1.
fn clone_with(
    stack: &mut ChildStack,
    work: extern "C" fn(*mut c_void) -> c_int,
    flags: c_int,
    arg: *mut c_void,
) -> i32 {
    // SAFETY: the stack is ours and outlives the child's use of it (without CLONE_VM the child
    // runs on its own copy); `work` only formats, writes and returns.
    unsafe { libc::clone(work, stack.top(), flags, arg) }
}

/// glibc's fork(): the kernel sees clone(CHILD_CLEARTID|CHILD_SETTID|SIGCHLD).
pub fn fork() -> i32 {
    say!(
        "parent: getpid() = {}, getppid() = {} (clonetrace)",
        getpid(),
        getppid()
    );
    // SAFETY: single-threaded; the child only formats, writes and _exits.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return failed("fork");
    }
    if child == 0 {
        say!(
            "child:  fork() returned 0; getpid() = {}, getppid() = {}",
            getpid(),
            getppid()
        );
        // SAFETY: ends the child without running the parent's exit-time cleanup twice.
        unsafe { libc::_exit(0) };
    }
    if reap(child).is_none() {
        return 1;
    }
    say!("parent: fork() returned {child}, the child's pid; waitpid() reaped it");
    0
}

/// The fork and vfork system calls by number, bypassing glibc.
pub fn raw_fork() -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        raw_fork_x86_64()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        say!("this architecture has no fork or vfork system call: glibc makes both with clone");
        0
    }
}

#[cfg(target_arch = "x86_64")]
fn raw_fork_x86_64() -> i32 {
    say!(
        "parent: {} calls syscall({}), the fork system call",
        getpid(),
        libc::SYS_fork
    );
    // SAFETY: a raw fork gives the child its own copy of memory, like glibc's fork() but without
    // the atfork handlers; this process is single-threaded, so no lock is held by another thread.
    let child = unsafe { libc::syscall(libc::SYS_fork) } as i32;
    if child < 0 {
        return failed("syscall(SYS_fork)");
    }
    if child == 0 {
        say!(
            "child:  syscall {} (fork) returned 0; getpid() = {}",
            libc::SYS_fork,
            getpid()
        );
        // SAFETY: see fork().
        unsafe { libc::_exit(0) };
    }
    if reap(child).is_none() {
        return 1;
    }
    say!(
        "parent: syscall {} (fork) returned {child}; reaped it",
        libc::SYS_fork
    );

    let child = raw_vfork_child_writes_and_exits();
    if child < 0 {
        return failed("the vfork system call");
    }
    say!(
        "parent: syscall {} (vfork) returned {child} once that child had exited",
        libc::SYS_vfork
    );
    if reap(child).is_none() {
        return 1;
    }
    say!("parent: reaped {child}");
    0
}

/// Makes the vfork system call and, in the child, writes one line and exits, all in inline
/// assembly. Returns the child's pid (or -errno) in the parent.
///
/// The child of vfork runs on the parent's memory *and its stack*, while the parent sleeps in the
/// kernel. Going through glibc's `syscall()` would break the parent: the child would return from
/// `syscall()` (popping the return address the parent still needs), and its next call would push
/// a different return address into that very slot, so the resumed parent would "return" into the
/// child's code. (glibc's own `vfork()` keeps its return address in a register for this reason.)
/// Here the child never calls, returns or touches the stack: it only executes `syscall`
/// instructions with everything in registers, then `exit`, and the kernel resumes the parent.
#[cfg(target_arch = "x86_64")]
fn raw_vfork_child_writes_and_exits() -> i32 {
    static LINE: &[u8] = b"child:  syscall 58 (vfork) returned 0; the parent waits until I exit\n";
    let result: i64;
    // SAFETY: see above. `rcx` and `r11` are clobbered by the syscall instruction.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            // Child: write(1, LINE, len(LINE)); exit(0). No stack, no calls.
            "mov eax, {write}",
            "mov edi, 1",
            "mov rsi, {line}",
            "mov rdx, {len}",
            "syscall",
            "mov eax, {exit}",
            "xor edi, edi",
            "syscall",
            "2:",
            line = in(reg) LINE.as_ptr(),
            len = in(reg) LINE.len(),
            write = const libc::SYS_write,
            exit = const libc::SYS_exit,
            inlateout("rax") libc::SYS_vfork => result,
            out("rdi") _,
            out("rsi") _,
            out("rdx") _,
            out("rcx") _,
            out("r11") _,
            options(nostack),
        );
    }
    if result < 0 {
        // SAFETY: sets this thread's errno for last_error().
        unsafe { *libc::__errno_location() = (-result) as c_int };
        return -1;
    }
    result as i32
}

/// vfork then execve: the parent is suspended until the child's exec releases its memory.
pub fn vfork() -> i32 {
    let path = CString::new("/bin/true").expect("no NUL");
    let argv = [path.as_ptr(), std::ptr::null()];
    let envp = [std::ptr::null()];
    say!("parent: calling vfork(); the child will execve(\"/bin/true\")");
    let start = Instant::now();
    let child = vfork_exec(&path, &argv, &envp);
    let suspended = start.elapsed();
    if child < 0 {
        return failed("vfork");
    }
    // Printed after the reap, so these lines follow the child's in the trace.
    let status = match wait_for(child, 0) {
        Ok(status) => status,
        Err(e) => {
            eprintln!("scenario: waitpid: {e}");
            return 1;
        }
    };
    say!(
        "parent: vfork() returned {child} after {} µs: that long, I was suspended",
        suspended.as_micros()
    );
    say!("parent: reaped {child}: {}", describe_status(status));
    0
}

/// `vfork()` and, in the child, `execve` (or `_exit(127)` if it fails), with every argument
/// prepared by the caller. Kept out of line so the child shares no frame with code that runs
/// after vfork returns in the parent.
#[inline(never)]
fn vfork_exec(
    path: &CString,
    argv: &[*const libc::c_char; 2],
    envp: &[*const libc::c_char; 1],
) -> i32 {
    let (path, argv, envp) = (path.as_ptr(), argv.as_ptr(), envp.as_ptr());
    // SAFETY: glibc's vfork() keeps its return address in a register, so the child calling
    // execve and _exit below cannot corrupt the parent's return from vfork(); the child writes
    // nothing the parent reads, and leaves only through execve or _exit. libc marks vfork
    // deprecated because a caller that does more in the child can corrupt the parent
    // (rust-lang/libc#1596); this one does only that.
    #[allow(deprecated)]
    unsafe {
        let pid = libc::vfork();
        if pid == 0 {
            libc::execve(path, argv, envp);
            libc::_exit(127);
        }
        pid
    }
}

extern "C" fn clone_stack_child(_arg: *mut c_void) -> c_int {
    let local = 0u8;
    say!(
        "child:  work() runs in {}; a local variable lives at {:p}",
        getpid(),
        &raw const local
    );
    0
}

/// glibc's clone() wrapper with a 64 KiB stack the caller allocated.
pub fn clone_stack() -> i32 {
    let mut stack = ChildStack::new();
    let (base, top) = (stack.base(), stack.top());
    say!(
        "parent: allocated a {} KiB stack at {base:p}..{top:p}",
        ChildStack::SIZE / 1024
    );
    say!("parent: passes its top to clone(work, {top:p}, SIGCHLD, NULL)");
    let child = clone_with(
        &mut stack,
        clone_stack_child,
        libc::SIGCHLD,
        std::ptr::null_mut(),
    );
    if child < 0 {
        return failed("clone");
    }
    match wait_for(child, 0) {
        Ok(status) => say!(
            "parent: clone() returned {child}; reaped it: {}",
            describe_status(status)
        ),
        Err(e) => {
            eprintln!("scenario: waitpid: {e}");
            return 1;
        }
    }
    0
}

extern "C" fn pthread_main(_arg: *mut c_void) -> *mut c_void {
    say!(
        "pthread_create thread: getpid() = {}, gettid() = {}",
        getpid(),
        gettid()
    );
    std::ptr::null_mut()
}

/// Two threads: one from std::thread (Rust's 2 MiB default stack), one from pthread_create with
/// default attributes (glibc's default: RLIMIT_STACK).
pub fn threads() -> i32 {
    say!(
        "main thread:          getpid() = {}, gettid() = {}",
        getpid(),
        gettid()
    );
    let spawned = std::thread::spawn(|| {
        say!(
            "std::thread thread:   getpid() = {}, gettid() = {}",
            getpid(),
            gettid()
        );
    });
    if spawned.join().is_err() {
        eprintln!("scenario: the std::thread thread panicked");
        return 1;
    }
    let mut thread: libc::pthread_t = 0;
    // SAFETY: default attributes (NULL); the thread only formats and writes; joined below.
    let created = unsafe {
        libc::pthread_create(
            &mut thread,
            std::ptr::null(),
            pthread_main,
            std::ptr::null_mut(),
        )
    };
    if created != 0 {
        eprintln!("scenario: pthread_create failed: error {created}");
        return 1;
    }
    // SAFETY: `thread` was created above and is joined exactly once.
    unsafe { libc::pthread_join(thread, std::ptr::null_mut()) };
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid out-pointer.
    unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) };
    let soft = if limit.rlim_cur == libc::RLIM_INFINITY {
        "unlimited".to_string()
    } else {
        format!("{} KiB", limit.rlim_cur / 1024)
    };
    say!("main thread: joined both; RLIMIT_STACK is {soft}");
    0
}

/// std::process::Command: posix_spawn, which glibc makes with clone3(CLONE_VM|CLONE_VFORK).
pub fn spawn() -> i32 {
    say!("parent: Command::new(\"/bin/true\").status()");
    match std::process::Command::new("/bin/true").status() {
        Ok(status) => {
            say!("parent: /bin/true finished: {status}");
            0
        }
        Err(e) => {
            eprintln!("scenario: cannot run /bin/true: {e}");
            1
        }
    }
}

/// How long the zombie scenario's parent leaves its exited child unreaped.
const ZOMBIE_WAIT: Duration = Duration::from_millis(300);

/// A child that exits at once and a parent that reaps it only 300 ms later.
pub fn zombie() -> i32 {
    let Some(gate) = Gate::new() else {
        return failed("pipe");
    };
    // SAFETY: single-threaded; the child only formats, writes and _exits.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return failed("fork");
    }
    if child == 0 {
        say!("child:  {} exits now", getpid());
        // SAFETY: its exit closes the gate's write end, which wakes the parent.
        unsafe { libc::_exit(0) };
    }
    // The child's exit closes the last write end: read() then returns, and the child is (about to
    // be) a zombie.
    gate.close_write();
    gate.wait();
    std::thread::sleep(ZOMBIE_WAIT);
    let state = std::fs::read_to_string(format!("/proc/{child}/stat"))
        .ok()
        .and_then(|stat| {
            let after_name = stat.rsplit_once(')')?.1.trim_start().to_string();
            after_name.split_whitespace().next().map(str::to_string)
        })
        .unwrap_or_else(|| "?".into());
    say!(
        "parent: slept {} ms; /proc/{child}/stat says state {state}",
        ZOMBIE_WAIT.as_millis()
    );
    match wait_for(child, 0) {
        Ok(status) => say!(
            "parent: waitpid({child}) reaped it: {}",
            describe_status(status)
        ),
        Err(e) => {
            eprintln!("scenario: waitpid: {e}");
            return 1;
        }
    }
    0
}

/// A middle process exits before its own child; the top process, a subreaper, adopts and reaps
/// that orphan.
pub fn orphan() -> i32 {
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return failed("prctl(PR_SET_CHILD_SUBREAPER)");
    }
    let top = getpid();
    say!("top:    {top} is a child subreaper (prctl PR_SET_CHILD_SUBREAPER)");
    // The orphan waits on this gate until the top process has reaped its parent.
    let Some(gate) = Gate::new() else {
        return failed("pipe");
    };
    // SAFETY: single-threaded; both children only format, write, read the gate and _exit.
    let middle = unsafe { libc::fork() };
    if middle < 0 {
        return failed("fork");
    }
    if middle == 0 {
        // SAFETY: as above.
        let orphan = unsafe { libc::fork() };
        if orphan == 0 {
            gate.wait();
            say!(
                "orphan: {} now has getppid() = {} (the subreaper)",
                getpid(),
                getppid()
            );
            // SAFETY: see fork().
            unsafe { libc::_exit(0) };
        }
        say!(
            "middle: {} forked {orphan} and exits without waiting for it",
            getpid()
        );
        // SAFETY: see fork().
        unsafe { libc::_exit(0) };
    }
    if reap(middle).is_none() {
        return 1;
    }
    say!("top:    reaped {middle}, its own child; now letting the orphan go on");
    gate.open();
    // The orphan is this process's child now: any-child wait finds it.
    match wait_for(-1, 0).map(|_| ()) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("scenario: waitpid(-1): {e}");
            return 1;
        }
    }
    say!("top:    waitpid(-1) reaped the adopted orphan too");
    0
}

/// A child killed by SIGINT (its default action) and the wait status its parent reads.
pub fn signal_death() -> i32 {
    let Some(gate) = Gate::new() else {
        return failed("pipe");
    };
    // SAFETY: single-threaded; the child only sets its SIGINT action, writes and pauses.
    let child = unsafe { libc::fork() };
    if child < 0 {
        return failed("fork");
    }
    if child == 0 {
        // SAFETY: default action and an unblocked SIGINT, whatever the demo inherited (a shell
        // starts background jobs with SIGINT ignored).
        unsafe {
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        }
        say!("child:  {} waits in pause() for a signal", getpid());
        gate.open();
        loop {
            // SAFETY: pause has no arguments; SIGINT's default action ends the process.
            unsafe { libc::pause() };
        }
    }
    gate.wait();
    // SAFETY: sends a signal to our own child.
    if unsafe { libc::kill(child, libc::SIGINT) } != 0 {
        return failed("kill");
    }
    say!("parent: kill({child}, SIGINT), as Ctrl+C would");
    match wait_for(child, 0) {
        Ok(status) => say!(
            "parent: waitpid status {status:#06x}: {}",
            describe_status(status)
        ),
        Err(e) => {
            eprintln!("scenario: waitpid: {e}");
            return 1;
        }
    }
    0
}

static GOT_SIGUSR1: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigusr1(_signal: c_int) {
    GOT_SIGUSR1.store(true, Ordering::SeqCst);
}

extern "C" fn exit_signal_child(gate: *mut c_void) -> c_int {
    // SAFETY: `gate` points at the parent's Gate, which this child has its own copy of.
    let gate = unsafe { &*gate.cast::<Gate>() };
    gate.wait();
    say!(
        "child:  {} exits; the kernel will send SIGUSR1, not SIGCHLD",
        getpid()
    );
    0
}

/// clone() with SIGUSR1 as the exit signal: plain waitpid() does not see such a child.
pub fn exit_signal() -> i32 {
    // SIGUSR1's default action would kill the parent: count it instead.
    // SAFETY: installs a handler that only stores to an atomic.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigusr1 as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut());
    }
    let Some(gate) = Gate::new() else {
        return failed("pipe");
    };
    let mut stack = ChildStack::new();
    let child = clone_with(
        &mut stack,
        exit_signal_child,
        libc::SIGUSR1,
        (&raw const gate).cast_mut().cast(),
    );
    if child < 0 {
        return failed("clone");
    }
    say!("parent: clone(work, stack, SIGUSR1, …) returned {child}");
    let mut status = 0;
    // SAFETY: `status` is a valid out-pointer.
    let plain = unsafe { libc::waitpid(child, &mut status, 0) };
    let outcome = if plain < 0 {
        format!("-1 {:?}", nix::errno::Errno::last())
    } else {
        plain.to_string()
    };
    say!("parent: waitpid({child}, 0) = {outcome}: it only sees SIGCHLD children");
    gate.open();
    match wait_for(child, libc::__WCLONE) {
        Ok(status) => {
            say!(
                "parent: waitpid({child}, __WCLONE) reaped it: {}",
                describe_status(status)
            );
            let caught = GOT_SIGUSR1.load(Ordering::SeqCst);
            say!(
                "parent: my SIGUSR1 handler ran: {}",
                if caught { "yes" } else { "no" }
            );
        }
        Err(e) => {
            eprintln!("scenario: waitpid(__WCLONE): {e}");
            return 1;
        }
    }
    0
}

extern "C" fn namespace_child(_arg: *mut c_void) -> c_int {
    say!(
        "child:  inside the new PID namespace getpid() = {}, getppid() = {}",
        getpid(),
        getppid()
    );
    0
}

/// clone(CLONE_NEWPID): the child is pid 1 of a new PID namespace, where permitted.
pub fn namespace() -> i32 {
    let mut stack = ChildStack::new();
    say!(
        "parent: {} calls clone(work, stack, CLONE_NEWPID|SIGCHLD)",
        getpid()
    );
    let child = clone_with(
        &mut stack,
        namespace_child,
        libc::CLONE_NEWPID | libc::SIGCHLD,
        std::ptr::null_mut(),
    );
    if child < 0 {
        let (why, code) = (last_error(), errno());
        say!("parent: clone failed: {why}");
        if code == libc::EPERM {
            say!("parent: a new PID namespace needs CAP_SYS_ADMIN (root, or `unshare -Ur`)");
        }
        say!("parent: moving on: nothing to show here");
        return 0;
    }
    match wait_for(child, 0) {
        Ok(status) => {
            say!("parent: clone() returned {child}: the same child, seen from outside");
            say!("parent: reaped it: {}", describe_status(status));
        }
        Err(e) => {
            eprintln!("scenario: waitpid: {e}");
            return 1;
        }
    }
    0
}

/// Writes `PAGES` pages of the calling thread's stack, one byte each, so the pages become its
/// own. (Rust probes every page of a frame this large, so the frame is exactly that size.)
#[inline(never)]
fn touch_pages<const PAGES: usize>() {
    let mut buffer = std::mem::MaybeUninit::<[[u8; 4096]; PAGES]>::uninit();
    let base = buffer.as_mut_ptr().cast::<u8>();
    for page in 0..PAGES {
        // SAFETY: inside `buffer`; volatile so the writes are made.
        unsafe { std::ptr::write_volatile(base.add(page * 4096), 1) };
    }
    std::hint::black_box(&buffer);
}

/// Writes 2, 3 or 5 pages of the calling thread's stack.
fn touch_stack(pages: usize) {
    match pages {
        2 => touch_pages::<2>(),
        3 => touch_pages::<3>(),
        _ => touch_pages::<5>(),
    }
}

extern "C" fn stack_thread_main(pages: *mut c_void) -> *mut c_void {
    touch_stack(pages as usize);
    say!(
        "thread {}: wrote {} pages ({} KiB) of my stack",
        gettid(),
        pages as usize,
        pages as usize * 4
    );
    std::ptr::null_mut()
}

extern "C" fn stack_clone_main(pages: *mut c_void) -> c_int {
    touch_stack(pages as usize);
    say!(
        "child {}: running on the static array; wrote {} pages of it",
        getpid(),
        pages as usize
    );
    0
}

/// The seeds' stack: a static 64 KiB array, in the program's .bss.
static mut BSS_STACK: [u128; 64 * 1024 / 16] = [0; 64 * 1024 / 16];

/// Runs a thread made by pthread_create with a stack of `size` bytes (0: glibc's default) that
/// writes `pages` pages of it; joins it.
fn stack_thread(size: usize, pages: usize) -> Result<(), String> {
    // SAFETY: attr is initialised before use and destroyed after; the thread only writes its
    // own stack and a line, and is joined here.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        libc::pthread_attr_init(&mut attr);
        if size > 0 && libc::pthread_attr_setstacksize(&mut attr, size) != 0 {
            return Err("pthread_attr_setstacksize".into());
        }
        let mut thread: libc::pthread_t = 0;
        let created =
            libc::pthread_create(&mut thread, &attr, stack_thread_main, pages as *mut c_void);
        libc::pthread_attr_destroy(&mut attr);
        if created != 0 {
            return Err(format!("pthread_create: error {created}"));
        }
        libc::pthread_join(thread, std::ptr::null_mut());
    }
    Ok(())
}

/// Three stacks: glibc's default thread stack (RLIMIT_STACK), a 64 KiB one from
/// pthread_attr_setstacksize, and the seeds' clone() on a static 64 KiB array.
pub fn stacks() -> i32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid out-pointer.
    unsafe { libc::getrlimit(libc::RLIMIT_STACK, &mut limit) };
    say!(
        "main: RLIMIT_STACK is {} KiB: glibc's default thread stack size",
        limit.rlim_cur / 1024
    );
    say!("main: pthread_create() with default attributes");
    if let Err(e) = stack_thread(0, 3) {
        eprintln!("scenario: {e}");
        return 1;
    }
    say!("main: pthread_create() after pthread_attr_setstacksize(64 KiB)");
    if let Err(e) = stack_thread(64 * 1024, 5) {
        eprintln!("scenario: {e}");
        return 1;
    }
    say!("main: clone(fn, the end of a static 64 KiB array, SIGCHLD)");
    // SAFETY: the child (a process of its own: no CLONE_VM) runs on its copy of the array and
    // only writes it and a line; the top is one past the array's end, 16-byte aligned.
    let child = unsafe {
        let top = (&raw mut BSS_STACK).cast::<u8>().add(64 * 1024);
        libc::clone(
            stack_clone_main,
            top.cast(),
            libc::SIGCHLD,
            2 as *mut c_void,
        )
    };
    if child < 0 {
        return failed("clone");
    }
    if reap(child).is_none() {
        return 1;
    }
    say!("main: reaped {child}");
    0
}

/// Forks under a low RLIMIT_NPROC (as nobody when run as root, since the limit does not bind
/// root) until a fork fails with EAGAIN; then lets the children go and reaps them.
pub fn limits() -> i32 {
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let limit: libc::rlim_t = if root { 4 } else { 1 };
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: a valid rlimit for our own process.
    if unsafe { libc::setrlimit(libc::RLIMIT_NPROC, &rlimit) } != 0 {
        return failed("setrlimit(RLIMIT_NPROC)");
    }
    say!("parent: RLIMIT_NPROC is now {limit}");
    if root {
        // SAFETY: dropping to nobody (65534); the group first, while we still may.
        if unsafe { libc::setgid(65534) } != 0 || unsafe { libc::setuid(65534) } != 0 {
            return failed("setuid(nobody)");
        }
        say!("parent: now running as nobody: RLIMIT_NPROC does not bind root");
    }
    let Some(gate) = Gate::new() else {
        return failed("pipe");
    };
    let mut children = Vec::new();
    for attempt in 1..=64 {
        // SAFETY: single-threaded; the child only waits on the gate and _exits.
        let child = unsafe { libc::fork() };
        if child == 0 {
            gate.close_write();
            gate.wait();
            // SAFETY: see fork().
            unsafe { libc::_exit(0) };
        }
        if child < 0 {
            say!("parent: fork #{attempt} failed: {}", last_error());
            break;
        }
        children.push(child);
    }
    say!(
        "parent: {} forks succeeded; letting them go",
        children.len()
    );
    gate.close_write();
    for child in children {
        if reap(child).is_none() {
            return 1;
        }
    }
    0
}

/// This process's host name (its UTS namespace's).
fn hostname() -> String {
    let mut buf = [0u8; 65];
    // SAFETY: the buffer is writable for its length, and one byte stays NUL.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) } != 0 {
        return format!("({})", last_error());
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// A container in two calls: unshare() new UTS and PID namespaces, name the host, fork the
/// namespace's init. Where not permitted, says why.
pub fn container() -> i32 {
    say!(
        "parent: {} on host {:?} calls unshare(CLONE_NEWUTS|CLONE_NEWPID)",
        getpid(),
        hostname()
    );
    if let Err(e) = nix::sched::unshare(
        nix::sched::CloneFlags::CLONE_NEWUTS | nix::sched::CloneFlags::CLONE_NEWPID,
    ) {
        say!("parent: unshare failed: {e:?} ({})", e.desc());
        if e == nix::errno::Errno::EPERM {
            say!("parent: new namespaces need CAP_SYS_ADMIN (root, or `unshare -Ur`)");
        }
        say!("parent: moving on: nothing to show here");
        return 0;
    }
    let name = b"container";
    // SAFETY: the name is valid for its length.
    if unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) } != 0 {
        return failed("sethostname");
    }
    say!(
        "parent: still pid {}, host {:?}; its next child is pid 1 inside",
        getpid(),
        hostname()
    );
    let child = unsafe { libc::fork() };
    if child == 0 {
        say!(
            "child:  getpid() = {}, getppid() = {}, host {:?}: the container's init",
            getpid(),
            getppid(),
            hostname()
        );
        unsafe { libc::_exit(0) };
    }
    if child < 0 {
        return failed("fork");
    }
    match wait_for(child, 0) {
        Ok(status) => say!("parent: reaped {child}: {}", describe_status(status)),
        Err(e) => {
            eprintln!("scenario: waitpid: {e}");
            return 1;
        }
    }
    0
}
