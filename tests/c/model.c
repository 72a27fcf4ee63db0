/* Models from C: train, NULL arguments, shapes and buffer sizes, save/load round trips (file
 * and buffer, JSON and binary), corrupt and newer files, info JSON.
 *
 *   model <penguins.csv> <scratch dir>
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

#define SENTINEL_MODEL ((AmlisModel *)(uintptr_t)0x5A5A)
#define SENTINEL_PRED ((AmlisPredictor *)(uintptr_t)0x5A5B)
#define FILL 12345.0

static const char *CONFIG =
    "{\"model\": {\"type\": \"dummy_classifier\"},"
    " \"preprocess\": [{\"type\": \"simple_imputer\", \"strategy\": \"most_frequent\"},"
    "                  {\"type\": \"one_hot_encoder\", \"handle_unknown\": \"ignore\"},"
    "                  {\"type\": \"standard_scaler\"}]}";

static void fill(double *v, size_t n) {
    for (size_t i = 0; i < n; i++) v[i] = FILL;
}

static int untouched(const double *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i] != FILL) return 0;
    return 1;
}

/* Rows of 7 raw penguin inputs: island index, 4 measures, sex index, year (NaN = missing). */
static void penguin_rows(double *x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        double *r = x + i * 7;
        r[0] = (double)(i % 3);
        r[1] = 35.0 + (double)(i % 17);
        r[2] = 14.0 + (double)(i % 7);
        r[3] = 180.0 + (double)(i % 40);
        r[4] = (i % 11 == 0) ? NAN : 3000.0 + 50.0 * (double)(i % 30);
        r[5] = (i % 5 == 0) ? NAN : (double)(i % 2);
        r[6] = 2007.0 + (double)(i % 3);
    }
}

/* Predictions of `m` on `x` (value and proba), for comparing models. */
static void predictions(const AmlisModel *m, const double *x, size_t n, double *value,
                        double *proba) {
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, n, 7, value, n), AMLIS_OK, "");
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_PROBA, x, n, 7, proba, n * 3), AMLIS_OK, "");
}

