/* N getppid() calls and no process creation: what a tracer costs a program that
 * creates nothing (a seccomp filter, for one, runs on every syscall). The raw
 * syscall() is used so that no libc caching can skip the kernel. */
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 30000;
    long sum = 0;
    for (long i = 0; i < n; i++) sum += syscall(SYS_getppid);
    return sum == 0; /* use the result; exits 0 as getppid() > 0 */
}
