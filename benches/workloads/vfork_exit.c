/* vfork + _exit loop: N children that share the parent's memory and leave at once. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    /* static: the vfork child runs on this stack frame, so keep the loop state out of it */
    static long n, i;
    n = argc > 1 ? atol(argv[1]) : 1000;
    for (i = 0; i < n; i++) {
        pid_t pid = vfork();
        if (pid < 0) { perror("vfork"); return 1; }
        if (pid == 0) _exit(0);
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) { perror("waitpid"); return 1; }
    }
    return 0;
}
