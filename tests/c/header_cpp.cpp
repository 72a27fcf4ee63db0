// The header compiles as C++17 (-Wall -Werror) and its declarations link and run from C++.
#include "amlis.h"

#include <cstdio>
#include <cstring>

int main() {
    static_assert(AMLIS_ABI_VERSION >= 1, "ABI version");
    static_assert(sizeof(AmlisOutput) == 4, "AmlisOutput is a uint32_t");
    AmlisStatus ok = AMLIS_OK;
    AmlisOutput kind = AMLIS_OUTPUT_PROBA;
    AmlisDataset *d = nullptr;
    const double x[2] = {1.0, 2.0};
    if (amlis_abi_version() != AMLIS_ABI_VERSION || kind != 1) return 1;
    if (amlis_dataset_from_dense(x, 1, 2, nullptr, 0, &d) != ok || d == nullptr) return 2;
    size_t rows = 0, cols = 0;
    if (amlis_dataset_shape(d, &rows, &cols) != AMLIS_OK || rows != 1 || cols != 2) return 3;
    amlis_dataset_free(d);
    if (amlis_dataset_shape(nullptr, &rows, &cols) != AMLIS_NULL_ARGUMENT) return 4;
    if (std::strlen(amlis_last_error_message()) == 0) return 5;
    std::printf("header_cpp: amlis %s, ABI %u\n", amlis_version(), amlis_abi_version());
    return 0;
}
