/*
 * The export's columns, from the compiled questionnaire: which questions leave (never the
 * identifying, free-text or e-mail ones), how each becomes columns (a single choice one string
 * column of option codes, a multiple choice one 0/1 column per option, a number one numeric
 * column), and one response's cells. Pure code: the writers and the codebook read the layout.
 */
#ifndef SURVEY_ADMIN_EXPORT_LAYOUT_H
#define SURVEY_ADMIN_EXPORT_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "export_anon.h"
#include "qdef.h"

#define EXPORT_NAME_BYTES 65 /* SPSS allows 64 bytes per variable name */

enum export_col_kind {
    EXPORT_COL_PID,        /* the pseudonymous id: string */
    EXPORT_COL_FIELD_WEEK, /* the week of fieldwork the response arrived in, 1 = the first */
    EXPORT_COL_SINGLE,     /* a single-choice question: string, the chosen option's code */
    EXPORT_COL_OPTION,     /* one option of a multiple-choice question: 1 chosen, 0 not */
    EXPORT_COL_NUMBER,     /* a number question, top-coded */
};

/* Why a cell holds no answer. The codes are the cells' values (as text in string columns),
 * declared as missing values in the .sav file; none can be an option code or a valid answer. */
enum export_missing {
    EXPORT_ANSWER = 0,
    EXPORT_NOT_ASKED = -1,  /* skip logic did not show the question */
    EXPORT_NO_ANSWER = -2,  /* shown, not answered (optional questions) */
    EXPORT_SUPPRESSED = -3, /* a quasi-identifier's value withheld for k-anonymity */
};

struct export_column {
    char name[EXPORT_NAME_BYTES];
    enum export_col_kind kind;
    int question; /* index into def->questions, -1 for PID and FIELD_WEEK */
    int option;   /* EXPORT_COL_OPTION: index into the question's options, else -1 */
    int qi;       /* index among the quasi-identifiers, or -1 */
    /* Bit j: when quasi-identifier j is suppressed in a record, so is this cell (-3): its own
     * quasi-identifier, and every one that the question's show_if refers to, directly or
     * through another question's showing, whose value the cell's "not asked" or answer would
     * otherwise give away. 0: never suppressed. */
    uint8_t suppress_with;
    bool is_string;
    size_t width; /* string columns: the longest value in bytes */
    int decimals; /* numeric columns */
    /* Numeric columns: the codes -1, -2 (and -3) mark missing answers; false for a number
     * question whose answers may be negative, which then leaves missing cells empty. */
    bool missing_codes;
};

/* A question that is not exported, and why (for the codebook). */
struct export_excluded {
    int question;
    const char *reason; /* "identifying", "free text", "e-mail address" */
};

struct export_layout {
    const struct qdef *def;
    struct export_column *cols;
    size_t n_cols;
    int qi_question[EXPORT_MAX_QI]; /* the quasi-identifiers, in the order of asking */
    size_t n_qi;
    /* Bit i of qi_follows[j]: quasi-identifier j is shown through i (export_kanon_new). */
    uint8_t qi_follows[EXPORT_MAX_QI];
    struct export_excluded *excluded;
    size_t n_excluded;
};

/* One cell: str for string columns (the option code or the pseudonym), num for numeric ones;
 * when missing is not EXPORT_ANSWER both hold the missing code. */
struct export_cell {
    enum export_missing missing;
    const char *str;
    double num;
};

/*
 * Lay out the columns of def (which must outlive the layout). False with a reason in err when
 * the questionnaire cannot be exported (more quasi-identifiers than supported, a column name
 * that would repeat) or memory runs out.
 */
bool export_layout_build(struct export_layout *l, const struct qdef *def, char *err,
                         size_t err_size) __attribute__((warn_unused_result));
void export_layout_free(struct export_layout *l);

/* The missing-code text of a string cell ("-1", "-2", "-3"). */
const char *export_missing_text(enum export_missing m);

/*
 * The quasi-identifiers' values of one response (answers as stored, shown as computed by
 * qval_shown): option indexes, or EXPORT_QI_NO_ANSWER / EXPORT_QI_NOT_ASKED.
 */
void export_layout_qi_values(const struct export_layout *l, const cJSON *answers, const bool *shown,
                             uint8_t *values);

/* What export_layout_cells did besides filling cells. */
struct export_row_counts {
    size_t *top_coded; /* per question (def->n_questions): answers set to their cap */
    size_t following;  /* cells of other columns suppressed with a quasi-identifier */
};

/*
 * The cells of one response: qi_values after suppression (export_kanon_apply), the pseudonym,
 * the field week, caps[def->n_questions] (the top-coding caps, NaN for none). A cell whose
 * column is suppressed with a suppressed quasi-identifier (suppress_with) is -3 whatever was
 * stored, not asked or not answered included, so that -3 says nothing of the answer. Returns
 * false with a reason in err when the stored answer does not fit the questionnaire.
 */
bool export_layout_cells(const struct export_layout *l, const cJSON *answers, const bool *shown,
                         const uint8_t *qi_values, const char *pid, int field_week,
                         const double *caps, struct export_cell *cells,
                         struct export_row_counts *counts, char *err, size_t err_size)
    __attribute__((warn_unused_result));

#endif
