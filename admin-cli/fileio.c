/*
 * Bounded whole-file reads and exclusive, durable writes. Every error names the file and the
 * system's reason, in PostgreSQL's words ("could not open file \"x\": ...").
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

bool fileio_read(const char *path, size_t max_bytes, char **data, size_t *len)
{
    bool ok = false;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cli_error("could not open file \"%s\": %s", path, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cli_error("could not stat file \"%s\": %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        cli_error("could not read file \"%s\": %s", path, strerror(EISDIR));
        goto out;
    }
    /* One byte more than allowed tells a file at the bound from a longer one. */
    buf = malloc(max_bytes + 2);
    if (buf == NULL) {
        cli_error("out of memory");
        goto out;
    }
    size_t n = 0;
    while (n <= max_bytes) {
        ssize_t got = read(fd, buf + n, max_bytes + 1 - n);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            cli_error("could not read file \"%s\": %s", path, strerror(errno));
            goto out;
        }
        if (got == 0) {
            break;
        }
        n += (size_t)got;
    }
    if (n > max_bytes) {
        cli_error("file \"%s\" is larger than %zu bytes", path, max_bytes);
        goto out;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
    ok = true;
out:
    free(buf);
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

FILE *fileio_create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        cli_error("could not create file \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    /* The umask may only narrow the mode; make it exactly 0600 anyway. */
    if (fchmod(fd, 0600) != 0) {
        cli_error("could not set the mode of file \"%s\": %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    FILE *fp = fdopen(fd, "w");
    if (fp == NULL) {
        cli_error("could not open file \"%s\": %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return NULL;
    }
    return fp;
}

/* fsync the directory holding path, so that the new entry itself is durable. */
static bool fileio_sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof dir) {
            cli_error("could not sync the directory of \"%s\": %s", path, strerror(ENAMETOOLONG));
            return false;
        }
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        cli_error("could not open directory \"%s\": %s", dir, strerror(errno));
        return false;
    }
    bool ok = fsync(fd) == 0 || errno == EINVAL; /* some file systems cannot sync a directory */
    if (!ok) {
        cli_error("could not fsync directory \"%s\": %s", dir, strerror(errno));
    }
    close(fd);
    return ok;
}

bool fileio_finish(FILE *fp, const char *path)
{
    bool ok = true;
    if (fflush(fp) != 0 || ferror(fp)) {
        cli_error("could not write file \"%s\": %s", path, strerror(errno));
        ok = false;
    } else if (fsync(fileno(fp)) != 0) {
        cli_error("could not fsync file \"%s\": %s", path, strerror(errno));
        ok = false;
    }
    if (fclose(fp) != 0 && ok) {
        cli_error("could not close file \"%s\": %s", path, strerror(errno));
        ok = false;
    }
    return ok && fileio_sync_dir(path);
}

bool fileio_rename(const char *from, const char *to)
{
    if (rename(from, to) != 0) {
        cli_error("could not rename file \"%s\" to \"%s\": %s", from, to, strerror(errno));
        return false;
    }
    /* The new name is in the directory only once the directory is on disk. */
    return fileio_sync_dir(to);
}
