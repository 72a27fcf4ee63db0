/* AmlisLearner: streaming training from C (partial_fit on chunks, snapshots that predict
 * like any model), the policy calls refused for a non-policy, bad streams and chunks, NULLs,
 * and chunks learned from several threads at once. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

#define N 200
#define SENTINEL_LEARNER ((AmlisLearner *)(uintptr_t)0x5A5A)

/* Two features; the class is 2 when x0 + x1 > 0, else 1 (labels given as numbers). */
static void make_rows(double *x, double *y, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        double a = ((seed >> 8) % 2001) / 1000.0 - 1.0;
        seed = seed * 1103515245u + 12345u;
        double b = ((seed >> 8) % 2001) / 1000.0 - 1.0;
        x[2 * i] = a;
        x[2 * i + 1] = b;
        y[i] = a + b > 0 ? 2.0 : 1.0;
    }
}

static const char *CONFIG = "{\"model\": {\"type\": \"sgd_classifier\", \"loss\": \"log_loss\"}, \"random_state\": 1}";
static const char *STREAM = "{\"n_features\": 2, \"classes\": [\"1\", \"2\"]}";

struct job {
    const AmlisLearner *learner;
    const AmlisDataset *chunk;
    int failures;
};

static void *learn(void *arg) {
    struct job *j = arg;
    for (int e = 0; e < 5; e++) {
        if (amlis_learner_partial_fit(j->learner, j->chunk) != AMLIS_OK) j->failures++;
        AmlisModel *snap = NULL;
        if (amlis_learner_model(j->learner, &snap) != AMLIS_OK) j->failures++;
        amlis_model_free(snap);
    }
    return NULL;
}

