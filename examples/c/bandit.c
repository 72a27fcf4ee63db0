/* Contextual bandits from C: a supervised-to-bandit simulation. Each row of a classification
 * data set is a context, each class an action, and the reward is 1 when the action is the
 * row's class (the bandit never sees the label, only the reward of the action it took).
 * Every policy makes one pass over the rows in the same shuffled order, choosing with
 * amlis_bandit_choose and learning with amlis_bandit_update; the program prints each
 * policy's cumulative reward (a uniform random policy gets 1 / classes on average), then
 * saves the LinUCB bandit, loads it back and checks the copy decides identically.
 *
 * Off-policy evaluation: the pass of the exploring LinGreedy policy is logged (action, reward
 * and the probability it chose the action with); the learned LinUCB policy is then
 * evaluated on that log with amlis_evaluate_policy (IPS, SNIPS, DM and DR with a ridge
 * reward model cross-fitted on the contexts, with 95% bootstrap intervals), and the
 * estimates are printed beside its true value, which the simulation knows from the labels.
 *
 *   cargo build --release
 *   cc -std=c11 -Iinclude examples/c/bandit.c -Ltarget/release -lamlis \
 *      -Wl,-rpath,"$PWD/target/release" -o bandit
 *   ./bandit data/wine.csv cultivar
 *
 * The CSV must hold numeric feature columns and one label column (any text); features are
 * standardized here and a constant 1 is appended (an intercept for the linear policies).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amlis.h"

#define MAX_ROWS 5000
#define MAX_COLS 80
#define MAX_CLASSES 32

static double x[MAX_ROWS][MAX_COLS];
static int label[MAX_ROWS];
static char classes[MAX_CLASSES][64];
static int n_rows = 0, n_features = 0, n_classes = 0;

/* Square root by Newton's method (no libm needed). */
static double root(double v) {
    double r = v > 1 ? v : 1;
    for (int i = 0; i < 60; i++) r = 0.5 * (r + v / r);
    return r;
}

static int read_csv(const char *path, const char *target) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 0;
    }
    char line[8192];
    if (!fgets(line, sizeof line, f)) return fclose(f), 0;
    int target_col = -1, n_cols = 0;
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), n_cols++)
        if (strcmp(tok, target) == 0) target_col = n_cols;
    if (target_col < 0 || n_cols - 1 >= MAX_COLS - 1) {
        fprintf(stderr, "no column `%s` in %s (or too many columns)\n", target, path);
        return fclose(f), 0;
    }
    n_features = n_cols - 1;
    while (n_rows < MAX_ROWS && fgets(line, sizeof line, f)) {
        int col = 0, j = 0;
        for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), col++) {
            if (col == target_col) {
                int k = 0;
                while (k < n_classes && strcmp(classes[k], tok) != 0) k++;
                if (k == n_classes && n_classes < MAX_CLASSES) snprintf(classes[n_classes++], 64, "%s", tok);
                label[n_rows] = k;
            } else {
                x[n_rows][j++] = atof(tok);
            }
        }
        n_rows++;
    }
    fclose(f);
    /* Standardize each feature and append the intercept. */
    for (int j = 0; j < n_features; j++) {
        double mean = 0, var = 0;
        for (int i = 0; i < n_rows; i++) mean += x[i][j];
        mean /= n_rows;
        for (int i = 0; i < n_rows; i++) var += (x[i][j] - mean) * (x[i][j] - mean);
        double sd = var > 0 ? root(var / n_rows) : 1.0;
        for (int i = 0; i < n_rows; i++) x[i][j] = (x[i][j] - mean) / sd;
    }
    for (int i = 0; i < n_rows; i++) x[i][n_features] = 1.0;
    n_features += 1;
    return n_rows > 0 && n_classes > 1;
}

/* Prints the failed call and this thread's message, and returns 1 from main. */
#define TRY(call)                                                                  \
    do {                                                                           \
        AmlisStatus st_ = (call);                                                  \
        if (st_ != AMLIS_OK) {                                                     \
            fprintf(stderr, "%s failed (%d): %s\n", #call, (int)st_,              \
                    amlis_last_error_message());                                   \
            return -1;                                                             \
        }                                                                          \
    } while (0)

/* The log of one pass, by row of the data set: the action taken, its reward and the
 * probability the policy chose it with. */
static size_t logged_action[MAX_ROWS];
static double logged_reward[MAX_ROWS], logged_propensity[MAX_ROWS];

/* One pass over the rows in `order`; returns the cumulative reward (or -1 on a failure).
 * With `log`, records each decision in the logged_* arrays. */
