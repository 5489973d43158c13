/*
 * Files the CLI reads and writes: definitions and margins read whole with a size bound, and
 * the invitation file created exclusively (mode 0600, never overwriting) and made durable;
 * durable renames of temporary files over their targets.
 */
#ifndef SURVEY_ADMIN_FILEIO_H
#define SURVEY_ADMIN_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The bound on definitions and margins files. */
#define FILEIO_MAX_INPUT_BYTES (1u << 20)

/*
 * Read the whole file at path, at most max_bytes. On success *data (NUL-terminated, owned by
 * the caller: free) and *len are set; on failure prints why on stderr and returns false.
 */
bool fileio_read(const char *path, size_t max_bytes, char **data, size_t *len)
    __attribute__((warn_unused_result));

/*
 * Create path for writing, failing if it exists (O_EXCL), with mode 0600 whatever the umask.
 * Returns the stream or NULL after printing why.
 */
FILE *fileio_create_private(const char *path) __attribute__((warn_unused_result));

/*
 * Flush, fsync and close a stream from fileio_create_private, then fsync its directory so the
 * file survives a crash. The stream is closed either way; prints why and returns false on error.
 */
bool fileio_finish(FILE *fp, const char *path) __attribute__((warn_unused_result));

/*
 * Rename from over to (both in the same directory, as a temporary file and its target) and then
 * fsync that directory, so that after a crash the target is either the old file or the new
 * one, and the new one once this returns true. Prints why and returns false on error (the
 * rename may have happened when only the fsync failed).
 */
bool fileio_rename(const char *from, const char *to) __attribute__((warn_unused_result));

#endif