int main(void) {
    double x[2 * N], y[N];
    make_rows(x, y, N, 7);

    /* Bad configurations and streams. */
    AmlisLearner *l = SENTINEL_LEARNER;
    CHECK_STATUS(amlis_learner_new(NULL, STREAM, &l), AMLIS_NULL_ARGUMENT, "`config_json` is NULL");
    CHECK_STATUS(amlis_learner_new(CONFIG, NULL, &l), AMLIS_NULL_ARGUMENT, "`stream_json` is NULL");
    CHECK_STATUS(amlis_learner_new(CONFIG, STREAM, NULL), AMLIS_NULL_ARGUMENT, "`out` is NULL");
    CHECK_STATUS(amlis_learner_new("{\"model\": {\"type\": \"logistic_regression\"}}", STREAM, &l),
                 AMLIS_UNSUPPORTED, "types that can: sgd_classifier, sgd_regressor");
    CHECK_STATUS(amlis_learner_new(CONFIG, "{\"n_features\": 2}", &l), AMLIS_CONFIG_ERROR, "at least 2");
    CHECK_STATUS(amlis_learner_new(CONFIG, "{\"n_features\": 2, \"clases\": []}", &l), AMLIS_CONFIG_ERROR, "unknown key");
    CHECK_STATUS(amlis_learner_new(CONFIG, "{\"classes\": [\"1\", \"2\"]}", &l), AMLIS_CONFIG_ERROR, "n_features");
    CHECK_STATUS(amlis_learner_new("{\"model\": {\"type\": \"sgd_classifier\"}, \"preprocess\": [{\"type\": \"standard_scaler\"}]}", STREAM, &l),
                 AMLIS_CONFIG_ERROR, "preprocess");
    CHECK(l == SENTINEL_LEARNER);

    CHECK_STATUS(amlis_learner_new(CONFIG, STREAM, &l), AMLIS_OK, "");
    if (l == SENTINEL_LEARNER) return check_report("learner");

    /* Chunks of 50 rows, 10 passes. */
    AmlisDataset *chunks[N / 50];
    for (int c = 0; c < N / 50; c++) {
        chunks[c] = NULL;
        CHECK_STATUS(amlis_dataset_from_dense(x + 2 * 50 * c, 50, 2, y + 50 * c, 50, &chunks[c]), AMLIS_OK, "");
    }
    for (int e = 0; e < 10; e++)
        for (int c = 0; c < N / 50; c++)
            CHECK_STATUS(amlis_learner_partial_fit(l, chunks[c]), AMLIS_OK, "");

    /* The snapshot predicts like any model. */
    AmlisModel *m = NULL;
    CHECK_STATUS(amlis_learner_model(l, &m), AMLIS_OK, "");
    size_t n = 0;
    CHECK_STATUS(amlis_model_n_classes(m, &n), AMLIS_OK, "");
    CHECK(n == 2);
    double pred[N];
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, N, 2, pred, N), AMLIS_OK, "");
    int hits = 0;
    for (int i = 0; i < N; i++) hits += (pred[i] == 1.0) == (y[i] == 2.0); /* class index 1 is "2" */
    CHECK(hits >= 180);
    if (hits < 180) fprintf(stderr, "streamed accuracy %d / %d\n", hits, N);
    double score[N];
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_SCORE, x, N, 2, score, N), AMLIS_OK, "");

    /* Learning goes on; the snapshot does not change. */
    CHECK_STATUS(amlis_learner_partial_fit(l, chunks[0]), AMLIS_OK, "");
    double again[N];
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_SCORE, x, N, 2, again, N), AMLIS_OK, "");
    CHECK(memcmp(score, again, sizeof score) == 0);

    /* Not a policy: choose and update are refused, outputs untouched. */
    double ctx[2] = {0.5, -0.25}, pmf[2] = {9, 9};
    size_t action = 77;
    CHECK_STATUS(amlis_learner_choose(l, ctx, 2, 1, &action, pmf, 2), AMLIS_UNSUPPORTED, "needs a policy type");
    CHECK(action == 77 && pmf[0] == 9);
    CHECK_STATUS(amlis_learner_update(l, ctx, 2, 0, 1.0, 0.5), AMLIS_UNSUPPORTED, "needs a policy type");
    CHECK_STATUS(amlis_learner_choose(NULL, ctx, 2, 1, &action, pmf, 2), AMLIS_NULL_ARGUMENT, "`l` is NULL");
    CHECK_STATUS(amlis_learner_choose(l, ctx, 2, 1, NULL, pmf, 2), AMLIS_NULL_ARGUMENT, "`action` is NULL");

    /* Bad chunks: a label outside the stream's classes, the wrong width, no target. */
    double y3[4] = {1, 2, 3, 1}, x4[8] = {0}, x3[12] = {0};
    AmlisDataset *bad = NULL, *wide = NULL, *unlabelled = NULL;
    CHECK_STATUS(amlis_dataset_from_dense(x4, 4, 2, y3, 4, &bad), AMLIS_OK, "");
    CHECK_STATUS(amlis_learner_partial_fit(l, bad), AMLIS_INVALID_ARGUMENT, "label 3 is not one of the stream's classes");
    CHECK_STATUS(amlis_dataset_from_dense(x3, 4, 3, y3, 4, &wide), AMLIS_OK, "");
    CHECK_STATUS(amlis_learner_partial_fit(l, wide), AMLIS_SHAPE_MISMATCH, "n_features");
    CHECK_STATUS(amlis_dataset_from_dense(x4, 4, 2, NULL, 0, &unlabelled), AMLIS_OK, "");
    CHECK_STATUS(amlis_learner_partial_fit(l, unlabelled), AMLIS_INVALID_ARGUMENT, "no target");
    CHECK_STATUS(amlis_learner_partial_fit(NULL, chunks[0]), AMLIS_NULL_ARGUMENT, "`l` is NULL");
    CHECK_STATUS(amlis_learner_partial_fit(l, NULL), AMLIS_NULL_ARGUMENT, "`chunk` is NULL");

    /* Several threads learn and take snapshots at once. */
    pthread_t threads[4];
    struct job jobs[4];
    for (int t = 0; t < 4; t++) {
        jobs[t] = (struct job){l, chunks[t], 0};
        pthread_create(&threads[t], NULL, learn, &jobs[t]);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        CHECK(jobs[t].failures == 0);
    }

    amlis_model_free(m);
    for (int c = 0; c < N / 50; c++) amlis_dataset_free(chunks[c]);
    amlis_dataset_free(bad);
    amlis_dataset_free(wide);
    amlis_dataset_free(unlabelled);
    amlis_learner_free(l);
    amlis_learner_free(NULL);
    return check_report("learner");
}
