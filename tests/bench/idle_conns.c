/*
 * idle_conns: opens N TLS connections to HOST:PORT, completes every handshake, then keeps them
 * open and idle, so that the server's memory per idle connection can be measured.
 *
 *   idle_conns HOST PORT [N] [--parallel P] [--timeout-s S] [--hold-s S]
 *
 * Handshakes run non-blocking, at most P (default 64) at a time. When all N are established it
 * prints "ready N" on stdout (flushed) and holds them until SIGTERM/SIGINT or --hold-s seconds
 * (default 300), then closes them all and exits 0. It gives up with exit 1 if the N connections
 * are not all up within --timeout-s seconds (default 120), or on any failed connection.
 * Part of tests/bench/run.sh; build: cc -O2 -o idle_conns idle_conns.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: idle_conns HOST PORT [N] [--parallel P] [--timeout-s S] [--hold-s S]\n");
    exit(2);
}

struct slot {
    int fd;
    SSL *ssl;
    short events;
};

int main(int argc, char **argv)
{
    const char *host = NULL, *port = NULL;
    long n = 10000, parallel = 64, timeout_s = 120, hold_s = 300;
    int pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--parallel") == 0 && i + 1 < argc) {
            parallel = atol(argv[++i]);
        } else if (strcmp(argv[i], "--timeout-s") == 0 && i + 1 < argc) {
            timeout_s = atol(argv[++i]);
        } else if (strcmp(argv[i], "--hold-s") == 0 && i + 1 < argc) {
            hold_s = atol(argv[++i]);
        } else if (argv[i][0] == '-') {
            usage();
        } else if (pos == 0) {
            host = argv[i], pos++;
        } else if (pos == 1) {
            port = argv[i], pos++;
        } else if (pos == 2) {
            n = atol(argv[i]), pos++;
        } else {
            usage();
        }
    }
    if (host == NULL || port == NULL || n < 1 || parallel < 1 || timeout_s < 1 || hold_s < 1) {
        usage();
    }

    /* One descriptor per connection, plus a few. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)n + 64) {
            fprintf(stderr, "idle_conns: the descriptor limit (%llu) is below N + 64; raise ulimit -n\n",
                    (unsigned long long)rl.rlim_cur);
            return 1;
        }
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "idle_conns: %s:%s: %s\n", host, port, gai_strerror(rc));
        return 1;
    }

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        fprintf(stderr, "idle_conns: SSL_CTX_new failed\n");
        return 1;
    }
    /* The server's certificate is self-signed: this tool measures, it does not authenticate. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    static const unsigned char alpn[] = "\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    SSL **done = calloc((size_t)n, sizeof *done);
    int *done_fd = calloc((size_t)n, sizeof *done_fd);
    struct slot *slots = calloc((size_t)parallel, sizeof *slots);
    struct pollfd *pfds = calloc((size_t)parallel, sizeof *pfds);
    if (done == NULL || done_fd == NULL || slots == NULL || pfds == NULL) {
        fprintf(stderr, "idle_conns: out of memory\n");
        return 1;
    }
    for (long i = 0; i < parallel; i++) {
        slots[i].fd = -1;
    }

    long n_done = 0, started = 0, active = 0;
    double deadline = now_s() + (double)timeout_s;
    int failed = 0;
    while (n_done < n && !stop && !failed) {
        /* Fill free slots with new connections. */
        for (long i = 0; i < parallel && started < n; i++) {
            if (slots[i].fd >= 0) {
                continue;
            }
            int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                fprintf(stderr, "idle_conns: socket: %s (after %ld connections)\n",
                        strerror(errno), n_done);
                failed = 1;
                break;
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
                fprintf(stderr, "idle_conns: connect: %s (after %ld connections)\n",
                        strerror(errno), n_done);
                close(fd);
                failed = 1;
                break;
            }
            SSL *ssl = SSL_new(ctx);
            if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
                fprintf(stderr, "idle_conns: SSL_new failed\n");
                close(fd);
                failed = 1;
                break;
            }
            SSL_set_connect_state(ssl);
            slots[i] = (struct slot){fd, ssl, POLLOUT};
            started++;
            active++;
        }
        if (failed) {
            break;
        }
        for (long i = 0; i < parallel; i++) {
            pfds[i].fd = slots[i].fd;
            pfds[i].events = slots[i].events;
            pfds[i].revents = 0;
        }
        double left = deadline - now_s();
        if (left <= 0) {
            fprintf(stderr, "idle_conns: only %ld of %ld connections were up after %ld s\n",
                    n_done, n, timeout_s);
            failed = 1;
            break;
        }
        int pr = poll(pfds, (nfds_t)parallel, left > 1 ? 1000 : (int)(left * 1000) + 1);
        if (pr < 0 && errno != EINTR) {
            perror("idle_conns: poll");
            failed = 1;
            break;
        }
        for (long i = 0; i < parallel && pr > 0; i++) {
            if (slots[i].fd < 0 || pfds[i].revents == 0) {
                continue;
            }
            int r = SSL_do_handshake(slots[i].ssl);
            if (r == 1) {
                done[n_done] = slots[i].ssl;
                done_fd[n_done] = slots[i].fd;
                n_done++;
                slots[i].fd = -1;
                slots[i].ssl = NULL;
                active--;
                continue;
            }
            int e = SSL_get_error(slots[i].ssl, r);
            if (e == SSL_ERROR_WANT_READ) {
                slots[i].events = POLLIN;
            } else if (e == SSL_ERROR_WANT_WRITE) {
                slots[i].events = POLLOUT;
            } else {
                char reason[256];
                ERR_error_string_n(ERR_get_error(), reason, sizeof reason);
                fprintf(stderr, "idle_conns: handshake failed after %ld connections: %s (%s)\n",
                        n_done, reason, e == SSL_ERROR_SYSCALL ? strerror(errno) : "tls");
                failed = 1;
                break;
            }
        }
    }
    freeaddrinfo(ai);
    for (long i = 0; i < parallel; i++) {
        if (slots[i].fd >= 0) {
            SSL_free(slots[i].ssl);
            close(slots[i].fd);
        }
    }
    if (!failed && !stop) {
        printf("ready %ld\n", n_done);
        fflush(stdout);
        double until = now_s() + (double)hold_s;
        while (!stop && now_s() < until) {
            /* Sleep until a signal or the hold time is over; read nothing, send nothing. */
            struct timespec ts = {1, 0};
            nanosleep(&ts, NULL);
        }
    }
    for (long i = 0; i < n_done; i++) {
        SSL_free(done[i]);
        close(done_fd[i]);
    }
    printf("closed %ld\n", n_done);
    fflush(stdout);
    free(done);
    free(done_fd);
    free(slots);
    free(pfds);
    SSL_CTX_free(ctx);
    return failed ? 1 : 0;
}
