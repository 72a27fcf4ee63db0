/* Bandits from C: NULL arguments, wrong sizes, corrupt buffers, save / load resuming
 * bit-identically, and 8 threads choosing and updating on one bandit at once.
 *
 *   bandit <scratch dir> [<updates per thread>]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

#define K 4
#define D 3
#define THREADS 8

static int per_thread = 400;
static AmlisBandit *shared;

static void context_of(uint64_t t, double *x) {
    for (int j = 0; j < D; j++) x[j] = (double)((t * 31 + (uint64_t)j * 17) % 23) / 11.0 - 1.0;
}

static double reward_of(uint64_t t, size_t a) { return ((t + a) % 3 == 0) ? 1.0 : 0.0; }

/* Runs `steps` decisions and updates; returns a checksum of actions and pmf bits. */
static uint64_t run(AmlisBandit *b, uint64_t from, uint64_t steps) {
    uint64_t sum = 1469598103934665603ULL;
    for (uint64_t t = from; t < from + steps; t++) {
        double x[D], pmf[K];
        size_t a = 99;
        context_of(t, x);
        if (amlis_bandit_choose(b, x, D, t, &a, pmf, K) != AMLIS_OK) return 0;
        if (amlis_bandit_update(b, x, D, a, reward_of(t, a), pmf[a]) != AMLIS_OK) return 0;
        uint64_t bits;
        for (int k = 0; k < K; k++) {
            memcpy(&bits, &pmf[k], sizeof bits);
            sum = (sum ^ bits) * 1099511628211ULL;
        }
        sum = (sum ^ a) * 1099511628211ULL;
    }
    return sum;
}

typedef struct {
    int id;
    int failures;
} Job;