static double simulate(AmlisBandit *b, const int *order, int log) {
    double total = 0, pmf[MAX_CLASSES];
    for (int t = 0; t < n_rows; t++) {
        int i = order[t];
        size_t a = 0;
        TRY(amlis_bandit_choose(b, x[i], (size_t)n_features, (uint64_t)t, &a, pmf, (size_t)n_classes));
        double reward = (int)a == label[i] ? 1.0 : 0.0;
        TRY(amlis_bandit_update(b, x[i], (size_t)n_features, a, reward, pmf[a]));
        if (log) {
            logged_action[i] = a;
            logged_reward[i] = reward;
            logged_propensity[i] = pmf[a];
        }
        total += reward;
    }
    return total;
}

/* The number after `"value":` in the report's entry of `estimator` (NaN if absent), and its
 * bootstrap interval. */
static double estimate_of(const char *report, const char *estimator, double *lower,
                          double *upper) {
    char key[64];
    snprintf(key, sizeof key, "\"estimator\":\"%s\"", estimator);
    const char *at = strstr(report, key);
    const char *value = at ? strstr(at, "\"value\":") : NULL;
    const char *lo = value ? strstr(value, "\"lower\":") : NULL;
    const char *hi = lo ? strstr(lo, "\"upper\":") : NULL;
    *lower = lo ? strtod(lo + 8, NULL) : 0.0 / 0.0;
    *upper = hi ? strtod(hi + 8, NULL) : 0.0 / 0.0;
    return value ? strtod(value + 8, NULL) : 0.0 / 0.0;
}

/* Evaluates the policy of bandit `b` (its decision pmf on every row) off-policy on the logged
 * pass, prints the estimates against the true value; returns 0, or 1 on a failure. */