static void null_arguments(const AmlisDataset *d, const AmlisModel *m) {
    AmlisModel *mo = SENTINEL_MODEL;
    AmlisPredictor *po = SENTINEL_PRED;
    double x[7] = {0}, out[3];
    size_t n = 777;
    uint8_t byte = 0;
    char text[4];

    CHECK_STATUS(amlis_train(NULL, CONFIG, &mo), AMLIS_NULL_ARGUMENT, "amlis_train: argument `train` is NULL");
    CHECK_STATUS(amlis_train(d, NULL, &mo), AMLIS_NULL_ARGUMENT, "amlis_train: argument `config_json` is NULL");
    CHECK_STATUS(amlis_train(d, CONFIG, NULL), AMLIS_NULL_ARGUMENT, "amlis_train: argument `out` is NULL");
    CHECK(mo == SENTINEL_MODEL);

    CHECK_STATUS(amlis_model_save_file(NULL, "x.amlis"), AMLIS_NULL_ARGUMENT, "amlis_model_save_file: argument `m` is NULL");
    CHECK_STATUS(amlis_model_save_file(m, NULL), AMLIS_NULL_ARGUMENT, "amlis_model_save_file: argument `path` is NULL");
    CHECK_STATUS(amlis_model_load_file(NULL, &mo), AMLIS_NULL_ARGUMENT, "amlis_model_load_file: argument `path` is NULL");
    CHECK_STATUS(amlis_model_load_file("x.amlis", NULL), AMLIS_NULL_ARGUMENT, "amlis_model_load_file: argument `out` is NULL");
    CHECK_STATUS(amlis_model_save_buffer(NULL, NULL, 0, &n), AMLIS_NULL_ARGUMENT, "amlis_model_save_buffer: argument `m` is NULL");
    CHECK_STATUS(amlis_model_save_buffer(m, NULL, 8, &n), AMLIS_NULL_ARGUMENT, "amlis_model_save_buffer: argument `buf` is NULL");
    CHECK_STATUS(amlis_model_save_buffer(m, &byte, 1, NULL), AMLIS_NULL_ARGUMENT, "amlis_model_save_buffer: argument `out_len` is NULL");
    CHECK_STATUS(amlis_model_load_buffer(NULL, 0, &mo), AMLIS_NULL_ARGUMENT, "amlis_model_load_buffer: argument `buf` is NULL");
    CHECK_STATUS(amlis_model_load_buffer(&byte, 1, NULL), AMLIS_NULL_ARGUMENT, "amlis_model_load_buffer: argument `out` is NULL");
    CHECK(mo == SENTINEL_MODEL);
    CHECK(n == 777);

    CHECK_STATUS(amlis_model_n_features(NULL, &n), AMLIS_NULL_ARGUMENT, "amlis_model_n_features: argument `m` is NULL");
    CHECK_STATUS(amlis_model_n_features(m, NULL), AMLIS_NULL_ARGUMENT, "amlis_model_n_features: argument `out` is NULL");
    CHECK_STATUS(amlis_model_n_classes(NULL, &n), AMLIS_NULL_ARGUMENT, "amlis_model_n_classes: argument `m` is NULL");
    CHECK_STATUS(amlis_model_n_classes(m, NULL), AMLIS_NULL_ARGUMENT, "amlis_model_n_classes: argument `out` is NULL");
    CHECK_STATUS(amlis_model_info_json(NULL, text, 4, &n), AMLIS_NULL_ARGUMENT, "amlis_model_info_json: argument `m` is NULL");
    CHECK_STATUS(amlis_model_info_json(m, NULL, 4, &n), AMLIS_NULL_ARGUMENT, "amlis_model_info_json: argument `buf` is NULL");
    CHECK_STATUS(amlis_model_info_json(m, text, 4, NULL), AMLIS_NULL_ARGUMENT, "amlis_model_info_json: argument `out_len` is NULL");
    CHECK(n == 777);

    fill(out, 3);
    CHECK_STATUS(amlis_predict(NULL, AMLIS_OUTPUT_VALUE, x, 1, 7, out, 1), AMLIS_NULL_ARGUMENT, "amlis_predict: argument `m` is NULL");
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, NULL, 1, 7, out, 1), AMLIS_NULL_ARGUMENT, "amlis_predict: argument `x` is NULL");
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, 1, 7, NULL, 1), AMLIS_NULL_ARGUMENT, "amlis_predict: argument `out` is NULL");
    CHECK_STATUS(amlis_predict_dataset(NULL, AMLIS_OUTPUT_VALUE, d, out, 3), AMLIS_NULL_ARGUMENT, "amlis_predict_dataset: argument `m` is NULL");
    CHECK_STATUS(amlis_predict_dataset(m, AMLIS_OUTPUT_VALUE, NULL, out, 3), AMLIS_NULL_ARGUMENT, "amlis_predict_dataset: argument `d` is NULL");
    CHECK_STATUS(amlis_predict_dataset(m, AMLIS_OUTPUT_VALUE, d, NULL, 3), AMLIS_NULL_ARGUMENT, "amlis_predict_dataset: argument `out` is NULL");
    CHECK_STATUS(amlis_predictor_new(NULL, AMLIS_OUTPUT_VALUE, &po), AMLIS_NULL_ARGUMENT, "amlis_predictor_new: argument `m` is NULL");
    CHECK_STATUS(amlis_predictor_new(m, AMLIS_OUTPUT_VALUE, NULL), AMLIS_NULL_ARGUMENT, "amlis_predictor_new: argument `out` is NULL");
    CHECK(po == SENTINEL_PRED);
    AmlisPredictor *p = NULL;
    CHECK_STATUS(amlis_predictor_new(m, AMLIS_OUTPUT_VALUE, &p), AMLIS_OK, "");
    CHECK_STATUS(amlis_predict_row(NULL, x, 7, out, 1), AMLIS_NULL_ARGUMENT, "amlis_predict_row: argument `p` is NULL");
    CHECK_STATUS(amlis_predict_row(p, NULL, 7, out, 1), AMLIS_NULL_ARGUMENT, "amlis_predict_row: argument `row` is NULL");
    CHECK_STATUS(amlis_predict_row(p, x, 7, NULL, 1), AMLIS_NULL_ARGUMENT, "amlis_predict_row: argument `out` is NULL");
    CHECK(untouched(out, 3));
    amlis_predictor_free(p);
    amlis_predictor_free(NULL);
    amlis_model_free(NULL);
}

