/* amlis_dataset_from_csv: a real file, a missing file, bad options. argv[1] = data directory. */
#include <stdlib.h>

#include "check.h"

#define SENTINEL ((AmlisDataset *)(uintptr_t)0x5A5A)

static char path_buf[4096];

static const char *data_file(const char *dir, const char *name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
    return path_buf;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "data";
    AmlisDataset *d = NULL;
    AmlisDataset *out = SENTINEL;
    size_t rows = 0, cols = 0;

    /* Iris with its target: 150 rows, 4 feature columns. */
    CHECK_STATUS(amlis_dataset_from_csv(data_file(dir, "iris.csv"), "{\"target\": \"species\"}", &d),
                 AMLIS_OK, "");
    if (d) {
        CHECK_STATUS(amlis_dataset_shape(d, &rows, &cols), AMLIS_OK, "");
        CHECK(rows == 150 && cols == 4);
        amlis_dataset_free(d);
    }
    /* Without options every column is a feature. */
    d = NULL;
    CHECK_STATUS(amlis_dataset_from_csv(data_file(dir, "iris.csv"), NULL, &d), AMLIS_OK, "");
    if (d) {
        CHECK_STATUS(amlis_dataset_shape(d, &rows, &cols), AMLIS_OK, "");
        CHECK(rows == 150 && cols == 5);
        amlis_dataset_free(d);
    }

    /* A missing file: AMLIS_IO_ERROR naming the path. */
    CHECK_STATUS(amlis_dataset_from_csv("/nonexistent/amlis/missing.csv", NULL, &out),
                 AMLIS_IO_ERROR, "/nonexistent/amlis/missing.csv");
    CHECK(out == SENTINEL);

    /* Bad options: AMLIS_CONFIG_ERROR naming the key. */
    const char *iris = data_file(dir, "iris.csv");
    CHECK_STATUS(amlis_dataset_from_csv(iris, "{\"target\": ", &out), AMLIS_CONFIG_ERROR,
                 "not valid JSON");
    CHECK_STATUS(amlis_dataset_from_csv(iris, "{\"tagret\": \"species\"}", &out),
                 AMLIS_CONFIG_ERROR, "`tagret`");
    CHECK_STATUS(amlis_dataset_from_csv(iris, "{\"target\": 3}", &out), AMLIS_CONFIG_ERROR,
                 "`target`");
    CHECK_STATUS(amlis_dataset_from_csv(iris, "{\"target\": \"species\", \"task\": \"ranking\"}",
                                        &out),
                 AMLIS_CONFIG_ERROR, "`task`");
    CHECK_STATUS(amlis_dataset_from_csv(iris, "{\"delimiter\": \";;\"}", &out), AMLIS_CONFIG_ERROR,
                 "`delimiter`");
    CHECK_STATUS(amlis_dataset_from_csv(iris, "[\"species\"]", &out), AMLIS_CONFIG_ERROR,
                 "JSON object");
    CHECK_STATUS(amlis_dataset_from_csv(iris, "{\"target\": \"no_such_column\"}", &out),
                 AMLIS_CONFIG_ERROR, "no_such_column");
    CHECK(out == SENTINEL);

    /* A path that is not UTF-8. */
    CHECK_STATUS(amlis_dataset_from_csv("data/\xff.csv", NULL, &out), AMLIS_INVALID_ARGUMENT,
                 "`path` is not valid UTF-8");
    CHECK(out == SENTINEL);
    return check_report("csv");
}
