/* amlis from C: read a CSV file, train a logistic regression with its preprocessing
 * (missing values imputed, categories one-hot encoded, numbers standardized) from a JSON
 * config, measure its accuracy on the training set, save it, load it back, and predict a
 * batch and single rows. Every call's status is checked; a failure prints the message and
 * the program exits with 1.
 *
 * From the repository root (README.md, "C quickstart", shows the static and pkg-config
 * builds too):
 *
 *   cargo build --release
 *   cc -std=c11 -Iinclude examples/c/quickstart.c -Ltarget/release -lamlis \
 *      -Wl,-rpath,"$PWD/target/release" -o quickstart
 *   ./quickstart data/penguins.csv species penguins.amlis
 *
 * The rpath records where libamlis.so is, so the program finds it at run time; without it,
 * run `LD_LIBRARY_PATH=target/release ./quickstart ...`. The arguments are the CSV file, its
 * target column and where to save the model (these three are the defaults). On the penguins
 * it prints a training accuracy of about 0.99 and the species of two new birds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amlis.h"

/* Prints the failed call and this thread's message, and jumps to the clean-up. */
#define TRY(call)                                                                       \
    do {                                                                                \
        AmlisStatus st_ = (call);                                                       \
        if (st_ != AMLIS_OK) {                                                          \
            fprintf(stderr, "%s failed (status %d): %s\n", #call, (int)st_,             \
                    amlis_last_error_message());                                        \
            goto done;                                                                  \
        }                                                                               \
    } while (0)

#define MAX_CLASSES 64

/* Copies class `index` of the model info's `"classes": [...]` into `out` (at most `size`
 * bytes with the NUL): just enough JSON reading for plain labels such as the penguin species.
 * Returns 0 when there is no such class. */
static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
    return p;
}

static int class_name(const char *info, size_t index, char *out, size_t size) {
    const char *p = strstr(info, "\"classes\"");
    if (!p || size == 0) return 0;
    p = skip_space(p + strlen("\"classes\""));
    if (*p != ':') return 0;
    p = skip_space(p + 1);
    if (*p != '[') return 0;
    for (size_t i = 0;; i++) {
        p = skip_space(p + 1); /* past the '[' or the ',' */
        if (*p != '"') return 0; /* the end of the list, or not a string */
        p++;
        size_t n = 0;
        while (*p && *p != '"') {
            if (*p == '\\' && p[1]) p++; /* an escaped character: keep it as it is */
            if (i == index && n + 1 < size) out[n++] = *p;
            p++;
        }
        if (*p != '"') return 0;
        if (i == index) {
            out[n] = '\0';
            return 1;
        }
        p = skip_space(p + 1);
        if (*p != ',') return 0;
    }
}