static void shapes_and_sizes(const AmlisModel *m, const AmlisModel *reg) {
    double x[7 * 4], out[13];
    penguin_rows(x, 4);

    fill(out, 13);
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, 4, 6, out, 4), AMLIS_SHAPE_MISMATCH, "`n_cols`");
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, 4, 7, out, 3), AMLIS_BUFFER_TOO_SMALL, "`out_len` = 3");
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_PROBA, x, 4, 7, out, 11), AMLIS_BUFFER_TOO_SMALL, "12 are needed");
    CHECK_STATUS(amlis_predict(m, 7, x, 4, 7, out, 4), AMLIS_INVALID_ARGUMENT, "`kind` = 7");
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, SIZE_MAX / 2, 7, out, 4), AMLIS_INVALID_ARGUMENT, "overflows");
    CHECK_STATUS(amlis_predict(reg, AMLIS_OUTPUT_PROBA, x, 4, 7, out, 13), AMLIS_UNSUPPORTED, "regressor");
    /* n_rows = 0: OK, nothing written. */
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, 0, 7, out, 0), AMLIS_OK, "");
    CHECK(untouched(out, 13));
    /* A larger out is fine: only the first values are written. */
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_PROBA, x, 4, 7, out, 13), AMLIS_OK, "");
    CHECK(out[12] == FILL);
    for (int i = 0; i < 4; i++) CHECK(fabs(out[3 * i] + out[3 * i + 1] + out[3 * i + 2] - 1.0) < 1e-12);

    /* An invalid category index names the row and column. */
    x[7 * 2 + 0] = 9.0;
    fill(out, 13);
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, x, 4, 7, out, 4), AMLIS_INVALID_ARGUMENT, "island");
    CHECK(untouched(out, 13));

    AmlisPredictor *p = NULL, *q = SENTINEL_PRED;
    CHECK_STATUS(amlis_predictor_new(reg, AMLIS_OUTPUT_PROBA, &q), AMLIS_UNSUPPORTED, "regressor");
    CHECK(q == SENTINEL_PRED);
    CHECK_STATUS(amlis_predictor_new(m, AMLIS_OUTPUT_PROBA, &p), AMLIS_OK, "");
    fill(out, 13);
    CHECK_STATUS(amlis_predict_row(p, x, 8, out, 3), AMLIS_SHAPE_MISMATCH, "`n_cols`");
    CHECK_STATUS(amlis_predict_row(p, x, 7, out, 2), AMLIS_BUFFER_TOO_SMALL, "3 values are needed");
    CHECK(untouched(out, 13));
    CHECK_STATUS(amlis_predict_row(p, x, 7, out, 3), AMLIS_OK, "");
    CHECK(out[3] == FILL);
    amlis_predictor_free(p);

    size_t n = 0;
    CHECK_STATUS(amlis_model_n_features(m, &n), AMLIS_OK, "");
    CHECK(n == 7);
    CHECK_STATUS(amlis_model_n_classes(m, &n), AMLIS_OK, "");
    CHECK(n == 3);
    CHECK_STATUS(amlis_model_n_classes(reg, &n), AMLIS_OK, "");
    CHECK(n == 0);

    /* Info JSON with two-call sizing. */
    size_t need = 0;
    CHECK_STATUS(amlis_model_info_json(m, NULL, 0, &need), AMLIS_OK, "");
    char *info = malloc(need);
    CHECK_STATUS(amlis_model_info_json(m, info, need - 1, &n), AMLIS_BUFFER_TOO_SMALL, "are needed");
    CHECK(n == need);
    CHECK_STATUS(amlis_model_info_json(m, info, need, &n), AMLIS_OK, "");
    CHECK(strlen(info) + 1 == need);
    CHECK(strstr(info, "\"classes\": [") != NULL);
    CHECK(strstr(info, "\"Gentoo\"") != NULL);
    CHECK(strstr(info, "\"type\": \"dummy_classifier\"") != NULL);
    CHECK(strstr(info, "\"feature_names\"") != NULL);
    CHECK(strstr(info, "\"Torgersen\"") != NULL);
    free(info);
}

