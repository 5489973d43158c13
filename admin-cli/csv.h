/*
 * CSV output (RFC 4180) shared by the commands that write it (invite, index).
 */
#ifndef SURVEY_ADMIN_CSV_H
#define SURVEY_ADMIN_CSV_H

#include <stdio.h>

/* One field: quoted when it holds a comma, a quote or a line break, quotes doubled. */
void csv_field(FILE *out, const char *s);

#endif
