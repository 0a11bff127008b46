/* THREADS threads alive at once, ROUNDS times: all are created, wait at a barrier
 * until the last one exists, then all return and are joined. Small stacks so that
 * thousands fit comfortably. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_barrier_t barrier;

static void *run(void *arg) {
    pthread_barrier_wait(&barrier);
    return arg;
}

int main(int argc, char **argv) {
    long threads = argc > 1 ? atol(argv[1]) : 1000;
    long rounds = argc > 2 ? atol(argv[2]) : 1;
    pthread_t *t = calloc(threads, sizeof *t);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (long r = 0; r < rounds; r++) {
        pthread_barrier_init(&barrier, NULL, threads + 1);
        for (long i = 0; i < threads; i++) {
            int err = pthread_create(&t[i], &attr, run, NULL);
            if (err) { fprintf(stderr, "pthread_create #%ld: %d\n", i, err); return 1; }
        }
        pthread_barrier_wait(&barrier);
        for (long i = 0; i < threads; i++) pthread_join(t[i], NULL);
        pthread_barrier_destroy(&barrier);
    }
    return 0;
}
