/* One model shared by 8 threads: each thread has its own AmlisPredictor and predicts single
 * rows and batches; every result is bit-identical to a serial run.
 *
 *   model_threads <rows per thread> [<model type>]
 *
 * The model is trained on a numeric data set with a standard scaler in front of it.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

#define THREADS 8
#define N_DATA 240
#define N_COLS 5
#define N_CLASSES 3

static const AmlisModel *model;
static double data[N_DATA * N_COLS];
static double serial_value[N_DATA];
static double serial_proba[N_DATA * N_CLASSES];
static int iterations = 10000;

typedef struct {
    int id;
    int failures;
} Job;

static void *work(void *arg) {
    Job *job = (Job *)arg;
    AmlisPredictor *pv = NULL, *pp = NULL;
    if (amlis_predictor_new(model, AMLIS_OUTPUT_VALUE, &pv) != AMLIS_OK ||
        amlis_predictor_new(model, AMLIS_OUTPUT_PROBA, &pp) != AMLIS_OK) {
        job->failures++;
        return NULL;
    }
    double v, p[N_CLASSES];
    for (int it = 0; it < iterations; it++) {
        int r = (it * 7 + job->id * 13) % N_DATA;
        const double *row = data + r * N_COLS;
        if (amlis_predict_row(pv, row, N_COLS, &v, 1) != AMLIS_OK ||
            memcmp(&v, &serial_value[r], sizeof v) != 0)
            job->failures++;
        if (amlis_predict_row(pp, row, N_COLS, p, N_CLASSES) != AMLIS_OK ||
            memcmp(p, &serial_proba[r * N_CLASSES], sizeof p) != 0)
            job->failures++;
        if (it % 1000 == 0) {
            double batch[N_DATA * N_CLASSES];
            if (amlis_predict(model, AMLIS_OUTPUT_PROBA, data, N_DATA, N_COLS, batch,
                              N_DATA * N_CLASSES) != AMLIS_OK ||
                memcmp(batch, serial_proba, sizeof batch) != 0)
                job->failures++;
        }
    }
    amlis_predictor_free(pv);
    amlis_predictor_free(pp);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc > 1) iterations = atoi(argv[1]);
    const char *type = argc > 2 ? argv[2] : "dummy_classifier";

    double y[N_DATA];
    uint64_t s = 7;
    for (int i = 0; i < N_DATA; i++) {
        double sum = 0;
        for (int j = 0; j < N_COLS; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            double u = (double)(s >> 11) / 9007199254740992.0;
            data[i * N_COLS + j] = 10.0 * u - 5.0 + j;
            sum += u;
        }
        y[i] = sum < 2.2 ? 0 : (sum < 2.8 ? 1 : 2);
    }
    AmlisDataset *d = NULL;
    CHECK_STATUS(amlis_dataset_from_dense(data, N_DATA, N_COLS, y, N_DATA, &d), AMLIS_OK, "");
    char config[256];
    snprintf(config, sizeof config,
             "{\"model\": {\"type\": \"%s\"}, \"preprocess\": [{\"type\": \"standard_scaler\"}]}",
             type);
    AmlisModel *m = NULL;
    CHECK_STATUS(amlis_train(d, config, &m), AMLIS_OK, "");
    model = m;
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, data, N_DATA, N_COLS, serial_value, N_DATA),
                 AMLIS_OK, "");
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_PROBA, data, N_DATA, N_COLS, serial_proba,
                               N_DATA * N_CLASSES),
                 AMLIS_OK, "");

    pthread_t threads[THREADS];
    Job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t].id = t;
        jobs[t].failures = 0;
        CHECK(pthread_create(&threads[t], NULL, work, &jobs[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        if (jobs[t].failures) {
            fprintf(stderr, "thread %d: %d results differ from the serial run\n", t,
                    jobs[t].failures);
            check_failures++;
        }
    }
    amlis_model_free(m);
    amlis_dataset_free(d);
    return check_report("model_threads");
}
