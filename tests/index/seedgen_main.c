/*
 * index_seedgen: the seed study's generated responses (seedgen.h). Without arguments it prints
 * the counts table and checks it against PRODUCT.md (exit 0 when everything matches, 1 when not);
 * --jsonl prints the 444 submissions, one JSON object a line, for a look or for other tools.
 */
#include <stdio.h>
#include <string.h>

#include "seedgen.h"

static struct seed_response responses[SEED_TOTAL];

int main(int argc, char **argv)
{
    bool jsonl = argc > 1 && strcmp(argv[1], "--jsonl") == 0;
    if (argc > 2 || (argc == 2 && !jsonl)) {
        fprintf(stderr, "usage: %s [--jsonl]\n", argv[0]);
        return 2;
    }
    seedgen_generate(responses, 0);
    bool ok = seedgen_check(responses);
    if (jsonl) {
        for (int i = 0; i < SEED_TOTAL; i++) {
            printf("{\"submission_id\":\"%s\",\"answers\":%s}\n", responses[i].submission_id,
                   responses[i].answers);
        }
    } else {
        seedgen_print_table(responses, stdout);
        printf("%s\n",
               ok ? "every indicator rounds to the published percentage" : "MISMATCH: see above");
    }
    return ok ? 0 : 1;
}
