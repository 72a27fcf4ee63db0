/* Bandits from C: NULL arguments, wrong sizes, corrupt buffers, save / load resuming
 * bit-identically, 8 threads choosing and updating on one bandit at once, learning from a
 * batch of logged rows (amlis_bandit_partial_fit, also fitting preprocessing steps), and a
 * greedy policy learned from logs in Rust served through the same handle (the golden file
 * tests/golden/v1.3/greedy_policy.amlis, read from the crate root).
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

/* The binary image of a bandit (malloc'ed; its length in *len), or NULL. */
static unsigned char *image_of(const AmlisBandit *b, size_t *len) {
    size_t need = 0;
    if (amlis_bandit_save_buffer(b, NULL, 0, &need) != AMLIS_OK) return NULL;
    unsigned char *buf = malloc(need);
    if (buf && amlis_bandit_save_buffer(b, buf, need, len) != AMLIS_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Whether two bandits hold the same bytes. */
static int same_image(const AmlisBandit *a, const AmlisBandit *b) {
    size_t la = 0, lb = 0;
    unsigned char *ia = image_of(a, &la), *ib = image_of(b, &lb);
    int same = ia && ib && la == lb && memcmp(ia, ib, la) == 0;
    free(ia);
    free(ib);
    return same;
}

#define LOGGED 60

/* Batch learning from logged rows: the same state as row-by-row updates; bad rows are
 * errors that change nothing; preprocessing steps are fitted on the first logs. */
static void check_partial_fit(const char *config) {
    double xs[LOGGED * D], rewards[LOGGED], probs[LOGGED];
    size_t actions[LOGGED];
    for (uint64_t t = 0; t < LOGGED; t++) {
        context_of(t, &xs[t * D]);
        actions[t] = (size_t)((t * 7 + 1) % K);
        rewards[t] = reward_of(t, actions[t]);
        probs[t] = 1.0 / K;
    }
    AmlisBandit *batch = NULL, *rows = NULL;
    CHECK_STATUS(amlis_bandit_new(config, K, D, &batch), AMLIS_OK, "");
    CHECK_STATUS(amlis_bandit_new(config, K, D, &rows), AMLIS_OK, "");
    for (size_t i = 0; i < LOGGED; i++)
        CHECK_STATUS(amlis_bandit_update(rows, &xs[i * D], D, actions[i], rewards[i], probs[i]),
                     AMLIS_OK, "");

    CHECK_STATUS(amlis_bandit_partial_fit(NULL, xs, LOGGED, D, actions, rewards, probs),
                 AMLIS_NULL_ARGUMENT, "b");
    CHECK_STATUS(amlis_bandit_partial_fit(batch, NULL, LOGGED, D, actions, rewards, probs),
                 AMLIS_NULL_ARGUMENT, "context");
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, LOGGED, D, NULL, rewards, probs),
                 AMLIS_NULL_ARGUMENT, "actions");
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, LOGGED, D, actions, NULL, probs),
                 AMLIS_NULL_ARGUMENT, "rewards");
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, LOGGED, D, actions, rewards, NULL),
                 AMLIS_NULL_ARGUMENT, "probabilities");
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, 0, D, actions, rewards, probs),
                 AMLIS_INVALID_ARGUMENT, "n_rows");
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, SIZE_MAX, D, actions, rewards, probs),
                 AMLIS_INVALID_ARGUMENT, "overflows");
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, LOGGED, D - 1, actions, rewards, probs),
                 AMLIS_SHAPE_MISMATCH, "features");
    /* One bad row anywhere: nothing is learned. */
    AmlisBandit *fresh = NULL;
    CHECK_STATUS(amlis_bandit_new(config, K, D, &fresh), AMLIS_OK, "");
    actions[LOGGED - 1] = K;
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, LOGGED, D, actions, rewards, probs),
                 AMLIS_INVALID_ARGUMENT, "action");
    actions[LOGGED - 1] = (size_t)(((LOGGED - 1) * 7 + 1) % K);
    probs[3] = 0.0;
    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, LOGGED, D, actions, rewards, probs),
                 AMLIS_INVALID_ARGUMENT, "probability");
    probs[3] = 1.0 / K;
    CHECK(same_image(batch, fresh));

    CHECK_STATUS(amlis_bandit_partial_fit(batch, xs, LOGGED, D, actions, rewards, probs),
                 AMLIS_OK, "");
    CHECK(same_image(batch, rows));
    CHECK(run(batch, 500, 50) == run(rows, 500, 50));
    amlis_bandit_free(batch);
    amlis_bandit_free(rows);
    amlis_bandit_free(fresh);

    /* With preprocessing steps: no decision before logs fit them. */
    AmlisBandit *scaled = NULL;
    char scaled_config[512];
    snprintf(scaled_config, sizeof scaled_config,
             "{\"policy\": {\"type\": \"lin_ucb\"}, \"preprocess\": [{\"type\": "
             "\"standard_scaler\"}], \"random_state\": 5}");
    double pmf[K];
    size_t a = 0;
    CHECK_STATUS(amlis_bandit_new(scaled_config, K, D, &scaled), AMLIS_OK, "");
    CHECK_STATUS(amlis_bandit_choose(scaled, xs, D, 1, &a, pmf, K), AMLIS_INVALID_ARGUMENT,
                 "amlis_bandit_partial_fit");
    CHECK_STATUS(amlis_bandit_update(scaled, xs, D, 0, 1.0, 0.5), AMLIS_INVALID_ARGUMENT,
                 "not fitted");
    CHECK_STATUS(amlis_bandit_partial_fit(scaled, xs, LOGGED, D, actions, rewards, probs),
                 AMLIS_OK, "");
    CHECK(run(scaled, 500, 50) != 0);
    amlis_bandit_free(scaled);
}

