/*
 * Population margins for a wave (wave create --margins FILE): checked against the wave's
 * questionnaire before anything is stored, so that raking can never meet an unknown category.
 */
#ifndef SURVEY_ADMIN_MARGINS_H
#define SURVEY_ADMIN_MARGINS_H

#include <stddef.h>

#include "qdef.h"
#include "qproblem.h"

/*
 * Check len bytes of margins JSON against def: an object whose every key is a `single`
 * question and whose every value is an object giving, for every option of that question, a
 * finite number > 0 (a share or a count), and nothing else. Every problem found is added to
 * problems (path a JSON pointer into the margins document); the margins are valid when none was.
 */
void margins_check(const struct qdef *def, const char *text, size_t len,
                   struct qproblems *problems);

#endif
