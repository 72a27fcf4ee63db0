/* LinUCB choose + update latency from C: 10 actions x 50 features, one thread, the calls a C
 * service makes per event (amlis_bandit_choose, then amlis_bandit_update with the reward).
 * Prints the mean wall time and the mean CPU time of this thread per event (the CPU time is
 * the figure to read on a loaded machine: it does not count the time other processes run).
 *
 *   cargo build --release   (or any build of libamlis.so)
 *   cc -O2 -std=c11 -Iinclude benches/compare/bandit_latency.c -Ltarget/release -lamlis \
 *      -Wl,-rpath,"$PWD/target/release" -o bandit_latency
 *   ./bandit_latency [events]
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "amlis.h"

#define K 10
#define D 50

static double seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    long events = argc > 1 ? atol(argv[1]) : 200000;
    static double xs[1024][D];
    for (int i = 0; i < 1024; i++)
        for (int j = 0; j < D; j++) xs[i][j] = (double)((i * 31 + j * 17) % 23) / 11.0 - 1.0;
    AmlisBandit *b = NULL;
    if (amlis_bandit_new("{\"policy\": {\"type\": \"lin_ucb\"}}", K, D, &b) != AMLIS_OK) {
        fprintf(stderr, "amlis_bandit_new: %s\n", amlis_last_error_message());
        return 1;
    }
    double pmf[K];
    /* Warm up, then time. */
    for (long pass = 0; pass < 2; pass++) {
        long n = pass == 0 ? events / 10 : events;
        double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_THREAD_CPUTIME_ID);
        for (long t = 0; t < n; t++) {
            const double *x = xs[t % 1024];
            size_t a = 0;
            if (amlis_bandit_choose(b, x, D, (uint64_t)t, &a, pmf, K) != AMLIS_OK ||
                amlis_bandit_update(b, x, D, a, a == (size_t)(t % K) ? 1.0 : 0.0, pmf[a]) !=
                    AMLIS_OK) {
                fprintf(stderr, "call failed: %s\n", amlis_last_error_message());
                return 1;
            }
        }
        wall = seconds(CLOCK_MONOTONIC) - wall;
        cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - cpu;
        if (pass == 1)
            printf("lin_ucb %dx%d choose+update: %.3f us wall, %.3f us CPU per event (%ld events)\n",
                   K, D, 1e6 * wall / (double)n, 1e6 * cpu / (double)n, n);
    }
    amlis_bandit_free(b);
    return 0;
}
