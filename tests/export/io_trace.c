/*
 * A preload library for the export tests (export_command_rules):
 * - with $EXPORT_IO_TRACE, appends every rename() and fsync() the process makes to that file,
 *   one line each ("rename FROM TO", "fsync PATH", the descriptor's path as /proc/self/fd
 *   shows it), then does the call: a rename is durable only when its directory is fsynced
 *   after it;
 * - with $EXPORT_SIGNAL_IN_TMP_NAME, the first snprintf() of a temporary name ("%s.tmp.%ld")
 *   raises SIGTERM while the name stands half written: the target's name, without its
 *   ".tmp.PID" yet, as a signal arriving during the formatting would find it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void trace(const char *what, const char *a, const char *b)
{
    const char *log = getenv("EXPORT_IO_TRACE");
    if (log == NULL) {
        return;
    }
    char line[3 * PATH_MAX];
    int n = snprintf(line, sizeof line, "%s %s%s%s\n", what, a, b ? " " : "", b ? b : "");
    if (n < 0 || (size_t)n >= sizeof line) {
        return;
    }
    int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
        close(fd);
    }
}

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) =
        (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    int saved = errno;
    trace("rename", from, to);
    errno = saved;
    return real(from, to);
}

int fsync(int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int saved = errno;
    char proc[64], path[PATH_MAX];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(proc, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    int r = real(fd);
    trace("fsync", path, NULL);
    errno = r == 0 ? saved : errno;
    return r;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    static int raised;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (!raised && n > 0 && (size_t)n < size && strcmp(fmt, "%s.tmp.%ld") == 0 &&
        getenv("EXPORT_SIGNAL_IN_TMP_NAME") != NULL) {
        char *tail = strrchr(buf, '.'); /* the PID */
        tail = tail != NULL && tail - buf >= 4 ? tail - 4 : NULL;
        if (tail != NULL && strncmp(tail, ".tmp.", 5) == 0) {
            raised = 1;
            char saved = *tail;
            *tail = '\0';
            raise(SIGTERM);
            *tail = saved;
        }
    }
    return n;
}