static int same(const double *a, const double *b, size_t n) {
    return memcmp(a, b, n * sizeof(double)) == 0;
}

static void round_trips(const AmlisModel *m, const char *dir) {
    enum { N = 50 };
    double x[N * 7], v0[N], p0[N * 3], v1[N], p1[N * 3];
    penguin_rows(x, N);
    predictions(m, x, N, v0, p0);
    const char *names[2] = {"model.amlis", "model.json"};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        CHECK_STATUS(amlis_model_save_file(m, path), AMLIS_OK, "");
        AmlisModel *back = NULL;
        CHECK_STATUS(amlis_model_load_file(path, &back), AMLIS_OK, "");
        predictions(back, x, N, v1, p1);
        CHECK(same(v0, v1, N) && same(p0, p1, N * 3));
        amlis_model_free(back);
    }
    /* JSON really is JSON: the payload after the 28-byte envelope starts with '{'. */
    char path[1024];
    snprintf(path, sizeof path, "%s/model.json", dir);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f) {
        unsigned char head[29];
        CHECK(fread(head, 1, 29, f) == 29 && head[28] == '{');
        fclose(f);
    }

    size_t len = 0, len2 = 0;
    CHECK_STATUS(amlis_model_save_buffer(m, NULL, 0, &len), AMLIS_OK, "");
    uint8_t *buf = malloc(len);
    memset(buf, 0xAB, len);
    CHECK_STATUS(amlis_model_save_buffer(m, buf, len - 1, &len2), AMLIS_BUFFER_TOO_SMALL, "are needed");
    CHECK(len2 == len && buf[0] == 0xAB);
    CHECK_STATUS(amlis_model_save_buffer(m, buf, len, &len2), AMLIS_OK, "");
    CHECK(len2 == len && memcmp(buf, "AMLISMF", 7) == 0);
    AmlisModel *back = NULL;
    CHECK_STATUS(amlis_model_load_buffer(buf, len, &back), AMLIS_OK, "");
    predictions(back, x, N, v1, p1);
    CHECK(same(v0, v1, N) && same(p0, p1, N * 3));
    amlis_model_free(back);

    /* Every truncation is MODEL_CORRUPT, and nothing is written to out. */
    for (size_t cut = 0; cut < len; cut++) {
        AmlisModel *bad = SENTINEL_MODEL;
        AmlisStatus st = amlis_model_load_buffer(buf, cut, &bad);
        if (st != AMLIS_MODEL_CORRUPT || bad != SENTINEL_MODEL) {
            fprintf(stderr, "truncation at %zu: status %d\n", cut, (int)st);
            check_failures++;
            break;
        }
    }
    /* Random bit flips (a fixed LCG): corrupt or version errors, never a crash. */
    uint64_t s = 42;
    for (int k = 0; k < 3000; k++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t at = (size_t)(s >> 33) % len;
        uint8_t bit = (uint8_t)(1u << ((s >> 20) & 7));
        buf[at] ^= bit;
        AmlisModel *bad = SENTINEL_MODEL;
        AmlisStatus st = amlis_model_load_buffer(buf, len, &bad);
        buf[at] ^= bit;
        if ((st != AMLIS_MODEL_CORRUPT && st != AMLIS_MODEL_VERSION) || bad != SENTINEL_MODEL) {
            fprintf(stderr, "flip at byte %zu: status %d\n", at, (int)st);
            check_failures++;
            break;
        }
    }
    /* A newer format minor: MODEL_VERSION naming found and supported versions. */
    buf[10] = 5;
    AmlisModel *bad = SENTINEL_MODEL;
    CHECK_STATUS(amlis_model_load_buffer(buf, len, &bad), AMLIS_MODEL_VERSION, "1.5");
    CHECK(strstr(amlis_last_error_message(), "1.0") != NULL);
    CHECK(bad == SENTINEL_MODEL);
    free(buf);

    CHECK_STATUS(amlis_model_load_file("/nonexistent/amlis/model.amlis", &bad), AMLIS_IO_ERROR, "model.amlis");
    CHECK_STATUS(amlis_model_load_file("data/iris.csv", &bad), AMLIS_MODEL_CORRUPT, "not an amlis model file");
    CHECK_STATUS(amlis_model_save_file(m, "/nonexistent/amlis/model.amlis"), AMLIS_IO_ERROR, "model.amlis");
    CHECK(bad == SENTINEL_MODEL);
}

