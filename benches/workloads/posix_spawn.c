/* posix_spawn loop: N runs of /bin/true (glibc: clone3 with CLONE_VM|CLONE_VFORK). */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 100;
    char *child_argv[] = {"true", NULL};
    for (long i = 0; i < n; i++) {
        pid_t pid;
        int err = posix_spawn(&pid, "/bin/true", NULL, NULL, child_argv, environ);
        if (err) { fprintf(stderr, "posix_spawn: %d\n", err); return 1; }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
            fprintf(stderr, "child failed\n");
            return 1;
        }
    }
    return 0;
}
