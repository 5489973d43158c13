/*
 * Checking a study description. The texts are free prose (they are printed as written, in
 * the reader's language when given per language), so the check is about shape: known keys
 * only, so a misspelt "sponser" is an error rather than a silently missing disclosure.
 */
#include "about.h"

#include <stdio.h>
#include <string.h>

#include "qdef.h"
#include "qjson.h"

#define ABOUT_MAX_TEXT 4000

const struct about_key about_keys[ABOUT_N_FIELDS] = {
    [ABOUT_TITLE] = {"title", 1, "Study", "조사명"},
    [ABOUT_SPONSOR] = {"sponsor", 1, "Sponsor", "의뢰"},
    [ABOUT_CONDUCTED_BY] = {"conducted_by", 1, "Conducted by", "수행"},
    [ABOUT_POPULATION] = {"population", 1, "Population", "모집단"},
    [ABOUT_SAMPLE] = {"sample", 1, "Sample and recruitment", "표본 및 모집 방법"},
    [ABOUT_MODE] = {"mode", 0, "Mode", "조사 방법"},
    [ABOUT_NOTES] = {"notes", 0, "Notes", "참고"},
    [ABOUT_CONTACT] = {"contact", 0, "Contact", "문의"},
};

static int about_find(const char *key)
{
    for (int i = 0; i < ABOUT_N_FIELDS; i++) {
        if (strcmp(about_keys[i].key, key) == 0) {
            return i;
        }
    }
    return -1;
}

static void about_check_text(const cJSON *v, const char *path, struct qproblems *problems)
{
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
        qproblems_add(problems, path, "wrong_type", "must be a non-empty string");
    } else if (qjson_utf8_length(v->valuestring) > ABOUT_MAX_TEXT) {
        qproblems_add(problems, path, "too_long", "at most %d characters", ABOUT_MAX_TEXT);
    }
}

static void about_check_value(const char *key, const cJSON *v, struct qproblems *problems)
{
    char path[300], esc[256];
    if (qproblems_pointer_escape(esc, sizeof esc, key) != 0) {
        snprintf(esc, sizeof esc, "(a long key)");
    }
    snprintf(path, sizeof path, "/%s", esc);
    if (!cJSON_IsObject(v)) {
        about_check_text(v, path, problems);
        return;
    }
    if (v->child == NULL) {
        qproblems_add(problems, path, "wrong_type",
                      "must be a string, or an object mapping languages to strings");
    }
    for (const cJSON *t = v->child; t != NULL; t = t->next) {
        char tpath[600], tesc[256];
        if (qproblems_pointer_escape(tesc, sizeof tesc, t->string) != 0) {
            snprintf(tesc, sizeof tesc, "(a long key)");
        }
        snprintf(tpath, sizeof tpath, "%s/%s", path, tesc);
        if (!qdef_is_identifier(t->string, true) || strlen(t->string) > 16) {
            qproblems_add(problems, tpath, "invalid_language",
                          "a language code such as \"ko\" or \"en\" was expected");
        } else {
            about_check_text(t, tpath, problems);
        }
    }
}

void about_check(const char *text, size_t len, struct qproblems *problems)
{
    static const struct qjson_limits limits = QJSON_LIMITS_DEFAULT;
    enum qjson_error err = QJSON_OK;
    size_t offset = 0;
    cJSON *root = qjson_parse(text, len, &limits, &err, &offset);
    if (root == NULL) {
        qproblems_add(problems, "", "invalid_json", "not valid JSON: %s at byte %zu",
                      qjson_strerror(err), offset);
        return;
    }
    if (!cJSON_IsObject(root)) {
        qproblems_add(problems, "", "wrong_type", "a study description must be a JSON object");
        cJSON_Delete(root);
        return;
    }
    for (const cJSON *v = root->child; v != NULL; v = v->next) {
        if (about_find(v->string) < 0) {
            char path[300], esc[256];
            if (qproblems_pointer_escape(esc, sizeof esc, v->string) != 0) {
                snprintf(esc, sizeof esc, "(a long key)");
            }
            snprintf(path, sizeof path, "/%s", esc);
            qproblems_add(problems, path, "unknown_key",
                          "not a key of a study description (title, sponsor, conducted_by, "
                          "population, sample, mode, notes, contact)");
        } else {
            about_check_value(v->string, v, problems);
        }
    }
    for (int i = 0; i < ABOUT_N_FIELDS; i++) {
        if (about_keys[i].required &&
            cJSON_GetObjectItemCaseSensitive(root, about_keys[i].key) == NULL) {
            qproblems_add(problems, "", "required", "\"%s\" is required", about_keys[i].key);
        }
    }
    cJSON_Delete(root);
}
