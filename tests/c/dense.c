/* amlis_dataset_from_dense: shapes, checked size arithmetic, y_len mismatch, empty input. */
#include "check.h"

#define SENTINEL ((AmlisDataset *)(uintptr_t)0x5A5A)

int main(void) {
    double x[6] = {1, 2, 3, 4, 5, 6};
    double y[3] = {2.5, -1, 2.5};
    AmlisDataset *d = NULL;
    size_t rows = 0, cols = 0;

    /* Features and targets. */
    CHECK_STATUS(amlis_dataset_from_dense(x, 3, 2, y, 3, &d), AMLIS_OK, "");
    CHECK(d != NULL);
    CHECK_STATUS(amlis_dataset_shape(d, &rows, &cols), AMLIS_OK, "");
    CHECK(rows == 3 && cols == 2);
    amlis_dataset_free(d);

    /* Features only: y NULL, y_len ignored. */
    d = NULL;
    CHECK_STATUS(amlis_dataset_from_dense(x, 2, 3, NULL, 12345, &d), AMLIS_OK, "");
    CHECK_STATUS(amlis_dataset_shape(d, &rows, &cols), AMLIS_OK, "");
    CHECK(rows == 2 && cols == 3);
    amlis_dataset_free(d);

    /* n_rows * n_cols overflows size_t: AMLIS_INVALID_ARGUMENT, nothing read or written. */
    AmlisDataset *out = SENTINEL;
    CHECK_STATUS(amlis_dataset_from_dense(x, SIZE_MAX / 2 + 1, 2, NULL, 0, &out),
                 AMLIS_INVALID_ARGUMENT, "`n_rows` * `n_cols`");
    CHECK(out == SENTINEL);
    /* ... and so does a product whose byte size exceeds the address space. */
    CHECK_STATUS(amlis_dataset_from_dense(x, SIZE_MAX / 8, 2, NULL, 0, &out),
                 AMLIS_INVALID_ARGUMENT, "overflows");
    CHECK(out == SENTINEL);

    /* y_len != n_rows: AMLIS_SHAPE_MISMATCH. */
    CHECK_STATUS(amlis_dataset_from_dense(x, 3, 2, y, 2, &out), AMLIS_SHAPE_MISMATCH,
                 "y_len = 2");
    CHECK(out == SENTINEL);

    /* No rows or no columns. */
    CHECK_STATUS(amlis_dataset_from_dense(x, 0, 2, NULL, 0, &out), AMLIS_INVALID_ARGUMENT,
                 "n_rows = 0");
    CHECK_STATUS(amlis_dataset_from_dense(x, 3, 0, NULL, 0, &out), AMLIS_INVALID_ARGUMENT,
                 "n_cols = 0");
    CHECK(out == SENTINEL);

    /* A success clears the previous message. */
    CHECK_STATUS(amlis_dataset_from_dense(x, 1, 6, NULL, 0, &d), AMLIS_OK, "");
    CHECK(amlis_last_error_message()[0] == '\0');
    amlis_dataset_free(d);
    return check_report("dense");
}
