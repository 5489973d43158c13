/*
 * libFuzzer target for surveyd's HTTP request-head parser: any bytes, two head bounds, and the
 * invariants a caller relies on (a parsed head lies inside the input; errors carry a status).
 */
#include <stdint.h>
#include <stdlib.h>

#include "httpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inside(const uint8_t *data, size_t size, const char *p, size_t len)
{
    if (len > 0 && ((const uint8_t *)p < data || (const uint8_t *)p + len > data + size)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t bounds[] = {8192, 256};
    for (size_t b = 0; b < 2; b++) {
        struct httpparse_head head;
        size_t head_len = 0;
        int status = 0;
        const char *reason = NULL;
        enum httpparse_result r =
            httpparse_head((const char *)data, size, bounds[b], &head, &head_len, &status, &reason);
        if (r == HTTPPARSE_ERROR && (status < 400 || status > 599 || reason == NULL)) {
            abort();
        }
        if (r != HTTPPARSE_DONE) {
            continue;
        }
        if (head_len > size || head_len > bounds[b] || head.n_headers > HTTPPARSE_MAX_HEADERS) {
            abort();
        }
        /* An absolute-form target without a path is given as a static "/". */
        if (!(head.target_len == 1 && head.target[0] == '/')) {
            check_inside(data, head_len, head.target, head.target_len);
        }
        for (size_t i = 0; i < head.n_headers; i++) {
            check_inside(data, head_len, head.headers[i].name, head.headers[i].name_len);
            check_inside(data, head_len, head.headers[i].value, head.headers[i].value_len);
        }
    }
    return 0;
}
