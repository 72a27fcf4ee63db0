/* Minimal assertions for the C ABI tests: each failed check prints where and counts. */
#ifndef AMLIS_TEST_CHECK_H
#define AMLIS_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "amlis.h"

static int check_failures = 0;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                       \
        }                                                                           \
    } while (0)

/* Checks a status and, for a failure, that the message is non-empty and contains `needle`. */
#define CHECK_STATUS(call, expected, needle)                                            \
    do {                                                                                \
        AmlisStatus check_st_ = (call);                                                 \
        const char *check_msg_ = amlis_last_error_message();                            \
        if (check_st_ != (expected)) {                                                  \
            fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s); message: %s\n",   \
                    __FILE__, __LINE__, #call, (int)check_st_, (int)(expected),         \
                    #expected, check_msg_);                                             \
            check_failures++;                                                           \
        } else if ((expected) != AMLIS_OK &&                                            \
                   (check_msg_ == NULL || check_msg_[0] == '\0' ||                      \
                    strstr(check_msg_, (needle)) == NULL)) {                            \
            fprintf(stderr, "%s:%d: %s: message \"%s\" lacks \"%s\"\n", __FILE__,       \
                    __LINE__, #call, check_msg_ ? check_msg_ : "(NULL)", (needle));     \
            check_failures++;                                                           \
        } else if ((expected) == AMLIS_OK && check_msg_[0] != '\0') {                   \
            fprintf(stderr, "%s:%d: %s succeeded but left message \"%s\"\n", __FILE__,  \
                    __LINE__, #call, check_msg_);                                       \
            check_failures++;                                                           \
        }                                                                               \
    } while (0)

static int check_report(const char *name) {
    if (check_failures) {
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
        return 1;
    }
    printf("%s: all checks passed\n", name);
    return 0;
}

#endif
