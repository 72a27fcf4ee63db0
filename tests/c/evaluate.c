/* Evaluation from C: amlis_evaluate on CSV and dense datasets, amlis_cross_validate with
 * two-call sizing, training with a sample-weight column, and every error path (NULLs, unknown
 * metric, metric that does not fit, bad cv options, short buffer).
 *
 *   evaluate <breast_cancer.csv>
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

static const char *CLASSIFIER =
    "{\"model\": {\"type\": \"logistic_regression\", \"C\": 1.0},"
    " \"preprocess\": [{\"type\": \"standard_scaler\"}]}";

static void evaluate_csv(const char *path) {
    AmlisDataset *d = NULL;
    AmlisModel *m = NULL;
    CHECK_STATUS(amlis_dataset_from_csv(path, "{\"target\": \"diagnosis\"}", &d), AMLIS_OK, "");
    CHECK_STATUS(amlis_train(d, CLASSIFIER, &m), AMLIS_OK, "");
    if (!d || !m) return;

    double accuracy = -1.0, auc = -1.0, loss = 1.0;
    CHECK_STATUS(amlis_evaluate(m, d, "accuracy", &accuracy), AMLIS_OK, "");
    CHECK(accuracy > 0.95 && accuracy <= 1.0);
    CHECK_STATUS(amlis_evaluate(m, d, "roc_auc", &auc), AMLIS_OK, "");
    CHECK(auc > 0.99 && auc <= 1.0);
    CHECK_STATUS(amlis_evaluate(m, d, "neg_log_loss", &loss), AMLIS_OK, "");
    CHECK(loss < 0.0 && loss > -0.2);

    /* Errors: NULLs name the argument, bad names say so, *out stays untouched. */
    double out = 42.0;
    CHECK_STATUS(amlis_evaluate(NULL, d, "accuracy", &out), AMLIS_NULL_ARGUMENT, "`m`");
    CHECK_STATUS(amlis_evaluate(m, NULL, "accuracy", &out), AMLIS_NULL_ARGUMENT, "`d`");
    CHECK_STATUS(amlis_evaluate(m, d, NULL, &out), AMLIS_NULL_ARGUMENT, "`metric`");
    CHECK_STATUS(amlis_evaluate(m, d, "accuracy", NULL), AMLIS_NULL_ARGUMENT, "`out`");
    CHECK_STATUS(amlis_evaluate(m, d, "acuracy", &out), AMLIS_INVALID_ARGUMENT, "accuracy");
    CHECK_STATUS(amlis_evaluate(m, d, "r2", &out), AMLIS_INVALID_ARGUMENT, "does not fit");
    CHECK(out == 42.0);

    /* Cross-validation: size, then fill. The report holds fit and score times, so its
     * length may vary by a few bytes between calls: allocate the size returned plus slack. */
    const char *cv = "{\"n_splits\": 5, \"stratified\": true, \"shuffle\": true,"
                     " \"random_state\": 3, \"metrics\": [\"roc_auc\", \"accuracy\"]}";
    size_t needed = 0;
    CHECK_STATUS(amlis_cross_validate(d, CLASSIFIER, cv, NULL, 0, &needed), AMLIS_OK, "");
    CHECK(needed > 10);
    size_t cap = needed + 256;
    char *report = malloc(cap);
    char *again = malloc(cap);
    size_t written = 0;
    if (report && again) {
        CHECK_STATUS(amlis_cross_validate(d, CLASSIFIER, cv, report, cap, &written), AMLIS_OK,
                     "");
        CHECK(written <= cap && strlen(report) + 1 == written);
        CHECK(strstr(report, "\"roc_auc\"") != NULL);
        CHECK(strstr(report, "\"folds\"") != NULL);
        /* Same seed, same scores: the metrics part of the report is reproducible. */
        CHECK_STATUS(amlis_cross_validate(d, CLASSIFIER, cv, again, cap, &written), AMLIS_OK,
                     "");
        const char *a = strstr(report, "\"metrics\"");
        const char *b = strstr(again, "\"metrics\"");
        const char *a_end = a ? strstr(a, "\"n_splits\"") : NULL;
        CHECK(a && b && a_end);
        if (a && b && a_end) CHECK(strncmp(a, b, (size_t)(a_end - a)) == 0);
        /* A buffer far too small: BUFFER_TOO_SMALL with the size, nothing written. */
        memset(report, 'x', cap);
        size_t told = 0;
        CHECK_STATUS(amlis_cross_validate(d, CLASSIFIER, cv, report, 16, &told),
                     AMLIS_BUFFER_TOO_SMALL, "report_json");
        CHECK(told > 16);
        CHECK(report[0] == 'x');
    }
    free(report);
    free(again);
    CHECK_STATUS(amlis_cross_validate(d, CLASSIFIER, "{\"n_split\": 3}", NULL, 0, &needed),
                 AMLIS_CONFIG_ERROR, "n_split");
    CHECK_STATUS(amlis_cross_validate(NULL, CLASSIFIER, NULL, NULL, 0, &needed),
                 AMLIS_NULL_ARGUMENT, "`d`");
    CHECK_STATUS(amlis_cross_validate(d, NULL, NULL, NULL, 0, &needed), AMLIS_NULL_ARGUMENT,
                 "`config_json`");
    CHECK_STATUS(amlis_cross_validate(d, CLASSIFIER, NULL, NULL, 0, NULL), AMLIS_NULL_ARGUMENT,
                 "`out_len`");
    amlis_model_free(m);
    amlis_dataset_free(d);
}

