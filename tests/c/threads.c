/* 8 threads create, query and free datasets and provoke errors concurrently; each thread's
 * last-error message is its own (thread-local), never another thread's. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"

#define THREADS 8

static int iterations = 300; /* argv[1] overrides (fewer under valgrind) */

typedef struct {
    int id;
    int failures;
} Job;

static void *work(void *arg) {
    Job *job = (Job *)arg;
    double x[8 * 3];
    double y[8];
    char expected[64];
    for (int it = 0; it < iterations; it++) {
        size_t n = (size_t)(job->id % 8) + 1; /* each thread its own row count */
        for (size_t i = 0; i < n * 3; i++) x[i] = (double)(job->id * 1000 + it) + (double)i;
        for (size_t i = 0; i < n; i++) y[i] = (double)i;

        AmlisDataset *d = NULL;
        if (amlis_dataset_from_dense(x, n, 3, y, n, &d) != AMLIS_OK || d == NULL) {
            job->failures++;
            continue;
        }
        size_t rows = 0, cols = 0;
        if (amlis_dataset_shape(d, &rows, &cols) != AMLIS_OK || rows != n || cols != 3)
            job->failures++;

        /* A failure whose message is specific to this thread: y_len = 100 + id. */
        AmlisDataset *bad = NULL;
        size_t wrong = 100 + (size_t)job->id;
        if (amlis_dataset_from_dense(x, n, 3, y, wrong, &bad) != AMLIS_SHAPE_MISMATCH || bad)
            job->failures++;
        snprintf(expected, sizeof expected, "y_len = %zu", wrong);
        const char *msg = amlis_last_error_message();
        if (strstr(msg, expected) == NULL) {
            fprintf(stderr, "thread %d: message \"%s\" is not mine (%s)\n", job->id, msg,
                    expected);
            job->failures++;
        }
        /* A success on this thread clears only this thread's message. */
        if (amlis_dataset_shape(d, &rows, &cols) != AMLIS_OK ||
            amlis_last_error_message()[0] != '\0')
            job->failures++;
        amlis_dataset_free(d);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) iterations = atoi(argv[1]);
    CHECK(iterations > 0);
    pthread_t threads[THREADS];
    Job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t].id = t;
        jobs[t].failures = 0;
        CHECK(pthread_create(&threads[t], NULL, work, &jobs[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        if (jobs[t].failures) fprintf(stderr, "thread %d: %d failures\n", t, jobs[t].failures);
        CHECK(jobs[t].failures == 0);
    }
    return check_report("threads");
}
