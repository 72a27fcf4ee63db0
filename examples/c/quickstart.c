/* amlis from C: train a model from a CSV file with a JSON config (preprocessing included),
 * measure its accuracy on the training set by hand, save it, load it back, and predict a
 * batch and single rows. Every call's status is checked, and a failure prints the message.
 *
 *   cargo build
 *   cc -std=c11 -Iinclude examples/c/quickstart.c -Ltarget/debug -lamlis -o quickstart
 *   LD_LIBRARY_PATH=target/debug ./quickstart data/penguins.csv species /tmp/penguins.amlis
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

/* The class labels of the target column, read by hand: the first field of each line after
 * the header when the target is the first column (as in data/penguins.csv). Returns the
 * number of rows, or 0 when the file cannot be read. */
static size_t read_labels(const char *path, char (*labels)[32], size_t max_rows) {
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[1024];
    size_t n = 0;
    if (!fgets(line, sizeof line, f)) n = 0; /* the header */
    while (n < max_rows && fgets(line, sizeof line, f)) {
        size_t len = strcspn(line, ",\r\n");
        if (len >= 32) len = 31;
        memcpy(labels[n], line, len);
        labels[n][len] = '\0';
        n++;
    }
    fclose(f);
    return n;
}

static int by_string(const void *a, const void *b) { return strcmp(a, b); }

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
    char(*labels)[32] = NULL;

    if (amlis_abi_version() != AMLIS_ABI_VERSION) {
        fprintf(stderr, "libamlis ABI %u does not match amlis.h ABI %u\n", amlis_abi_version(),
                (unsigned)AMLIS_ABI_VERSION);
        return 1;
    }
    printf("amlis %s (ABI %u)\n", amlis_version(), amlis_abi_version());

    /* 1. Read the data: numeric and categorical columns are recognized by themselves. */
    char options[256];
    snprintf(options, sizeof options, "{\"target\": \"%s\"}", target);
    TRY(amlis_dataset_from_csv(csv, options, &data));
    size_t n_rows = 0, n_cols = 0;
    TRY(amlis_dataset_shape(data, &n_rows, &n_cols));
    printf("%s: %zu rows, %zu feature columns, target `%s`\n", csv, n_rows, n_cols, target);

    /* 2. Train: missing values imputed, categories one-hot encoded, numbers standardized. */
    const char *config =
        "{\"model\": {\"type\": \"dummy_classifier\", \"strategy\": \"most_frequent\"},"
        " \"preprocess\": [{\"type\": \"simple_imputer\", \"strategy\": \"most_frequent\"},"
        "                  {\"type\": \"one_hot_encoder\", \"handle_unknown\": \"ignore\"},"
        "                  {\"type\": \"standard_scaler\"}],"
        " \"random_state\": 42}";
    TRY(amlis_train(data, config, &model));
    size_t n_features = 0, n_classes = 0;
    TRY(amlis_model_n_features(model, &n_features));
    TRY(amlis_model_n_classes(model, &n_classes));
    printf("trained: %zu input columns, %zu classes\n", n_features, n_classes);

    /* The model describes itself as JSON (two calls: size, then text). */
    size_t info_len = 0;
    TRY(amlis_model_info_json(model, NULL, 0, &info_len));
    info = malloc(info_len);
    if (!info) goto done;
    TRY(amlis_model_info_json(model, info, info_len, &info_len));
    printf("model info: %zu bytes of JSON\n", info_len);

    /* 3. Accuracy on the training set, by hand: predicted class indices against the labels,
     * whose classes are sorted as scikit-learn sorts them (byte order). */
    predicted = malloc(n_rows * sizeof(double));
    labels = malloc(n_rows * sizeof *labels);
    if (!predicted || !labels) goto done;
    TRY(amlis_predict_dataset(model, AMLIS_OUTPUT_VALUE, data, predicted, n_rows));
    if (read_labels(csv, labels, n_rows) != n_rows) {
        fprintf(stderr, "cannot read the labels of %s\n", csv);
        goto done;
    }
    char classes[MAX_CLASSES][32];
    size_t k = 0;
    for (size_t i = 0; i < n_rows; i++) {
        size_t c = 0;
        while (c < k && strcmp(classes[c], labels[i]) != 0) c++;
        if (c == k && k < MAX_CLASSES) strcpy(classes[k++], labels[i]);
    }
    qsort(classes, k, sizeof classes[0], by_string);
    size_t hits = 0;
    for (size_t i = 0; i < n_rows; i++) {
        size_t c = (size_t)predicted[i];
        if (c < k && strcmp(classes[c], labels[i]) == 0) hits++;
    }
    printf("training accuracy: %.4f (%zu of %zu)\n", (double)hits / (double)n_rows, hits, n_rows);

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
        for (size_t c = 0; c < n_classes; c++) printf(" %.3f", batch[i * n_classes + c]);
        printf("\n");
    }

    /* Single rows: one predictor per thread, no allocation per call. */
    TRY(amlis_predictor_new(loaded, AMLIS_OUTPUT_VALUE, &predictor));
    for (size_t i = 0; i < 2; i++) {
        double cls = 0;
        TRY(amlis_predict_row(predictor, rows[i], 7, &cls, 1));
        printf("row %zu class: %s\n", i, (size_t)cls < k ? classes[(size_t)cls] : "?");
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
    free(labels);
    free(info);
    return ok ? 0 : 1;
}