/* The output kinds: values per row from amlis_model_n_outputs, decision functions and raw
 * scores written by amlis_predict and amlis_predict_row alike, unsupported kinds named. */
static void output_kinds(const AmlisDataset *d, const AmlisModel *dummy, const AmlisModel *reg) {
    size_t n = 99;
    CHECK_STATUS(amlis_model_n_outputs(NULL, AMLIS_OUTPUT_VALUE, &n), AMLIS_NULL_ARGUMENT, "argument `m` is NULL");
    CHECK_STATUS(amlis_model_n_outputs(dummy, AMLIS_OUTPUT_VALUE, NULL), AMLIS_NULL_ARGUMENT, "argument `out` is NULL");
    CHECK_STATUS(amlis_model_n_outputs(dummy, 7, &n), AMLIS_INVALID_ARGUMENT, "not an output kind");
    CHECK(n == 99);
    CHECK_STATUS(amlis_model_n_outputs(dummy, AMLIS_OUTPUT_VALUE, &n), AMLIS_OK, "");
    CHECK(n == 1);
    CHECK_STATUS(amlis_model_n_outputs(dummy, AMLIS_OUTPUT_PROBA, &n), AMLIS_OK, "");
    CHECK(n == 3);
    n = 99;
    CHECK_STATUS(amlis_model_n_outputs(dummy, AMLIS_OUTPUT_SCORE, &n), AMLIS_UNSUPPORTED, "it has: value, proba");
    CHECK_STATUS(amlis_model_n_outputs(dummy, AMLIS_OUTPUT_TRANSFORM, &n), AMLIS_UNSUPPORTED, "no transform output");
    CHECK_STATUS(amlis_model_n_outputs(reg, AMLIS_OUTPUT_PROBA, &n), AMLIS_UNSUPPORTED, "it has: value");
    CHECK(n == 99);

    const char *configs[] = {
        "{\"model\": {\"type\": \"logistic_regression\"},"
        " \"preprocess\": [{\"type\": \"simple_imputer\", \"strategy\": \"most_frequent\"},"
        " {\"type\": \"one_hot_encoder\"}, {\"type\": \"standard_scaler\"}]}",
        "{\"model\": {\"type\": \"gradient_boosting_classifier\", \"max_iter\": 5}}",
    };
    for (int c = 0; c < 2; c++) {
        AmlisModel *m = NULL;
        CHECK_STATUS(amlis_train(d, configs[c], &m), AMLIS_OK, "");
        if (!m) continue;
        CHECK_STATUS(amlis_model_n_outputs(m, AMLIS_OUTPUT_SCORE, &n), AMLIS_OK, "");
        CHECK(n == 3);
        double x[7 * 4], scores[4 * 3], row[3], proba[4 * 3];
        penguin_rows(x, 4);
        CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_SCORE, x, 4, 7, scores, 12), AMLIS_OK, "");
        CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_PROBA, x, 4, 7, proba, 12), AMLIS_OK, "");
        AmlisPredictor *p = NULL;
        CHECK_STATUS(amlis_predictor_new(m, AMLIS_OUTPUT_SCORE, &p), AMLIS_OK, "");
        for (int i = 0; i < 4 && p; i++) {
            CHECK_STATUS(amlis_predict_row(p, x + 7 * i, 7, row, 3), AMLIS_OK, "");
            CHECK(memcmp(row, scores + 3 * i, sizeof row) == 0);
            /* The largest score is the most probable class. */
            int best_s = 0, best_p = 0;
            for (int k = 1; k < 3; k++) {
                if (scores[3 * i + k] > scores[3 * i + best_s]) best_s = k;
                if (proba[3 * i + k] > proba[3 * i + best_p]) best_p = k;
            }
            CHECK(best_s == best_p);
        }
        amlis_predictor_free(p);
        p = NULL;
        CHECK_STATUS(amlis_predictor_new(m, AMLIS_OUTPUT_TRANSFORM, &p), AMLIS_UNSUPPORTED, "it has: value, proba, score");
        CHECK(p == NULL);
        amlis_model_free(m);
    }
}

