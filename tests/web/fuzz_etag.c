/*
 * libFuzzer target for surveyd's If-None-Match matcher (httpparse_etag_matches): any bytes as
 * the field value against a fixed strong tag, and the invariants a caller relies on (no read
 * outside the value; the tag itself, alone or at the end of a list, always matches).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char etag[] = "\"0123456789abcdef0123\"";
    /* An exact-size copy, so that ASan sees any read past the value. */
    char *field = malloc(size ? size : 1);
    if (field == NULL) {
        return 0;
    }
    memcpy(field, data, size);
    (void)httpparse_etag_matches(field, size, etag);
    free(field);

    char *list = malloc(size + sizeof etag + 2);
    if (list == NULL) {
        return 0;
    }
    memcpy(list, data, size);
    memcpy(list + size, ", ", 2);
    memcpy(list + size + 2, etag, sizeof etag - 1);
    /* Without a quote in the fuzz input (a stray one may open a quoted string that swallows
     * what follows), the tag after ", " is an element of its own and must match. */
    if (memchr(data, '"', size) == NULL &&
        !httpparse_etag_matches(list, size + 2 + sizeof etag - 1, etag)) {
        abort();
    }
    if (!httpparse_etag_matches(etag, sizeof etag - 1, etag)) {
        abort();
    }
    free(list);
    return 0;
}