static void *work(void *arg) {
    Job *job = (Job *)arg;
    for (int i = 0; i < per_thread; i++) {
        uint64_t t = (uint64_t)job->id * 100000 + (uint64_t)i;
        double x[D], pmf[K], pmf2[K];
        size_t a = 99, a2 = 98;
        context_of(t, x);
        if (amlis_bandit_choose(shared, x, D, t, &a, pmf, K) != AMLIS_OK || a >= K) {
            job->failures++;
            continue;
        }
        double total = 0;
        for (int k = 0; k < K; k++) total += pmf[k];
        if (total < 1 - 1e-9 || total > 1 + 1e-9 || pmf[a] <= 0) job->failures++;
        /* A decision of another event, excluding action 0. */
        size_t excluded[1] = {0};
        if (amlis_bandit_choose_excluding(shared, x, D, t + 7, excluded, 1, &a2, pmf2, K) !=
                AMLIS_OK ||
            a2 == 0 || pmf2[0] != 0.0)
            job->failures++;
        if (amlis_bandit_update(shared, x, D, a, reward_of(t, a), pmf[a]) != AMLIS_OK)
            job->failures++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    if (argc > 2) per_thread = atoi(argv[2]);
    const char *config = "{\"policy\": {\"type\": \"lin_ucb\", \"alpha\": 0.5}, \"random_state\": 3}";
    double x[D] = {0.1, 0.2, 0.3}, pmf[K];
    size_t a = 0;

    /* NULLs and bad configs. */
    AmlisBandit *b = NULL;
    CHECK_STATUS(amlis_bandit_new(NULL, K, D, &b), AMLIS_NULL_ARGUMENT, "config_json");
    CHECK_STATUS(amlis_bandit_new(config, K, D, NULL), AMLIS_NULL_ARGUMENT, "out");
    CHECK_STATUS(amlis_bandit_new("{\"policy\": {\"type\": \"lin_ucb\", \"alpa\": 1}}", K, D, &b),
                 AMLIS_CONFIG_ERROR, "alpa");
    CHECK_STATUS(amlis_bandit_new("{\"policy\": {\"type\": \"nope\"}}", K, D, &b),
                 AMLIS_CONFIG_ERROR, "lin_ucb");
    CHECK_STATUS(amlis_bandit_new("{\"policy\": {\"type\": \"lin_ucb\", \"l2_lambda\": 0}}", K, D,
                                  &b),
                 AMLIS_CONFIG_ERROR, "l2_lambda");
    CHECK_STATUS(amlis_bandit_new(config, 0, D, &b), AMLIS_INVALID_ARGUMENT, "n_actions");
    CHECK(b == NULL);
    CHECK_STATUS(amlis_bandit_new(config, K, D, &b), AMLIS_OK, "");

    CHECK_STATUS(amlis_bandit_choose(NULL, x, D, 1, &a, pmf, K), AMLIS_NULL_ARGUMENT, "b");
    CHECK_STATUS(amlis_bandit_choose(b, NULL, D, 1, &a, pmf, K), AMLIS_NULL_ARGUMENT, "context");
    CHECK_STATUS(amlis_bandit_choose(b, x, D, 1, NULL, pmf, K), AMLIS_NULL_ARGUMENT, "action");
    CHECK_STATUS(amlis_bandit_choose(b, x, D, 1, &a, NULL, K), AMLIS_NULL_ARGUMENT, "pmf");
    /* Wrong sizes; outputs untouched on failure. */
    a = 77;
    pmf[0] = -5;
    CHECK_STATUS(amlis_bandit_choose(b, x, D - 1, 1, &a, pmf, K), AMLIS_SHAPE_MISMATCH, "context");
    CHECK_STATUS(amlis_bandit_choose(b, x, D, 1, &a, pmf, K - 1), AMLIS_SHAPE_MISMATCH, "pmf_len");
    CHECK(a == 77 && pmf[0] == -5);
    size_t all[K] = {0, 1, 2, 3}, out_of_range[1] = {K};
    CHECK_STATUS(amlis_bandit_choose_excluding(b, x, D, 1, all, K, &a, pmf, K),
                 AMLIS_INVALID_ARGUMENT, "excluded");
    CHECK_STATUS(amlis_bandit_choose_excluding(b, x, D, 1, out_of_range, 1, &a, pmf, K),
                 AMLIS_INVALID_ARGUMENT, "excluded");
    CHECK_STATUS(amlis_bandit_choose_excluding(b, x, D, 1, NULL, 1, &a, pmf, K),
                 AMLIS_NULL_ARGUMENT, "excluded");
    CHECK_STATUS(amlis_bandit_update(NULL, x, D, 0, 1.0, 0.5), AMLIS_NULL_ARGUMENT, "b");
    CHECK_STATUS(amlis_bandit_update(b, NULL, D, 0, 1.0, 0.5), AMLIS_NULL_ARGUMENT, "context");
    CHECK_STATUS(amlis_bandit_update(b, x, D + 1, 0, 1.0, 0.5), AMLIS_SHAPE_MISMATCH, "context");
    CHECK_STATUS(amlis_bandit_update(b, x, D, K, 1.0, 0.5), AMLIS_INVALID_ARGUMENT, "action");
    CHECK_STATUS(amlis_bandit_update(b, x, D, 0, 1.0, 0.0), AMLIS_INVALID_ARGUMENT, "probability");
    CHECK_STATUS(amlis_bandit_update(b, x, D, 0, 0.0 / 0.0, 0.5), AMLIS_INVALID_ARGUMENT,
                 "reward");

    /* Learn, save, load: the copies resume bit-identically. */
    CHECK(run(b, 0, 200) != 0);
    size_t need = 0;
    CHECK_STATUS(amlis_bandit_save_buffer(b, NULL, 0, &need), AMLIS_OK, "");
    CHECK(need > 28);
    unsigned char *buf = malloc(need);
    size_t got = 0;
    CHECK_STATUS(amlis_bandit_save_buffer(b, buf, need - 1, &got), AMLIS_BUFFER_TOO_SMALL, "");
    CHECK_STATUS(amlis_bandit_save_buffer(NULL, buf, need, &got), AMLIS_NULL_ARGUMENT, "b");
    CHECK_STATUS(amlis_bandit_save_buffer(b, buf, need, &got), AMLIS_OK, "");
    CHECK(got == need);
    AmlisBandit *copy = NULL, *from_file = NULL;
    CHECK_STATUS(amlis_bandit_load_buffer(buf, got, &copy), AMLIS_OK, "");
    char path[1024];
    snprintf(path, sizeof path, "%s/bandit-c.amlis", dir);
    CHECK_STATUS(amlis_bandit_save_file(b, path), AMLIS_OK, "");
    CHECK_STATUS(amlis_bandit_load_file(path, &from_file), AMLIS_OK, "");
    snprintf(path, sizeof path, "%s/bandit-c.json", dir);
    CHECK_STATUS(amlis_bandit_save_file(b, path), AMLIS_OK, "");
    AmlisBandit *from_json = NULL;
    CHECK_STATUS(amlis_bandit_load_file(path, &from_json), AMLIS_OK, "");
    uint64_t r0 = run(b, 200, 150);
    CHECK(r0 != 0);
    CHECK(run(copy, 200, 150) == r0);
    CHECK(run(from_file, 200, 150) == r0);
    CHECK(run(from_json, 200, 150) == r0);

    /* Corrupt and truncated buffers, bad paths. */
    AmlisBandit *bad = NULL;
    for (size_t cut = 0; cut < got; cut += got / 40 + 1)
        CHECK_STATUS(amlis_bandit_load_buffer(buf, cut, &bad), AMLIS_MODEL_CORRUPT, "");
    for (size_t i = 0; i < got; i += got / 60 + 1) {
        buf[i] ^= 0x10;
        AmlisStatus st = amlis_bandit_load_buffer(buf, got, &bad);
        CHECK(st == AMLIS_MODEL_CORRUPT || st == AMLIS_MODEL_VERSION);
        buf[i] ^= 0x10;
    }
    CHECK(bad == NULL);
    CHECK_STATUS(amlis_bandit_load_buffer(NULL, got, &bad), AMLIS_NULL_ARGUMENT, "buf");
    CHECK_STATUS(amlis_bandit_load_file("/nonexistent/bandit.amlis", &bad), AMLIS_IO_ERROR,
                 "nonexistent");
    CHECK_STATUS(amlis_bandit_save_file(b, "/nonexistent/dir/b.amlis"), AMLIS_IO_ERROR,
                 "nonexistent");
    free(buf);

    /* A context-free policy takes a NULL context of 0 features. */
    AmlisBandit *free_ctx = NULL;
    CHECK_STATUS(amlis_bandit_new("{\"policy\": {\"type\": \"thompson_sampling\"}}", 3, 0,
                                  &free_ctx),
                 AMLIS_OK, "");
    double pmf3[3];
    CHECK_STATUS(amlis_bandit_choose(free_ctx, NULL, 0, 5, &a, pmf3, 3), AMLIS_OK, "");
    CHECK_STATUS(amlis_bandit_update(free_ctx, NULL, 0, a, 1.0, pmf3[a]), AMLIS_OK, "");
    CHECK_STATUS(amlis_bandit_update(free_ctx, NULL, 0, a, 2.0, pmf3[a]), AMLIS_INVALID_ARGUMENT,
                 "reward");

    /* 8 threads choosing and updating on one bandit at once. */
    shared = copy;
    pthread_t threads[THREADS];
    Job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        jobs[i].id = i;
        jobs[i].failures = 0;
        pthread_create(&threads[i], NULL, work, &jobs[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(jobs[i].failures == 0);
    }
    /* Afterwards the same event still gives the same decision twice. */
    double p1[K], p2[K];
    size_t a1 = 0, a2 = 0;
    CHECK_STATUS(amlis_bandit_choose(shared, x, D, 12345, &a1, p1, K), AMLIS_OK, "");
    CHECK_STATUS(amlis_bandit_choose(shared, x, D, 12345, &a2, p2, K), AMLIS_OK, "");
    CHECK(a1 == a2 && memcmp(p1, p2, sizeof p1) == 0);

    amlis_bandit_free(b);
    amlis_bandit_free(copy);
    amlis_bandit_free(from_file);
    amlis_bandit_free(from_json);
    amlis_bandit_free(free_ctx);
    amlis_bandit_free(NULL);
    return check_report("bandit_calls");
}