static int evaluate_on_log(AmlisBandit *b, const char *name, const char *logged_by) {
    /* One dense dataset: action, reward, propensity, the evaluated pmf, the context. */
    size_t k = (size_t)n_classes, d = (size_t)n_features, cols = 3 + k + d;
    double *table = malloc(sizeof(double) * (size_t)n_rows * cols);
    if (!table) return 1;
    double truth = 0;
    for (int i = 0; i < n_rows; i++) {
        double *row = &table[(size_t)i * cols];
        size_t a = 0;
        if (amlis_bandit_choose(b, x[i], d, 2000000u + (uint64_t)i, &a, &row[3], k) != AMLIS_OK) {
            fprintf(stderr, "amlis_bandit_choose: %s\n", amlis_last_error_message());
            free(table);
            return 1;
        }
        truth += row[3 + label[i]];
        row[0] = (double)logged_action[i];
        row[1] = logged_reward[i];
        row[2] = logged_propensity[i];
        for (size_t j = 0; j < d; j++) row[3 + k + j] = x[i][j];
    }
    truth /= n_rows;
    AmlisDataset *logs = NULL;
    AmlisStatus st = amlis_dataset_from_dense(table, (size_t)n_rows, cols, NULL, 0, &logs);
    free(table);
    if (st != AMLIS_OK) {
        fprintf(stderr, "amlis_dataset_from_dense: %s\n", amlis_last_error_message());
        return 1;
    }
    /* A dense dataset's columns are x0, x1, ...: x0 action, x1 reward, x2 propensity. */
    char options[8192];
    int len = snprintf(options, sizeof options,
                       "{\"action\": \"x0\", \"reward\": \"x1\", \"propensity\": \"x2\", "
                       "\"estimators\": [\"ips\", \"snips\", \"dm\", \"dr\"], "
                       "\"estimator\": {\"type\": \"ridge\", \"alpha\": 1.0}, "
                       "\"action_encoding\": \"per_action\", \"random_state\": 7, "
                       "\"policy\": {\"pmf_columns\": [");
    for (size_t a = 0; a < k; a++)
        len += snprintf(options + len, sizeof options - (size_t)len, "%s\"x%zu\"", a ? ", " : "",
                        3 + a);
    len += snprintf(options + len, sizeof options - (size_t)len, "]}, \"context_columns\": [");
    for (size_t j = 0; j < d; j++)
        len += snprintf(options + len, sizeof options - (size_t)len, "%s\"x%zu\"", j ? ", " : "",
                        3 + k + j);
    snprintf(options + len, sizeof options - (size_t)len, "]}");
    size_t need = 0;
    char *report = NULL;
    st = amlis_evaluate_policy(logs, options, NULL, 0, &need);
    if (st == AMLIS_OK) {
        report = malloc(need);
        st = report ? amlis_evaluate_policy(logs, options, report, need, &need) : AMLIS_PANIC;
    }
    amlis_dataset_free(logs);
    if (st != AMLIS_OK) {
        fprintf(stderr, "amlis_evaluate_policy failed (%d): %s\n", (int)st,
                amlis_last_error_message());
        free(report);
        return 1;
    }
    printf("\noff-policy value of the learned %s policy on the log of %s\n", name, logged_by);
    printf("%-10s %8s   %s\n", "estimator", "value", "95% bootstrap interval");
    const char *names[] = {"ips", "snips", "dm", "dr"};
    for (size_t e = 0; e < sizeof names / sizeof names[0]; e++) {
        double lower, upper, v = estimate_of(report, names[e], &lower, &upper);
        printf("%-10s %8.3f   [%.3f, %.3f]\n", names[e], v, lower, upper);
    }
    printf("%-10s %8.3f   (from the labels)\n", "true value", truth);
    free(report);
    return 0;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "data/wine.csv";
    const char *target = argc > 2 ? argv[2] : "cultivar";
    if (!read_csv(path, target)) return 1;
    printf("%s: %d rows, %d context features (with the intercept), %d actions\n", path, n_rows,
           n_features, n_classes);

    /* The same shuffled order for every policy. */
    static int order[MAX_ROWS];
    uint64_t s = 42;
    for (int i = 0; i < n_rows; i++) order[i] = i;
    for (int i = n_rows - 1; i > 0; i--) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        int j = (int)((s >> 33) % (uint64_t)(i + 1));
        int tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }

    const char *policies[][2] = {
        {"lin_ucb", "{\"policy\": {\"type\": \"lin_ucb\", \"alpha\": 0.5}, \"random_state\": 1}"},
        {"lin_ts", "{\"policy\": {\"type\": \"lin_ts\", \"alpha\": 0.2}, \"random_state\": 1}"},
        {"lin_greedy", "{\"policy\": {\"type\": \"lin_greedy\", \"epsilon\": 0.05}, \"random_state\": 1}"},
        {"epsilon_greedy + sgd_regressor",
         "{\"policy\": {\"type\": \"epsilon_greedy\", \"epsilon\": 0.05, \"estimator\": "
         "{\"type\": \"sgd_regressor\", \"eta0\": 0.05}}, \"random_state\": 1}"},
        {"epsilon_greedy (context-free)", "{\"policy\": {\"type\": \"epsilon_greedy\"}, \"random_state\": 1}"},
        {"ucb1 (context-free)", "{\"policy\": {\"type\": \"ucb1\"}, \"random_state\": 1}"},
    };
    printf("%-32s %18s %8s\n", "policy", "cumulative reward", "mean");
    printf("%-32s %18.1f %8.3f\n", "uniform random (expected)", (double)n_rows / n_classes,
           1.0 / n_classes);
    AmlisBandit *lin_ucb = NULL;
    for (size_t p = 0; p < sizeof policies / sizeof policies[0]; p++) {
        AmlisBandit *b = NULL;
        AmlisStatus st = amlis_bandit_new(policies[p][1], (size_t)n_classes, (size_t)n_features, &b);
        if (st != AMLIS_OK) {
            fprintf(stderr, "amlis_bandit_new(%s): %s\n", policies[p][0], amlis_last_error_message());
            return 1;
        }
        /* The exploring LinGreedy pass (p == 2) is the log of the off-policy evaluation. */
        double total = simulate(b, order, p == 2);
        if (total < 0) return 1;
        printf("%-32s %18.0f %8.3f\n", policies[p][0], total, total / n_rows);
        if (p == 0)
            lin_ucb = b;
        else
            amlis_bandit_free(b);
    }

    /* Save the learned LinUCB state, load it back: the copy decides as the original. */
    size_t need = 0, got = 0;
    if (amlis_bandit_save_buffer(lin_ucb, NULL, 0, &need) != AMLIS_OK) return 1;
    unsigned char *buf = malloc(need);
    AmlisBandit *copy = NULL;
    if (!buf || amlis_bandit_save_buffer(lin_ucb, buf, need, &got) != AMLIS_OK ||
        amlis_bandit_load_buffer(buf, got, &copy) != AMLIS_OK) {
        fprintf(stderr, "save / load failed: %s\n", amlis_last_error_message());
        return 1;
    }
    free(buf);
    int same = 1;
    for (int i = 0; i < n_rows; i++) {
        double p1[MAX_CLASSES], p2[MAX_CLASSES];
        size_t a1 = 0, a2 = 0;
        if (amlis_bandit_choose(lin_ucb, x[i], (size_t)n_features, 1000000u + (uint64_t)i, &a1, p1, (size_t)n_classes) != AMLIS_OK ||
            amlis_bandit_choose(copy, x[i], (size_t)n_features, 1000000u + (uint64_t)i, &a2, p2, (size_t)n_classes) != AMLIS_OK ||
            a1 != a2 || memcmp(p1, p2, sizeof(double) * (size_t)n_classes) != 0)
            same = 0;
    }
    printf("saved %zu bytes; the reloaded LinUCB decides %s\n", got, same ? "identically" : "DIFFERENTLY");
    if (evaluate_on_log(lin_ucb, "LinUCB", "LinGreedy (epsilon 0.05)") != 0) same = 0;
    amlis_bandit_free(lin_ucb);
    amlis_bandit_free(copy);
    return same ? 0 : 1;
}