/* A model that needs no target trains from a dataset without one (CSV read without
 * "target", or dense arrays with y = NULL) and writes its output columns. */
static void without_target(const AmlisDataset *nolabel) {
    double x[7 * 20];
    penguin_rows(x, 20);
    for (int i = 0; i < 20; i++) x[7 * i + 3] = 5.0; /* a constant column */
    AmlisDataset *dense = NULL;
    CHECK_STATUS(amlis_dataset_from_dense(x, 20, 7, NULL, 0, &dense), AMLIS_OK, "");
    AmlisModel *vt = NULL, *sentinel = SENTINEL_MODEL;
    CHECK_STATUS(amlis_train(dense, "{\"model\": {\"type\": \"logistic_regression\"}}", &sentinel),
                 AMLIS_INVALID_ARGUMENT, "`logistic_regression` is a classifier: it needs a target");
    CHECK(sentinel == SENTINEL_MODEL);
    CHECK_STATUS(amlis_train(dense, "{\"model\": {\"type\": \"variance_threshold\"},"
                                    " \"preprocess\": [{\"type\": \"simple_imputer\"}]}", &vt), AMLIS_OK, "");
    size_t n = 0;
    CHECK_STATUS(amlis_model_n_outputs(vt, AMLIS_OUTPUT_TRANSFORM, &n), AMLIS_OK, "");
    CHECK(n == 6); /* the constant column dropped */
    CHECK_STATUS(amlis_model_n_outputs(vt, AMLIS_OUTPUT_VALUE, &n), AMLIS_UNSUPPORTED, "it has: transform");
    double out[20 * 6], row[6];
    CHECK_STATUS(amlis_predict(vt, AMLIS_OUTPUT_TRANSFORM, x, 20, 7, out, 20 * 6), AMLIS_OK, "");
    AmlisPredictor *p = NULL;
    CHECK_STATUS(amlis_predictor_new(vt, AMLIS_OUTPUT_TRANSFORM, &p), AMLIS_OK, "");
    CHECK_STATUS(amlis_predict_row(p, x + 7 * 19, 7, row, 6), AMLIS_OK, "");
    CHECK(memcmp(row, out + 6 * 19, sizeof row) == 0);
    amlis_predictor_free(p);
    char info[4096];
    size_t len = 0;
    CHECK_STATUS(amlis_model_info_json(vt, info, sizeof info, &len), AMLIS_OK, "");
    CHECK(strstr(info, "\"estimator\": \"transformer\"") != NULL);
    CHECK(strstr(info, "\"target\": null") != NULL);
    CHECK(strstr(info, "handles_nan") != NULL);
    amlis_model_free(vt);
    /* The CSV read without a target trains one too (every column is an input). */
    vt = NULL;
    CHECK_STATUS(amlis_train(nolabel, "{\"model\": {\"type\": \"variance_threshold\", \"threshold\": 50}}", &vt), AMLIS_OK, "");
    CHECK_STATUS(amlis_model_n_features(vt, &n), AMLIS_OK, "");
    CHECK(n == 8);
    amlis_model_free(vt);
    amlis_dataset_free(dense);
}