/* A dense regression: y = 2 x0 - x1 + 1, fitted exactly by ridge with a tiny alpha. */
static void evaluate_dense(void) {
    enum { N = 200, P = 2 };
    double x[N * P], y[N];
    for (int i = 0; i < N; i++) {
        x[i * P] = (double)(i % 17) - 8.0;
        x[i * P + 1] = (double)(i % 5) * 0.5;
        y[i] = 2.0 * x[i * P] - x[i * P + 1] + 1.0;
    }
    AmlisDataset *d = NULL;
    AmlisModel *m = NULL;
    CHECK_STATUS(amlis_dataset_from_dense(x, N, P, y, N, &d), AMLIS_OK, "");
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"ridge\", \"alpha\": 1e-9}}", &m),
                 AMLIS_OK, "");
    double r2 = 0.0, mse = 1.0;
    CHECK_STATUS(amlis_evaluate(m, d, "r2", &r2), AMLIS_OK, "");
    CHECK(fabs(r2 - 1.0) < 1e-9);
    CHECK_STATUS(amlis_evaluate(m, d, "neg_mean_squared_error", &mse), AMLIS_OK, "");
    CHECK(mse <= 0.0 && mse > -1e-9);
    CHECK_STATUS(amlis_evaluate(m, d, "roc_auc", &r2), AMLIS_INVALID_ARGUMENT, "does not fit");
    size_t needed = 0;
    CHECK_STATUS(amlis_cross_validate(d, "{\"model\": {\"type\": \"ridge\"}}",
                                      "{\"metrics\": [\"roc_auc\"]}", NULL, 0, &needed),
                 AMLIS_INVALID_ARGUMENT, "roc_auc");
    CHECK_STATUS(amlis_cross_validate(d, "{\"model\": {\"type\": \"ridge\"}}",
                                      "{\"n_splits\": 4}", NULL, 0, &needed),
                 AMLIS_OK, "");
    amlis_model_free(m);
    amlis_dataset_free(d);
}

/* Sample weights from a CSV column: a zero-weight outlier does not move the fit, and the weights
 * column is not a model input. Cross-validation says plainly that it does not use weights. */
static void train_weighted(void) {
    char path[] = "/tmp/amlis_weights_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "x,y,w\n");
    for (int i = 0; i < 20; i++) fprintf(f, "%d,%d,%d\n", i, 3 * i + 2, 1 + i % 3);
    fprintf(f, "5,1000,0\n");
    fclose(f);

    AmlisDataset *d = NULL;
    AmlisModel *m = NULL;
    CHECK_STATUS(amlis_dataset_from_csv(path, "{\"target\": \"y\", \"weights\": \"w\"}", &d),
                 AMLIS_OK, "");
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"linear_regression\"}}", &m),
                 AMLIS_OK, "");
    size_t n_features = 0;
    CHECK_STATUS(amlis_model_n_features(m, &n_features), AMLIS_OK, "");
    CHECK(n_features == 1);
    double x = 10.0, out = 0.0;
    CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, &x, 1, 1, &out, 1), AMLIS_OK, "");
    CHECK(fabs(out - 32.0) < 1e-9);
    size_t needed = 0;
    CHECK_STATUS(amlis_cross_validate(d, "{\"model\": {\"type\": \"linear_regression\"}}", NULL,
                                      NULL, 0, &needed),
                 AMLIS_UNSUPPORTED, "sample weights");
    amlis_model_free(m);
    amlis_dataset_free(d);
    remove(path);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: evaluate <breast_cancer.csv>\n");
        return 2;
    }
    evaluate_csv(argv[1]);
    evaluate_dense();
    train_weighted();
    return check_report("evaluate");
}
