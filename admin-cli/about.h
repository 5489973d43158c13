/*
 * A wave's study description (wave create --about FILE, wave about WAVE FILE): what a report
 * and a codebook must disclose about how the data were collected (AAPOR's disclosure code),
 * which the responses themselves cannot tell. Field dates are not in it: they come from the
 * wave's own opened_at and closed_at.
 */
#ifndef SURVEY_ADMIN_ABOUT_H
#define SURVEY_ADMIN_ABOUT_H

#include <stddef.h>

#include "qproblem.h"

/* The keys of a study description, in the order reports print them. */
enum about_field {
    ABOUT_TITLE,
    ABOUT_SPONSOR,
    ABOUT_CONDUCTED_BY,
    ABOUT_POPULATION,
    ABOUT_SAMPLE,
    ABOUT_MODE,
    ABOUT_NOTES,
    ABOUT_CONTACT,
    ABOUT_N_FIELDS
};

struct about_key {
    const char *key;
    int required;
    const char *label_en;
    const char *label_ko;
};

extern const struct about_key about_keys[ABOUT_N_FIELDS];

/*
 * Check len bytes of a study description: a JSON object whose keys are those of about_keys,
 * the required ones present, each value either a non-empty string or an object mapping language
 * codes ("ko", "en", ...) to non-empty strings; nothing else. Every problem found is added to
 * problems (path a JSON pointer into the document).
 */
void about_check(const char *text, size_t len, struct qproblems *problems);

#endif
