/* Automatic model selection from C: amlis_train with an auto_classifier config on iris
 * (a fixed trial count, so the choice is reproducible), the leaderboard in the model info,
 * predictions, the same choice twice, and bad settings named; a voting ensemble (what a
 * search returns when an ensemble of its best candidates scores better) trained from its
 * config, predicting in batch and row by row. argv[1] = iris.csv. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *CONFIG =
    "{\"model\": {\"type\": \"auto_classifier\", \"max_trials\": 4, \"cv\": 3, "
    "\"families\": [\"logistic_regression\", \"gaussian_nb\"]}, \"random_state\": 3}";

static char *info_of(AmlisModel *m) {
    size_t need = 0;
    CHECK_STATUS(amlis_model_info_json(m, NULL, 0, &need), AMLIS_OK, "");
    char *text = malloc(need + 1);
    CHECK(text != NULL);
    if (!text) return NULL;
    CHECK_STATUS(amlis_model_info_json(m, text, need + 1, &need), AMLIS_OK, "");
    return text;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "data/iris.csv";
    AmlisDataset *d = NULL;
    CHECK_STATUS(amlis_dataset_from_csv(path, "{\"target\": \"species\"}", &d), AMLIS_OK, "");

    AmlisModel *a = NULL, *b = NULL;
    CHECK_STATUS(amlis_train(d, CONFIG, &a), AMLIS_OK, "");
    CHECK_STATUS(amlis_train(d, CONFIG, &b), AMLIS_OK, "");
    if (a && b) {
        char *ia = info_of(a), *ib = info_of(b);
        if (ia && ib) {
            /* An ordinary pipeline of the chosen family, with the search in its info. */
            CHECK(strstr(ia, "\"type\": \"logistic_regression\"") != NULL ||
                  strstr(ia, "\"type\": \"gaussian_nb\"") != NULL);
            CHECK(strstr(ia, "\"search\"") != NULL && strstr(ia, "\"trials\"") != NULL);
            CHECK(strstr(ia, "\"stopped_by\": \"max_trials\"") != NULL);
        }
        free(ia);
        free(ib);
        double rows[8] = {5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3};
        double pa[2] = {-1, -1}, pb[2] = {-2, -2}, proba[6] = {0};
        CHECK_STATUS(amlis_predict(a, AMLIS_OUTPUT_VALUE, rows, 2, 4, pa, 2), AMLIS_OK, "");
        CHECK_STATUS(amlis_predict(b, AMLIS_OUTPUT_VALUE, rows, 2, 4, pb, 2), AMLIS_OK, "");
        CHECK(pa[0] == 0.0 && pa[1] == 2.0);
        CHECK(pa[0] == pb[0] && pa[1] == pb[1]);
        CHECK_STATUS(amlis_predict(a, AMLIS_OUTPUT_PROBA, rows, 2, 4, proba, 6), AMLIS_OK, "");
        CHECK(proba[0] > 0.5 && proba[5] > 0.5);
    }
    amlis_model_free(a);
    amlis_model_free(b);

    /* Bad settings are configuration errors naming the key. */
    AmlisModel *m = NULL;
    CHECK_STATUS(amlis_train(d,
                             "{\"model\": {\"type\": \"auto_classifier\", \"families\": [\"ridge\"]}}",
                             &m),
                 AMLIS_CONFIG_ERROR, "families");
    CHECK(m == NULL);
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"auto_classifier\", \"time_budget\": -1}}",
                             &m),
                 AMLIS_CONFIG_ERROR, "time_budget");
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"auto_classifier\", \"max_trial\": 3}}", &m),
                 AMLIS_CONFIG_ERROR, "max_trial");
    /* Nothing fits within the memory bound: the error says why. */
    CHECK_STATUS(amlis_train(d,
                             "{\"model\": {\"type\": \"auto_classifier\", \"max_trials\": 2, "
                             "\"trial_memory_limit\": 1e-9}}",
                             &m),
                 AMLIS_INVALID_ARGUMENT, "skipped for memory");

    /* A voting ensemble of member pipelines, soft and hard. */
    AmlisModel *v = NULL;
    CHECK_STATUS(amlis_train(d,
                             "{\"model\": {\"type\": \"voting_classifier\", \"voting\": \"soft\", "
                             "\"weights\": [2, 1], \"estimators\": [{\"model\": {\"type\": "
                             "\"logistic_regression\"}, \"preprocess\": [{\"type\": "
                             "\"standard_scaler\"}]}, {\"type\": \"gaussian_nb\"}]}}",
                             &v),
                 AMLIS_OK, "");
    if (v) {
        double rows[8] = {5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3};
        double proba[6] = {0}, one[3] = {0}, value[2] = {-1, -1};
        CHECK_STATUS(amlis_predict(v, AMLIS_OUTPUT_VALUE, rows, 2, 4, value, 2), AMLIS_OK, "");
        CHECK(value[0] == 0.0 && value[1] == 2.0);
        CHECK_STATUS(amlis_predict(v, AMLIS_OUTPUT_PROBA, rows, 2, 4, proba, 6), AMLIS_OK, "");
        AmlisPredictor *p = NULL;
        CHECK_STATUS(amlis_predictor_new(v, AMLIS_OUTPUT_PROBA, &p), AMLIS_OK, "");
        if (p) {
            CHECK_STATUS(amlis_predict_row(p, rows + 4, 4, one, 3), AMLIS_OK, "");
            CHECK(memcmp(one, proba + 3, sizeof one) == 0);
        }
        amlis_predictor_free(p);
    }
    amlis_model_free(v);
    v = NULL;
    CHECK_STATUS(amlis_train(d,
                             "{\"model\": {\"type\": \"voting_classifier\", \"estimators\": "
                             "[{\"type\": \"gaussian_nb\"}, {\"type\": \"decision_tree_classifier\"}]}}",
                             &v),
                 AMLIS_OK, "");
    if (v) {
        double rows[4] = {5.1, 3.5, 1.4, 0.2}, proba[3] = {0};
        CHECK_STATUS(amlis_predict(v, AMLIS_OUTPUT_PROBA, rows, 1, 4, proba, 3), AMLIS_UNSUPPORTED,
                     "has no");
    }
    amlis_model_free(v);
    CHECK_STATUS(amlis_train(d, "{\"model\": {\"type\": \"voting_classifier\", \"estimators\": []}}",
                             &v),
                 AMLIS_CONFIG_ERROR, "estimators");
    amlis_dataset_free(d);
    return check_report("auto");
}
