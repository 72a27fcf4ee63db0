/* The library's ABI version equals the header's; the version string looks like x.y.z. */
#include <ctype.h>

#include "check.h"

int main(void) {
    CHECK(amlis_abi_version() == AMLIS_ABI_VERSION);
    const char *v = amlis_version();
    CHECK(v != NULL);
    CHECK(v != NULL && isdigit((unsigned char)v[0]));
    int dots = 0;
    for (const char *p = v; p && *p; p++) {
        CHECK(isdigit((unsigned char)*p) || *p == '.' || *p == '-' || isalpha((unsigned char)*p));
        dots += *p == '.';
    }
    CHECK(dots >= 2);
    CHECK(amlis_version() == v); /* static: the same pointer every time */
    const char *msg = amlis_last_error_message();
    CHECK(msg != NULL && msg[0] == '\0'); /* no call has failed yet */
    return check_report("version");
}
