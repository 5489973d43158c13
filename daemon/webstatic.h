/*
 * The respondent's web form as surveyd serves it: the files of web/, embedded at build time
 * (embed_web.cmake), looked up by name. Pure code: nothing here touches the file system, so no
 * request path can reach a file that was not built in.
 */
#ifndef SURVEYD_WEBSTATIC_H
#define SURVEYD_WEBSTATIC_H

#include <stdbool.h>
#include <stddef.h>

struct webstatic_file {
    const char *name;         /* e.g. "form.js" */
    const char *content_type; /* with its charset where it has one */
    const char *etag;         /* strong, quoted: a prefix of the SHA-256 of the bytes */
    const char *data;         /* static; NUL-terminated after len bytes */
    size_t len;
    bool html; /* a page (served by its own route, with the Content-Security-Policy) */
};

/* The embedded file with this exact name, or NULL. */
const struct webstatic_file *webstatic_find(const char *name, size_t name_len);

#endif
