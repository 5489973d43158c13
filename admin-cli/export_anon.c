/*
 * Pseudonyms (HMAC-SHA-256 through EVP_MAC, one context per export) and k-anonymity by local
 * suppression. The plan works on distinct combinations of quasi-identifier values, each with
 * its count; every record of one combination is treated alike, which is what a record-level
 * plan would do anyway, since such records cannot be told apart by the quasi-identifiers.
 */
#include "export_anon.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define PID_DOMAIN "survey-export-pid-v1"

struct export_pid {
    EVP_MAC *mac;
    EVP_MAC_CTX *ctx;
};

struct export_pid *export_pid_new(const unsigned char *key, size_t key_len)
{
    struct export_pid *p = calloc(1, sizeof *p);
    if (p == NULL) {
        return NULL;
    }
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    p->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    p->ctx = p->mac ? EVP_MAC_CTX_new(p->mac) : NULL;
    if (p->ctx == NULL || EVP_MAC_init(p->ctx, key, key_len, params) != 1) {
        export_pid_free(p);
        return NULL;
    }
    return p;
}

void export_pid_free(struct export_pid *p)
{
    if (p == NULL) {
        return;
    }
    EVP_MAC_CTX_free(p->ctx);
    EVP_MAC_free(p->mac);
    free(p);
}

bool export_pid_make(struct export_pid *p, const char *wave, const char *submission_id,
                     char out[EXPORT_PID_HEX_BYTES])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t n = 0;
    /* NULL key: the key given at export_pid_new stays in force. */
    if (EVP_MAC_init(p->ctx, NULL, 0, NULL) != 1 ||
        EVP_MAC_update(p->ctx, (const unsigned char *)PID_DOMAIN, sizeof PID_DOMAIN) != 1 ||
        EVP_MAC_update(p->ctx, (const unsigned char *)wave, strlen(wave) + 1) != 1 ||
        EVP_MAC_update(p->ctx, (const unsigned char *)submission_id, strlen(submission_id)) != 1 ||
        EVP_MAC_final(p->ctx, mac, &n, sizeof mac) != 1 || n < (EXPORT_PID_HEX_BYTES - 1) / 2) {
        return false;
    }
    for (size_t i = 0; i < (EXPORT_PID_HEX_BYTES - 1) / 2; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 15];
    }
    out[EXPORT_PID_HEX_BYTES - 1] = '\0';
    return true;
}

/* ---- a small open-addressing map from packed combinations to counts --------------------- */

struct slot {
    uint64_t key; /* the values, one byte each */
    size_t count;
    uint8_t mask; /* bit j: quasi-identifier j is suppressed */
    bool used;
};

struct map {
    struct slot *slots;
    size_t cap, n; /* cap a power of two, at most half full */
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static struct slot *map_find(const struct map *m, uint64_t key)
{
    for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->slots[i].used || m->slots[i].key == key) {
            return &m->slots[i];
        }
    }
}

static bool map_init(struct map *m, size_t cap)
{
    m->slots = calloc(cap, sizeof *m->slots);
    m->cap = cap;
    m->n = 0;
    return m->slots != NULL;
}

/* The slot for key, added (count 0) when absent; NULL when out of memory. */
static struct slot *map_get(struct map *m, uint64_t key)
{
    if (2 * (m->n + 1) > m->cap) {
        struct map bigger;
        if (!map_init(&bigger, m->cap * 2)) {
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (m->slots[i].used) {
                *map_find(&bigger, m->slots[i].key) = m->slots[i];
            }
        }
        bigger.n = m->n;
        free(m->slots);
        *m = bigger;
    }
    struct slot *s = map_find(m, key);
    if (!s->used) {
        s->used = true;
        s->key = key;
        m->n++;
    }
    return s;
}

struct export_kanon {
    size_t n_qi;
    uint8_t follows[EXPORT_MAX_QI];
    struct map combos;
    size_t freq[EXPORT_MAX_QI][256]; /* records per value of each quasi-identifier */
    size_t records;
};

static uint64_t pack(const uint8_t *values, size_t n)
{
    uint64_t key = 0;
    for (size_t j = 0; j < n; j++) {
        key |= (uint64_t)values[j] << (8 * j);
    }
    return key;
}

static uint8_t value_at(uint64_t key, size_t j)
{
    return (uint8_t)(key >> (8 * j));
}

static uint64_t suppressed_key(uint64_t key, uint8_t mask, size_t n_qi)
{
    for (size_t j = 0; j < n_qi; j++) {
        if (mask & (1u << j)) {
            key |= (uint64_t)EXPORT_QI_SUPPRESSED << (8 * j);
        }
    }
    return key;
}

struct export_kanon *export_kanon_new(size_t n_qi, const uint8_t *follows)
{
    if (n_qi == 0 || n_qi > EXPORT_MAX_QI) {
        return NULL;
    }
    struct export_kanon *t = calloc(1, sizeof *t);
    if (t == NULL || !map_init(&t->combos, 64)) {
        free(t);
        return NULL;
    }
    t->n_qi = n_qi;
    for (size_t j = 0; follows != NULL && j < n_qi; j++) {
        t->follows[j] = follows[j];
    }
    return t;
}

/* mask with every quasi-identifier that follows a suppressed one suppressed as well, through
 * chains (j follows i, l follows j). */
static uint8_t with_followers(const struct export_kanon *t, uint8_t mask)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t j = 0; j < t->n_qi; j++) {
            if (!(mask & (1u << j)) && (mask & t->follows[j])) {
                mask |= (uint8_t)(1u << j);
                changed = true;
            }
        }
    }
    return mask;
}

void export_kanon_free(struct export_kanon *t)
{
    if (t != NULL) {
        free(t->combos.slots);
        free(t);
    }
}

