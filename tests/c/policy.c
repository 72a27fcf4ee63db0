/* Off-policy evaluation from C: amlis_evaluate_policy on logs written to a CSV file (uniform
 * logging over two actions, reward 1 when the action matches the context), with the policy
 * given as probability columns and as a column of chosen actions, a given reward model, two-call
 * sizing, and the error paths (NULLs, unknown key, unknown column, bad action, short buffer).
 *
 *   policy <scratch folder>
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"

/* The value an estimator reports: the number after "estimator":"<name>","value": */
static double value_of(const char *report, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\"estimator\":\"%s\",\"value\":", name);
    const char *at = strstr(report, key);
    return at ? strtod(at + strlen(key), NULL) : NAN;
}

static char *evaluate(AmlisDataset *d, const char *options) {
    size_t needed = 0, written = 0;
    CHECK_STATUS(amlis_evaluate_policy(d, options, NULL, 0, &needed), AMLIS_OK, "");
    char *report = malloc(needed);
    if (!report) return NULL;
    CHECK_STATUS(amlis_evaluate_policy(d, options, report, needed, &written), AMLIS_OK, "");
    CHECK(written == needed && strlen(report) + 1 == written);
    return report;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: policy <scratch folder>\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/policy_logs.csv", argv[1]);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 2;
    }
    fprintf(f, "x0,action,reward,p,pi0,pi1,chosen,q0,q1\n");
    unsigned long state = 12345;
    for (int i = 0; i < 2000; i++) {
        state = state * 6364136223846793005UL + 1442695040888963407UL;
        int x = (int)((state >> 33) & 1);
        int a = (int)((state >> 40) & 1);
        fprintf(f, "%d,%d,%d,0.5,%d,%d,%d,%d,%d\n", x, a, a == x, 1 - x, x, x, x == 0, x == 1);
    }
    fclose(f);

    AmlisDataset *d = NULL;
    CHECK_STATUS(amlis_dataset_from_csv(path, "{}", &d), AMLIS_OK, "");
    if (!d) return check_report("policy");

    /* The optimal policy as probability columns: every estimator finds the value 1. */
    const char *pmf = "{\"action\": \"action\", \"reward\": \"reward\", \"propensity\": \"p\","
                      " \"policy\": {\"pmf_columns\": [\"pi0\", \"pi1\"]},"
                      " \"reward_model\": [\"q0\", \"q1\"], \"n_bootstrap\": 50}";
    char *report = evaluate(d, pmf);
    if (report) {
        const char *exact[] = {"replay", "snips", "dm", "dr", "sndr", "switch_dr"};
        for (size_t i = 0; i < sizeof exact / sizeof *exact; i++)
            CHECK(fabs(value_of(report, exact[i]) - 1.0) < 1e-12);
        CHECK(fabs(value_of(report, "ips") - 1.0) < 0.1);
        CHECK(strstr(report, "\"interval\":{\"lower\":") != NULL);
        CHECK(strstr(report, "\"effective_sample_size\":") != NULL);
        /* A buffer one byte short: the needed size comes back, nothing else. */
        size_t needed = strlen(report) + 1, got = 0;
        char *small = malloc(needed);
        if (small) {
            CHECK_STATUS(amlis_evaluate_policy(d, pmf, small, needed - 1, &got),
                         AMLIS_BUFFER_TOO_SMALL, "needed");
            CHECK(got == needed);
            free(small);
        }
        free(report);
    }

    /* The same policy as a column of chosen actions; replay only (no propensities). */
    report = evaluate(d, "{\"action\": \"action\", \"reward\": \"reward\","
                         " \"policy\": {\"action_column\": \"chosen\", \"n_actions\": 2},"
                         " \"n_bootstrap\": 0}");
    if (report) {
        CHECK(fabs(value_of(report, "replay") - 1.0) < 1e-12);
        CHECK(strstr(report, "\"ips\"") == NULL);
        free(report);
    }

    /* A reward model cross-fitted on the context column. */
    report = evaluate(d, "{\"action\": \"action\", \"reward\": \"reward\", \"propensity\": \"p\","
                         " \"policy\": {\"pmf_columns\": [\"pi0\", \"pi1\"]},"
                         " \"context_columns\": [\"x0\"], \"estimators\": [\"dm\", \"dr\"],"
                         " \"estimator\": {\"type\": \"decision_tree_regressor\"},"
                         " \"action_encoding\": \"per_action\", \"n_bootstrap\": 0}");
    if (report) {
        CHECK(fabs(value_of(report, "dm") - 1.0) < 1e-12);
        CHECK(fabs(value_of(report, "dr") - 1.0) < 1e-12);
        free(report);
    }

    /* Errors. */
    size_t len = 7;
    char buf[16];
    CHECK_STATUS(amlis_evaluate_policy(NULL, pmf, NULL, 0, &len), AMLIS_NULL_ARGUMENT, "`logs`");
    CHECK_STATUS(amlis_evaluate_policy(d, NULL, NULL, 0, &len), AMLIS_NULL_ARGUMENT,
                 "`options_json`");
    CHECK_STATUS(amlis_evaluate_policy(d, pmf, NULL, 0, NULL), AMLIS_NULL_ARGUMENT, "`out_len`");
    CHECK_STATUS(amlis_evaluate_policy(d, pmf, NULL, 5, &len), AMLIS_NULL_ARGUMENT, "report_json");
    CHECK(len == 7);
    CHECK_STATUS(amlis_evaluate_policy(d, "{\"action\": \"action\", \"reward\": \"reward\","
                                          " \"policy\": {\"pmf_columns\": [\"pi0\", \"pi1\"]},"
                                          " \"clipp\": 2}",
                                       buf, sizeof buf, &len),
                 AMLIS_CONFIG_ERROR, "clipp");
    CHECK_STATUS(amlis_evaluate_policy(d, "{\"action\": \"nope\", \"reward\": \"reward\","
                                          " \"policy\": {\"pmf_columns\": [\"pi0\", \"pi1\"]}}",
                                       buf, sizeof buf, &len),
                 AMLIS_INVALID_ARGUMENT, "nope");
    CHECK_STATUS(amlis_evaluate_policy(d, "{\"action\": \"x0\", \"reward\": \"reward\","
                                          " \"policy\": {\"pmf_columns\": [\"pi0\"]}}",
                                       buf, sizeof buf, &len),
                 AMLIS_INVALID_ARGUMENT, "action 1");
    CHECK_STATUS(amlis_evaluate_policy(d, "[1]", buf, sizeof buf, &len), AMLIS_CONFIG_ERROR,
                 "object");
    CHECK(len == 7);

    amlis_dataset_free(d);
    remove(path);
    return check_report("policy");
}