int main(int argc, char **argv) {
    const char *csv = argc > 1 ? argv[1] : "data/penguins.csv";
    const char *target = argc > 2 ? argv[2] : "species";
    const char *model_path = argc > 3 ? argv[3] : "penguins.amlis";
    int ok = 0;
    AmlisDataset *data = NULL;
    AmlisModel *model = NULL, *loaded = NULL;
    AmlisPredictor *predictor = NULL;
    double *predicted = NULL;
    char *info = NULL;

    if (amlis_abi_version() != AMLIS_ABI_VERSION) {
        fprintf(stderr, "libamlis ABI %u does not match amlis.h ABI %u\n", amlis_abi_version(),
                (unsigned)AMLIS_ABI_VERSION);
        return 1;
    }
    printf("amlis %s (ABI %u)\n", amlis_version(), amlis_abi_version());

    /* 1. Read the data: numeric and categorical columns are recognized by themselves, empty
     * cells are missing values. */
    char options[256];
    snprintf(options, sizeof options, "{\"target\": \"%s\"}", target);
    TRY(amlis_dataset_from_csv(csv, options, &data));
    size_t n_rows = 0, n_cols = 0;
    TRY(amlis_dataset_shape(data, &n_rows, &n_cols));
    printf("%s: %zu rows, %zu feature columns, target `%s`\n", csv, n_rows, n_cols, target);

    /* 2. Train: missing values imputed, categories one-hot encoded, numbers standardized,
     * then a multinomial logistic regression (scikit-learn's names and defaults). */
    const char *config =
        "{\"model\": {\"type\": \"logistic_regression\", \"C\": 1.0, \"max_iter\": 1000},"
        " \"preprocess\": [{\"type\": \"simple_imputer\", \"strategy\": \"most_frequent\"},"
        "                  {\"type\": \"one_hot_encoder\", \"handle_unknown\": \"ignore\"},"
        "                  {\"type\": \"standard_scaler\"}],"
        " \"random_state\": 42}";
    TRY(amlis_train(data, config, &model));
    size_t n_features = 0, n_classes = 0;
    TRY(amlis_model_n_features(model, &n_features));
    TRY(amlis_model_n_classes(model, &n_classes));
    printf("trained: %zu input columns, %zu classes\n", n_features, n_classes);
    if (n_classes == 0 || n_classes > MAX_CLASSES) {
        fprintf(stderr, "this example expects a classification target of at most %d classes\n",
                MAX_CLASSES);
        goto done;
    }

    /* The model describes itself as JSON (two calls: size, then text), with its class labels:
     * class index i of AMLIS_OUTPUT_VALUE is classes[i]. */
    size_t info_len = 0;
    TRY(amlis_model_info_json(model, NULL, 0, &info_len));
    info = malloc(info_len);
    if (!info) goto done;
    TRY(amlis_model_info_json(model, info, info_len, &info_len));
    char classes[MAX_CLASSES][32];
    printf("classes:");
    for (size_t c = 0; c < n_classes; c++) {
        if (!class_name(info, c, classes[c], sizeof classes[c])) strcpy(classes[c], "?");
        printf(" %s", classes[c]);
    }
    printf("\n");

    /* 3. Accuracy on the training set (any scikit-learn scorer name works), and how the
     * predicted classes of the whole file are spread. */
    double accuracy = 0;
    TRY(amlis_evaluate(model, data, "accuracy", &accuracy));
    printf("training accuracy: %.4f (%zu of %zu rows)\n", accuracy,
           (size_t)(accuracy * (double)n_rows + 0.5), n_rows);
    predicted = malloc(n_rows * sizeof(double));
    if (!predicted) goto done;
    TRY(amlis_predict_dataset(model, AMLIS_OUTPUT_VALUE, data, predicted, n_rows));
    size_t counts[MAX_CLASSES] = {0};
    for (size_t i = 0; i < n_rows; i++) {
        size_t c = (size_t)predicted[i];
        if (c < n_classes) counts[c]++;
    }
    printf("predicted:");
    for (size_t c = 0; c < n_classes; c++) printf(" %s %zu", classes[c], counts[c]);
    printf("\n");

    /* 4. Save (binary; a path ending in .json saves JSON) and load back. */
    TRY(amlis_model_save_file(model, model_path));
    TRY(amlis_model_load_file(model_path, &loaded));
    printf("saved and loaded %s\n", model_path);

    /* 5. Predict raw rows in input-column order: a categorical cell is the index of its
     * category in the model info's `feature_kinds` (here island: 0 Torgersen, 1 Biscoe,
     * 2 Dream; sex: 0 male, 1 female), a missing value is NAN. */
    double rows[2][7] = {
        {1, 46.1, 13.2, 211.0, 4500.0, 1, 2007},
        {0, 39.1, 18.7, 181.0, 3750.0, 0, 2007},
    };
    if (n_features != 7) {
        fprintf(stderr, "this part of the example expects the 7 penguin inputs\n");
        goto done;
    }
    double batch[2 * MAX_CLASSES];
    TRY(amlis_predict(loaded, AMLIS_OUTPUT_PROBA, &rows[0][0], 2, 7, batch, 2 * n_classes));
    for (size_t i = 0; i < 2; i++) {
        printf("row %zu probabilities:", i);
        for (size_t c = 0; c < n_classes; c++)
            printf(" %s %.3f", classes[c], batch[i * n_classes + c]);
        printf("\n");
    }

    /* Single rows: one predictor per thread, no allocation per call. */
    TRY(amlis_predictor_new(loaded, AMLIS_OUTPUT_VALUE, &predictor));
    for (size_t i = 0; i < 2; i++) {
        double cls = 0;
        TRY(amlis_predict_row(predictor, rows[i], 7, &cls, 1));
        printf("row %zu class: %s\n", i, (size_t)cls < n_classes ? classes[(size_t)cls] : "?");
    }

    /* Errors come back as statuses with a message, e.g. a row of the wrong width: */
    double one;
    AmlisStatus st = amlis_predict_row(predictor, rows[0], 6, &one, 1);
    printf("a 6-column row: status %d: %s\n", (int)st, amlis_last_error_message());
    ok = st == AMLIS_SHAPE_MISMATCH;

done:
    amlis_predictor_free(predictor);
    amlis_model_free(loaded);
    amlis_model_free(model);
    amlis_dataset_free(data);
    free(predicted);
    free(info);
    return ok ? 0 : 1;
}