bool export_kanon_add(struct export_kanon *t, const uint8_t *values)
{
    struct slot *s = map_get(&t->combos, pack(values, t->n_qi));
    if (s == NULL) {
        return false;
    }
    s->count++;
    for (size_t j = 0; j < t->n_qi; j++) {
        t->freq[j][values[j]]++;
    }
    t->records++;
    return true;
}

/* The group sizes under the current masks: a map from suppressed keys to record counts. */
static bool group_sizes(const struct export_kanon *t, struct map *groups)
{
    if (!map_init(groups, 64)) {
        return false;
    }
    for (size_t i = 0; i < t->combos.cap; i++) {
        const struct slot *c = &t->combos.slots[i];
        if (!c->used) {
            continue;
        }
        struct slot *g = map_get(groups, suppressed_key(c->key, c->mask, t->n_qi));
        if (g == NULL) {
            free(groups->slots);
            return false;
        }
        g->count += c->count;
    }
    return true;
}

static void group_stats(const struct map *groups, size_t *n, size_t *smallest)
{
    *n = 0;
    *smallest = 0;
    for (size_t i = 0; i < groups->cap; i++) {
        const struct slot *g = &groups->slots[i];
        if (g->used && g->count > 0) {
            *smallest = *n == 0 || g->count < *smallest ? g->count : *smallest;
            (*n)++;
        }
    }
}

/* The least informative value of combination c not yet suppressed: the one most records
 * share; on a tie the later quasi-identifier. -1 when all are suppressed. */
static int least_informative(const struct export_kanon *t, const struct slot *c)
{
    int best = -1;
    size_t best_freq = 0;
    for (size_t j = 0; j < t->n_qi; j++) {
        size_t f = t->freq[j][value_at(c->key, j)];
        if (!(c->mask & (1u << j)) && (best < 0 || f >= best_freq)) {
            best = (int)j;
            best_freq = f;
        }
    }
    return best;
}

bool export_kanon_plan(struct export_kanon *t, size_t k, struct export_risk *risk)
{
    const uint8_t all = (uint8_t)((1u << t->n_qi) - 1);
    const uint64_t all_key = suppressed_key(0, all, t->n_qi);
    struct map groups = {0};
    memset(risk, 0, sizeof *risk);
    risk->k = k;
    risk->records = t->records;

    for (size_t i = 0; i < t->combos.cap; i++) {
        t->combos.slots[i].mask = 0;
        if (t->combos.slots[i].used && t->combos.slots[i].count < k) {
            risk->groups_below_k_before++;
            risk->records_below_k_before += t->combos.slots[i].count;
        }
    }
    if (!group_sizes(t, &groups)) {
        return false;
    }
    group_stats(&groups, &risk->groups_before, &risk->smallest_before);

    /* Rounds: every combination whose group is too small loses one more value. Each round adds
     * a bit to some mask or ends the loop, so there are at most n_qi * combinations rounds. */
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < t->combos.cap; i++) {
            struct slot *c = &t->combos.slots[i];
            if (!c->used || c->mask == all ||
                map_find(&groups, suppressed_key(c->key, c->mask, t->n_qi))->count >= k) {
                continue;
            }
            c->mask = with_followers(t, (uint8_t)(c->mask | (1u << least_informative(t, c))));
            changed = true;
        }
        free(groups.slots);
        if (!group_sizes(t, &groups)) {
            return false;
        }
    }

    /* What is left below k is the group with every value suppressed: it takes in the smallest
     * other groups, whole (so none of them drops below k), until it has k records. */
    for (;;) {
        const struct slot *rest = map_find(&groups, all_key);
        if (!rest->used || rest->count == 0 || rest->count >= k) {
            break;
        }
        const struct slot *smallest = NULL;
        for (size_t i = 0; i < groups.cap; i++) {
            const struct slot *g = &groups.slots[i];
            if (g->used && g->count > 0 && g->key != all_key &&
                (smallest == NULL || g->count < smallest->count ||
                 (g->count == smallest->count && g->key < smallest->key))) {
                smallest = g;
            }
        }
        if (smallest == NULL) {
            break; /* fewer than k records in all */
        }
        uint64_t victim = smallest->key;
        for (size_t i = 0; i < t->combos.cap; i++) {
            struct slot *c = &t->combos.slots[i];
            if (c->used && suppressed_key(c->key, c->mask, t->n_qi) == victim) {
                c->mask = all;
            }
        }
        free(groups.slots);
        if (!group_sizes(t, &groups)) {
            return false;
        }
    }

    group_stats(&groups, &risk->groups_after, &risk->smallest_after);
    free(groups.slots);
    risk->achieved = risk->records == 0 || risk->smallest_after >= k;
    for (size_t i = 0; i < t->combos.cap; i++) {
        const struct slot *c = &t->combos.slots[i];
        if (!c->used || c->mask == 0) {
            continue;
        }
        risk->records_suppressed += c->count;
        for (size_t j = 0; j < t->n_qi; j++) {
            if (c->mask & (1u << j)) {
                risk->values_suppressed += c->count;
                risk->values_suppressed_by_qi[j] += c->count;
            }
        }
    }
    return true;
}

int export_kanon_apply(const struct export_kanon *t, uint8_t *values)
{
    const struct slot *c = map_find(&t->combos, pack(values, t->n_qi));
    if (!c->used || c->count == 0) {
        for (size_t j = 0; j < t->n_qi; j++) {
            values[j] = EXPORT_QI_SUPPRESSED;
        }
        return -1;
    }
    int n = 0;
    for (size_t j = 0; j < t->n_qi; j++) {
        if (c->mask & (1u << j)) {
            values[j] = EXPORT_QI_SUPPRESSED;
            n++;
        }
    }
    return n;
}
