/* Unlabeled rows from C: NaN targets in amlis_dataset_from_dense train the semi-supervised
 * models and are refused, by name, by a supervised one; single-row predictions of each. */
#include <math.h>
#include <stdint.h>

#include "check.h"

int main(void) {
    /* Two groups on a line; one label in each, the rest NaN (unlabeled). */
    double x[20], y[20];
    for (int i = 0; i < 20; i++) {
        x[i] = i < 10 ? 0.1 * i : 5.0 + 0.1 * i;
        y[i] = NAN;
    }
    y[0] = 3.0;
    y[19] = 7.0;
    AmlisDataset *d = NULL;
    CHECK_STATUS(amlis_dataset_from_dense(x, 20, 1, y, 20, &d), AMLIS_OK, "");

    AmlisModel *m = (AmlisModel *)(uintptr_t)0x5A5A;
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"logistic_regression\"}}", &m),
                 AMLIS_INVALID_ARGUMENT, "18 row(s) are unlabeled");
    CHECK(m == (AmlisModel *)(uintptr_t)0x5A5A);

    const char *configs[3] = {
        "{\"model\": {\"type\": \"label_propagation\", \"kernel\": \"knn\", \"n_neighbors\": 3}}",
        "{\"model\": {\"type\": \"label_spreading\", \"gamma\": 1.0}}",
        "{\"model\": {\"type\": \"self_training_classifier\", \"estimator\": {\"type\": "
        "\"gaussian_nb\"}}}",
    };
    for (int c = 0; c < 3; c++) {
        m = NULL;
        CHECK_STATUS(amlis_train(d, configs[c], &m), AMLIS_OK, "");
        size_t k = 0;
        CHECK_STATUS(amlis_model_n_classes(m, &k), AMLIS_OK, "");
        CHECK(k == 2);
        double rows[2] = {0.35, 6.4}, out[2] = {-1, -1}, proba[4] = {0};
        CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_VALUE, rows, 2, 1, out, 2), AMLIS_OK, "");
        CHECK(out[0] == 0.0 && out[1] == 1.0);
        CHECK_STATUS(amlis_predict(m, AMLIS_OUTPUT_PROBA, rows, 2, 1, proba, 4), AMLIS_OK, "");
        CHECK(proba[0] > 0.5 && proba[3] > 0.5);
        CHECK(fabs(proba[0] + proba[1] - 1.0) < 1e-12);
        amlis_model_free(m);
    }
    amlis_dataset_free(d);
    return check_report("semi_supervised");
}
