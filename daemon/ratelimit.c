/*
 * A fixed-size table of token buckets keyed by client address (IPv6 addresses by their /64, so
 * one host cannot dodge the limit by rotating through its own prefix). The table never grows:
 * a full probe sequence evicts its least recently used bucket, whose address starts afresh.
 */
#include "ratelimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_SIZE 8192 /* buckets per worker; a power of two */
#define PROBES 8

struct bucket {
    uint8_t key[16];
    bool used;
    double tokens;
    uint64_t last_ms;
};

struct ratelimit {
    double rate_per_ms;
    double burst;
    uint64_t seed;
    struct bucket table[TABLE_SIZE];
};

struct ratelimit *ratelimit_new(double rate_per_s, double burst)
{
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (rl != NULL) {
        rl->rate_per_ms = rate_per_s / 1000.0;
        rl->burst = burst < 1 ? 1 : burst;
        /* The seed only spreads addresses; it need not be secret to keep lookups cheap. */
        rl->seed = (uint64_t)(uintptr_t)rl * 0x9e3779b97f4a7c15u;
    }
    return rl;
}

static void make_key(const struct sockaddr_storage *addr, uint8_t key[16])
{
    memset(key, 0, 16);
    if (addr->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
        memcpy(key, &in->sin_addr, 4);
    } else if (addr->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
        const uint8_t *a = in6->sin6_addr.s6_addr;
        static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, v4mapped, 12) == 0) {
            memcpy(key, a + 12, 4);
        } else {
            memcpy(key, a, 8);
            key[15] = 6;
        }
    }
}

static uint64_t hash_key(const uint8_t key[16], uint64_t seed)
{
    uint64_t h = seed ^ 0xcbf29ce484222325u;
    for (int i = 0; i < 16; i++) {
        h = (h ^ key[i]) * 0x100000001b3u;
    }
    return h ^ (h >> 29);
}

bool ratelimit_take(struct ratelimit *rl, const struct sockaddr_storage *addr, uint64_t now_ms,
                    long *retry_after_s)
{
    if (rl->rate_per_ms <= 0) {
        return true;
    }
    uint8_t key[16];
    make_key(addr, key);
    uint64_t h = hash_key(key, rl->seed);
    struct bucket *b = NULL, *victim = NULL;
    for (int i = 0; i < PROBES; i++) {
        struct bucket *c = &rl->table[(h + (uint64_t)i) & (TABLE_SIZE - 1)];
        if (c->used && memcmp(c->key, key, 16) == 0) {
            b = c;
            break;
        }
        /* Prefer a free bucket, else the least recently used one. */
        if (victim == NULL || (victim->used && (!c->used || c->last_ms < victim->last_ms))) {
            victim = c;
        }
    }
    if (b == NULL) {
        b = victim;
        memcpy(b->key, key, 16);
        b->used = true;
        b->tokens = rl->burst;
        b->last_ms = now_ms;
    }
    double elapsed = now_ms > b->last_ms ? (double)(now_ms - b->last_ms) : 0;
    b->tokens += elapsed * rl->rate_per_ms;
    if (b->tokens > rl->burst) {
        b->tokens = rl->burst;
    }
    b->last_ms = now_ms;
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return true;
    }
    double wait_ms = (1 - b->tokens) / rl->rate_per_ms;
    long s = (long)(wait_ms / 1000.0) + 1;
    *retry_after_s = s;
    return false;
}

void ratelimit_free(struct ratelimit *rl)
{
    free(rl);
}
