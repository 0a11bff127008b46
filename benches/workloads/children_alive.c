/* N child processes alive at once, all of one parent: a wide, flat tree. Each child blocks
 * reading a pipe; once the last one exists the parent closes its end, every read sees EOF,
 * the children _exit and the parent reaps them all. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    int pipefd[2];
    if (pipe(pipefd) != 0) { perror("pipe"); return 1; }
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            char c;
            close(pipefd[1]);
            /* Returns 0 (EOF) once no write end is left open anywhere. */
            while (read(pipefd[0], &c, 1) > 0) {}
            _exit(0);
        }
    }
    close(pipefd[1]);
    for (long i = 0; i < n; i++) {
        int status;
        if (wait(&status) < 0 || !WIFEXITED(status)) { perror("wait"); return 1; }
    }
    return 0;
}
