/*
 * The export's file formats, written one row at a time as the rows arrive: CSV (RFC 4180,
 * UTF-8, cells a spreadsheet would run as formulas neutralised), JSON Lines, and SPSS .sav
 * through ReadStat (variable and value labels, measure levels, missing-value codes, UTF-8).
 * Only the .sav writer needs the number of rows in advance.
 */
#ifndef SURVEY_ADMIN_EXPORT_WRITE_H
#define SURVEY_ADMIN_EXPORT_WRITE_H

#include <stdbool.h>
#include <stdio.h>

#include "export_layout.h"

enum export_format { EXPORT_CSV, EXPORT_JSONL, EXPORT_SAV };

struct export_writer_opts {
    enum export_format format;
    bool excel;             /* CSV: a UTF-8 byte order mark first, for Excel */
    int lang;               /* labels' language: an index into def->languages */
    const char *file_label; /* .sav: the file label (cut to 64 bytes) */
    long long timestamp;    /* .sav: the file's creation time, seconds since 1970 (UTC) */
};

struct export_writer;

/*
 * Start writing to out (which the caller keeps and closes): the header or the dictionary.
 * NULL with a reason in err on failure. n_rows is the exact number of rows to come.
 */
struct export_writer *export_writer_begin(const struct export_layout *layout,
                                          const struct export_writer_opts *opts, FILE *out,
                                          long n_rows, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* Write one row of layout->n_cols cells. False with a reason in err on failure. */
bool export_writer_row(struct export_writer *w, const struct export_cell *cells, char *err,
                       size_t err_size) __attribute__((warn_unused_result));

/* Finish the file (the .sav writer checks that n_rows rows came) and free w. False with a
 * reason in err; w is freed either way. */
bool export_writer_end(struct export_writer *w, char *err, size_t err_size)
    __attribute__((warn_unused_result));

/* Free a writer without finishing its file (after an error); NULL does nothing. */
void export_writer_free(struct export_writer *w);

/*
 * One CSV cell: a text that a spreadsheet would read as a formula (starting with "=", "+",
 * "-", "@", a tab or a carriage return, and not a plain number such as -1 or -2.5) gets a
 * leading apostrophe (OWASP's advice); then RFC 4180 quoting.
 */
void export_csv_cell(FILE *out, const char *s);

/* A number as the CSV and JSON Lines cells write it: with decimals digits after the point
 * ("%.*f"), so the codebook can print a cap exactly as the data hold it. */
void export_number_text(double v, int decimals, char *buf, size_t size);

/* The labels of the missing codes and of 0/1 columns, in lang ("ko", else English). */
const char *export_missing_label(enum export_missing m, const char *lang);
const char *export_chosen_label(bool chosen, const char *lang);

/* The longest prefix of s within max_bytes that ends on a UTF-8 character boundary. */
size_t export_utf8_cut(const char *s, size_t max_bytes);

#endif
