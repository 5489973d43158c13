/*
 * Compiled questionnaire definitions: the loader turns a JSON definition (FORMAT.md) into a
 * read-only struct qdef, or lists every problem that keeps it from compiling. The compiled form
 * is what the daemon validates against and what the index and the export read.
 */
#ifndef SURVEY_QDEF_H
#define SURVEY_QDEF_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "qproblem.h"

#define QDEF_MAX_LANGUAGES 8
#define QDEF_MAX_QUESTIONS 500
#define QDEF_MAX_OPTIONS 200

enum qdef_type { QDEF_SINGLE, QDEF_MULTIPLE, QDEF_NUMBER, QDEF_TEXT, QDEF_EMAIL };

/* A text in every language of the questionnaire, indexed like qdef.languages. */
struct qdef_text {
    const char *by_lang[QDEF_MAX_LANGUAGES]; /* NULL only for an absent optional text */
};

struct qdef_option {
    const char *code;
    struct qdef_text label;
    bool exclusive;
};

enum qdef_cond_kind {
    QDEF_COND_EQUALS_CODE, /* single: chosen code == code */
    QDEF_COND_IN,          /* single: chosen code in codes */
    QDEF_COND_INCLUDES,    /* multiple: code among the chosen */
    QDEF_COND_EQUALS_NUM,  /* number == num */
    QDEF_COND_GTE,         /* number >= num */
    QDEF_COND_LTE,         /* number <= num */
    QDEF_COND_ANSWERED,    /* answered == flag */
    QDEF_COND_ALL,
    QDEF_COND_ANY,
    QDEF_COND_NOT,
};

struct qdef_cond {
    enum qdef_cond_kind kind;
    int question; /* index into qdef.questions for leaf kinds */
    int option;   /* EQUALS_CODE, INCLUDES: index into the question's options */
    int *options; /* IN: option indexes */
    size_t n_options;
    double num;                  /* EQUALS_NUM, GTE, LTE */
    bool flag;                   /* ANSWERED */
    struct qdef_cond **children; /* ALL, ANY (n_children), NOT (one) */
    size_t n_children;
};

struct qdef_question {
    const char *id;
    enum qdef_type type;
    struct qdef_text label;
    struct qdef_text help;
    int section; /* index into qdef.sections, or 0 for the implicit one */
    bool required;
    bool identifying;
    bool quasi_identifier;
    struct qdef_cond *show_if; /* NULL: always shown */
    struct qdef_option *options;
    size_t n_options;
    int min_choices, max_choices;
    bool has_min, has_max;
    double min, max;
    int decimals;
    int max_length; /* code points */
};

struct qdef_section {
    const char *id; /* "" for the implicit section */
    struct qdef_text title;
};

struct qdef_rule {
    const char *id;
    struct qdef_cond *screen_out_if;
    struct qdef_text message;
    int stop_after; /* index of the last question the rule refers to */
};

struct qdef_indicator {
    const char *id;
    struct qdef_text label;
    struct qdef_cond *when;
    int *questions; /* the questions `when` refers to, each once */
    size_t n_questions;
    bool multi_select; /* refers to a multiple question: "% of respondents" */
};

struct qdef_item {
    int question;
    double *scores; /* one per option of the question */
};

struct qdef_pillar {
    const char *id;
    struct qdef_text label;
    struct qdef_item *items;
    size_t n_items;
};

struct qdef {
    const char *id;
    const char *version;
    const char *languages[QDEF_MAX_LANGUAGES];
    size_t n_languages;
    int default_language;
    struct qdef_text title;
    struct qdef_text description;
    struct qdef_section *sections;
    size_t n_sections; /* at least 1 */
    struct qdef_question *questions;
    size_t n_questions;
    struct qdef_rule *rules;
    size_t n_rules;
    struct qdef_indicator *indicators;
    size_t n_indicators;
    bool has_composite;
    const char *composite_id;
    struct qdef_text composite_label;
    double composite_min, composite_max;
    struct qdef_pillar *pillars;
    size_t n_pillars;

    /* private */
    cJSON *root; /* strings above point into this tree */
    int *by_id;  /* question indexes sorted by id, for qdef_find_question */
};

/*
 * Compile len bytes of JSON text. Returns the definition, owned by the caller (qdef_free), or
 * NULL with every problem found added to problems (the list must be initialised). A NULL return
 * with no problem added means the allocation failed.
 */
struct qdef *qdef_load(const char *text, size_t len, struct qproblems *problems)
    __attribute__((warn_unused_result));

/* Free a definition; qdef_free(NULL) does nothing. */
void qdef_free(struct qdef *def);

/* Index of the question with this id, or -1. */
int qdef_find_question(const struct qdef *def, const char *id);

/* Index of the option with this code in question q, or -1. */
int qdef_find_option(const struct qdef *def, int q, const char *code);

/* Index of a language tag in def->languages, or -1. */
int qdef_find_language(const struct qdef *def, const char *lang);

/* The text in lang (a language index), falling back to the default language. */
const char *qdef_text_get(const struct qdef *def, const struct qdef_text *text, int lang);

const char *qdef_type_name(enum qdef_type type);

/* True when s is an identifier of FORMAT.md: 1-64 of a-z, 0-9, "_" (and "-" when allow_dash),
 * starting with a letter. */
bool qdef_is_identifier(const char *s, bool allow_dash);

#endif
