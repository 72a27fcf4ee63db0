/* amlis from C: print the version, read a CSV file into a dataset, print its shape, free it.
 *
 *   cargo build
 *   cc -std=c11 -Iinclude examples/c/quickstart.c -Ltarget/debug -lamlis -o quickstart
 *   LD_LIBRARY_PATH=target/debug ./quickstart data/penguins.csv species
 */
#include <stdio.h>

#include "amlis.h"

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "data/iris.csv";
    const char *target = argc > 2 ? argv[2] : "species";

    if (amlis_abi_version() != AMLIS_ABI_VERSION) {
        fprintf(stderr, "libamlis ABI %u does not match amlis.h ABI %u\n", amlis_abi_version(),
                (unsigned)AMLIS_ABI_VERSION);
        return 1;
    }
    printf("amlis %s (ABI %u)\n", amlis_version(), amlis_abi_version());

    char options[512];
    snprintf(options, sizeof options, "{\"target\": \"%s\"}", target);
    AmlisDataset *data = NULL;
    AmlisStatus status = amlis_dataset_from_csv(path, options, &data);
    if (status != AMLIS_OK) {
        fprintf(stderr, "error %d: %s\n", (int)status, amlis_last_error_message());
        return 1;
    }
    size_t n_rows = 0, n_cols = 0;
    status = amlis_dataset_shape(data, &n_rows, &n_cols);
    if (status != AMLIS_OK) {
        fprintf(stderr, "error %d: %s\n", (int)status, amlis_last_error_message());
        amlis_dataset_free(data);
        return 1;
    }
    printf("%s: %zu rows, %zu feature columns, target `%s`\n", path, n_rows, n_cols, target);
    amlis_dataset_free(data);
    return 0;
}
