/* pthread_create + join: N threads one after the other, never two alive at once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *run(void *arg) { return arg; }

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    for (long i = 0; i < n; i++) {
        pthread_t t;
        int err = pthread_create(&t, NULL, run, NULL);
        if (err) { fprintf(stderr, "pthread_create: %d\n", err); return 1; }
        pthread_join(t, NULL);
    }
    return 0;
}
