/*
 * How wide text is on screen: Hangul, CJK and full-width forms take two columns (a terminal's
 * cells, or half-width characters in a chart label), everything else one. Used to align the
 * index table and to wrap the HTML report's chart labels.
 */
#ifndef SURVEY_ADMIN_TEXTWIDTH_H
#define SURVEY_ADMIN_TEXTWIDTH_H

/* The width (1 or 2) of the UTF-8 character at s, and its length in bytes; a malformed
 * sequence counts as one column and ends where it breaks. */
int textwidth_char(const unsigned char *s, int *bytes);

/* The width of the NUL-terminated UTF-8 string s. */
int textwidth(const char *s);

#endif