/* A greedy policy learned from logs in Rust (model file kind 3) decides through the bandit
 * handle (its recorded actions, all the mass on one action) but does not learn. */
static void check_greedy_policy(void) {
    const char *path = "tests/golden/v1.3/greedy_policy.amlis";
    static const size_t expected[10] = {1, 2, 3, 1, 2, 3, 1, 2, 3, 1};
    AmlisBandit *g = NULL, *g2 = NULL;
    CHECK_STATUS(amlis_bandit_load_file(path, &g), AMLIS_OK, "");
    if (!g) return;
    double x[D], pmf[K];
    for (uint64_t t = 0; t < 10; t++) {
        size_t a = 99;
        context_of(t, x);
        CHECK_STATUS(amlis_bandit_choose(g, x, D, t + 1000, &a, pmf, K), AMLIS_OK, "");
        CHECK(a == expected[t]);
        for (size_t k = 0; k < K; k++) CHECK(pmf[k] == (k == a ? 1.0 : 0.0));
        /* Excluding it moves all the mass to another action. */
        size_t excluded[1] = {a}, other = 99;
        CHECK_STATUS(amlis_bandit_choose_excluding(g, x, D, t, excluded, 1, &other, pmf, K),
                     AMLIS_OK, "");
        CHECK(other != a && other < K && pmf[other] == 1.0 && pmf[a] == 0.0);
    }
    CHECK_STATUS(amlis_bandit_choose(g, x, D - 1, 0, &(size_t){0}, pmf, K), AMLIS_SHAPE_MISMATCH,
                 "context");
    CHECK_STATUS(amlis_bandit_update(g, x, D, 0, 1.0, 0.5), AMLIS_UNSUPPORTED, "greedy policy");
    size_t zero = 0;
    double one = 1.0, half = 0.5;
    CHECK_STATUS(amlis_bandit_partial_fit(g, x, 1, D, &zero, &one, &half), AMLIS_UNSUPPORTED,
                 "greedy policy");
    /* It saves back as the same kind-3 image and loads from a buffer. */
    size_t len = 0;
    unsigned char *img = image_of(g, &len);
    CHECK(img != NULL);
    if (img) {
        CHECK_STATUS(amlis_bandit_load_buffer(img, len, &g2), AMLIS_OK, "");
        CHECK(same_image(g, g2));
        size_t a1 = 0, a2 = 1;
        context_of(3, x);
        CHECK_STATUS(amlis_bandit_choose(g2, x, D, 3, &a1, pmf, K), AMLIS_OK, "");
        CHECK_STATUS(amlis_bandit_choose(g, x, D, 3, &a2, pmf, K), AMLIS_OK, "");
        CHECK(a1 == a2 && a1 == expected[3]);
        free(img);
    }
    amlis_bandit_free(g);
    amlis_bandit_free(g2);
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

    check_partial_fit(config);
    check_greedy_policy();

    amlis_bandit_free(b);
    amlis_bandit_free(copy);
    amlis_bandit_free(from_file);
    amlis_bandit_free(from_json);
    amlis_bandit_free(free_ctx);
    amlis_bandit_free(NULL);
    return check_report("bandit_calls");
}
