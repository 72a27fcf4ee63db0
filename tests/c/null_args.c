/* Every pointer argument of every export, passed NULL, gives AMLIS_NULL_ARGUMENT with a message
 * naming the argument and the function, and leaves every out-parameter untouched. */
#include "check.h"

#define SENTINEL ((AmlisDataset *)(uintptr_t)0x5A5A)

int main(int argc, char **argv) {
    const char *csv = argc > 1 ? argv[1] : "data/iris.csv";
    double x[6] = {1, 2, 3, 4, 5, 6};
    double y[3] = {0, 1, 0};
    AmlisDataset *out = SENTINEL;

    /* amlis_dataset_from_csv(path, options_json, out); options_json may be NULL. */
    CHECK_STATUS(amlis_dataset_from_csv(NULL, NULL, &out), AMLIS_NULL_ARGUMENT,
                 "amlis_dataset_from_csv: argument `path` is NULL");
    CHECK(out == SENTINEL);
    CHECK_STATUS(amlis_dataset_from_csv(csv, NULL, NULL), AMLIS_NULL_ARGUMENT,
                 "argument `out` is NULL");

    /* amlis_dataset_from_dense(x, n_rows, n_cols, y, y_len, out); y may be NULL. */
    CHECK_STATUS(amlis_dataset_from_dense(NULL, 3, 2, y, 3, &out), AMLIS_NULL_ARGUMENT,
                 "amlis_dataset_from_dense: argument `x` is NULL");
    CHECK(out == SENTINEL);
    CHECK_STATUS(amlis_dataset_from_dense(x, 3, 2, y, 3, NULL), AMLIS_NULL_ARGUMENT,
                 "argument `out` is NULL");

    /* amlis_dataset_shape(d, n_rows, n_cols) */
    AmlisDataset *d = NULL;
    CHECK_STATUS(amlis_dataset_from_dense(x, 3, 2, y, 3, &d), AMLIS_OK, "");
    size_t rows = 777, cols = 888;
    CHECK_STATUS(amlis_dataset_shape(NULL, &rows, &cols), AMLIS_NULL_ARGUMENT,
                 "amlis_dataset_shape: argument `d` is NULL");
    CHECK_STATUS(amlis_dataset_shape(d, NULL, &cols), AMLIS_NULL_ARGUMENT,
                 "amlis_dataset_shape: argument `n_rows` is NULL");
    CHECK_STATUS(amlis_dataset_shape(d, &rows, NULL), AMLIS_NULL_ARGUMENT,
                 "amlis_dataset_shape: argument `n_cols` is NULL");
    CHECK(rows == 777 && cols == 888);
    CHECK_STATUS(amlis_dataset_shape(d, &rows, &cols), AMLIS_OK, "");
    CHECK(rows == 3 && cols == 2);

    /* Free functions accept NULL and leave the last error alone. */
    amlis_dataset_free(NULL);
    amlis_dataset_free(d);
    return check_report("null_args");
}