int main(int argc, char **argv) {
    const char *csv = argc > 1 ? argv[1] : "data/penguins.csv";
    const char *dir = argc > 2 ? argv[2] : ".";

    AmlisDataset *d = NULL, *nolabel = NULL, *dense = NULL;
    CHECK_STATUS(amlis_dataset_from_csv(csv, "{\"target\": \"species\"}", &d), AMLIS_OK, "");
    CHECK_STATUS(amlis_dataset_from_csv(csv, NULL, &nolabel), AMLIS_OK, "");
    AmlisModel *m = SENTINEL_MODEL, *reg = NULL;
    CHECK_STATUS(amlis_train(nolabel, CONFIG, &m), AMLIS_INVALID_ARGUMENT, "`dummy_classifier` is a classifier: it needs a target");
    CHECK(m == SENTINEL_MODEL);
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"dummy_classifier\", \"C\": 1}}", &m), AMLIS_CONFIG_ERROR, "model");
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"no_such_model\"}}", &m), AMLIS_CONFIG_ERROR, "model.type");
    CHECK_STATUS(amlis_train(d, "{", &m), AMLIS_CONFIG_ERROR, "not valid JSON");
    CHECK(m == SENTINEL_MODEL);
    CHECK_STATUS(amlis_train(d, CONFIG, &m), AMLIS_OK, "");

    /* A regressor from dense arrays. */
    double x[7 * 20], y[20];
    penguin_rows(x, 20);
    for (int i = 0; i < 20; i++) {
        x[7 * i + 4] = 3000.0 + i; /* no NaN for a model without imputer */
        x[7 * i + 5] = 1.0;
        y[i] = 2.0 * i;
    }
    CHECK_STATUS(amlis_dataset_from_dense(x, 20, 7, y, 20, &dense), AMLIS_OK, "");
    CHECK_STATUS(amlis_train(dense, "{\"model\": {\"type\": \"dummy_regressor\"}, \"preprocess\": [{\"type\": \"standard_scaler\"}]}", &reg), AMLIS_OK, "");
    double out[20];
    CHECK_STATUS(amlis_predict_dataset(reg, AMLIS_OUTPUT_VALUE, dense, out, 20), AMLIS_OK, "");
    CHECK(out[0] == 19.0 && out[19] == 19.0);

    /* Predicting the training CSV by column name (the target column is ignored). */
    size_t rows = 0, cols = 0;
    CHECK_STATUS(amlis_dataset_shape(d, &rows, &cols), AMLIS_OK, "");
    double *proba = malloc(rows * 3 * sizeof(double));
    CHECK_STATUS(amlis_predict_dataset(m, AMLIS_OUTPUT_PROBA, d, proba, rows * 3 - 1), AMLIS_BUFFER_TOO_SMALL, "are needed");
    CHECK_STATUS(amlis_predict_dataset(m, AMLIS_OUTPUT_PROBA, d, proba, rows * 3), AMLIS_OK, "");
    CHECK(fabs(proba[0] + proba[1] + proba[2] - 1.0) < 1e-12);
    free(proba);

    null_arguments(d, m);
    shapes_and_sizes(m, reg);
    output_kinds(d, m, reg);
    without_target(nolabel);
    round_trips(m, dir);

    amlis_model_free(m);
    amlis_model_free(reg);
    amlis_dataset_free(d);
    amlis_dataset_free(nolabel);
    amlis_dataset_free(dense);
    return check_report("model");
}
