/*
 * Per-client-address token buckets for submissions, one table per worker (no locks). With N
 * workers each holds rate/N and burst/N, which is the configured total when an address's
 * connections spread over the workers, as SO_REUSEPORT's hashing does.
 */
#ifndef SURVEYD_RATELIMIT_H
#define SURVEYD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct ratelimit;

/* rate_per_s tokens per second up to burst; rate 0 makes every check pass. */
struct ratelimit *ratelimit_new(double rate_per_s, double burst)
    __attribute__((warn_unused_result));

/* Take a token for addr at now_ms (monotonic). False when none is left; then *retry_after_s
 * says when one will be. */
bool ratelimit_take(struct ratelimit *rl, const struct sockaddr_storage *addr, uint64_t now_ms,
                    long *retry_after_s);

void ratelimit_free(struct ratelimit *rl);

#endif
