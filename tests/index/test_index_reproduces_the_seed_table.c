/*
 * The seed study's table, end to end: the 444 generated submissions (424 eligible, 20 screened
 * out; seedgen.h) go through a real surveyd over TLS from eight keep-alive clients, every one
 * answered 201; the wave is closed with the CLI and `survey-admin index` must give back the
 * published percentages, the right bases and intervals, the composite as the mean of the scores
 * computed here from PRODUCT.md, raked estimates that match an independent raking of the same
 * data, the same bytes again with --run, and the refusals (an open wave, a margin category that
 * has no respondent). Comments and e-mail addresses are stored but never reach the index.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sdharness.h"
#include "seedgen.h"
#include "testlib.h"

extern char **environ;

#define WAVE "seed-kr-2025"
#define SMALL_WAVE "seed-no-retail"
#define MARGINS "deploy/margins-kr-2025.json"
#define ABOUT "deploy/about-kr-2025.json"
#define N_CLIENTS 8
#define SMALL_N 12

static struct sd_env env;
static struct sd_daemon *daemon_;
static int port;
static struct seed_response seed[SEED_TOTAL];
static struct seed_response small_pool[SEED_TOTAL];
static const struct seed_response *small[SMALL_N];
static bool submitted;   /* every submission was answered 201 */
static bool closed;      /* both waves closed */
static char *first_json; /* the first unweighted run's stdout, byte for byte */
static char first_run_id[32];
static cJSON *unweighted; /* its parsed document */

/* ---- running survey-admin with stdout and stderr apart ---------------------------------- */

struct admin_result {
    int status; /* exit status, -1 when it did not run, was killed or timed out */
    char *out;  /* stdout, exactly */
    size_t out_len;
    char *err; /* stderr */
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, cap * 2 + 1);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        if (len != NULL) {
            *len = n;
        }
    }
    return buf;
}

/* Run argv (argv[0] a path) with stdout and stderr into files of the test's directory, waited
 * for on its pidfd (timeout_ms at most, then killed). */
static struct admin_result run_tool(const char *const *argv, int timeout_ms)
{
    struct admin_result res = {-1, NULL, 0, NULL};
    char out_path[256], err_path[256];
    snprintf(out_path, sizeof out_path, "%s/admin.out", env.dir);
    snprintf(err_path, sizeof err_path, "%s/admin.err", env.dir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)(uintptr_t)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "could not run %s: %s\n", argv[0], strerror(rc));
        return res;
    }
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    bool exited = true;
    if (pfd >= 0) {
        struct pollfd p = {pfd, POLLIN, 0};
        long long deadline = sd_now_ms() + timeout_ms;
        int r;
        do {
            long long left = deadline - sd_now_ms();
            r = poll(&p, 1, left > 0 ? (int)left : 0);
        } while (r < 0 && errno == EINTR);
        close(pfd);
        exited = r > 0;
    }
    if (!exited) {
        fprintf(stderr, "%s did not finish within %d ms; killed\n", argv[0], timeout_ms);
        kill(pid, SIGKILL);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    res.status = exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    res.out = slurp(out_path, &res.out_len);
    res.err = slurp(err_path, NULL);
    return res;
}

/* survey-admin ARGS... --db <test database>, 30 s at most. */
static struct admin_result admin(const char *first, ...)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = getenv("SURVEY_ADMIN");
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && n < 36; a = va_arg(ap, const char *)) {
        argv[n++] = a;
    }
    va_end(ap);
    argv[n++] = "--db";
    argv[n++] = env.admin_db;
    argv[n] = NULL;
    if (argv[0] == NULL) {
        return (struct admin_result){-1, NULL, 0, NULL};
    }
    return run_tool(argv, 30000);
}

static void admin_free(struct admin_result *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/* Print what the command said when it was not what the test expected. */
static void admin_expect(const struct admin_result *r, int status, const char *what)
{
    if (r->status != status) {
        fprintf(stderr, "%s: exit %d, expected %d\nstdout: %.2000s\nstderr: %s\n", what, r->status,
                status, r->out ? r->out : "", r->err ? r->err : "");
    }
    CHECK(r->status == status);
}

/* ---- reading the results document ------------------------------------------------------- */

static const cJSON *member(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static double number(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *string(const cJSON *o, const char *key)
{
    const cJSON *v = member(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *indicator(const cJSON *doc, const char *id)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, member(doc, "indicators"))
    {
        const char *eid = string(e, "id");
        if (eid != NULL && strcmp(eid, id) == 0) {
            return e;
        }
    }
    return NULL;
}

/* ---- independent figures from the generated data ---------------------------------------- */

/* The eligible responses of the seed, in one array. */
static const struct seed_response *eligible[SEED_ELIGIBLE];
static size_t n_eligible;

static void collect_eligible(void)
{
    n_eligible = 0;
    for (int i = 0; i < SEED_TOTAL; i++) {
        if (!seed[i].screened_out && n_eligible < SEED_ELIGIBLE) {
            eligible[n_eligible++] = &seed[i];
        }
    }
}

/* Raking by iterative proportional fitting to the margins file's shares (industry, then
 * company_size, as the file lists them), to a relative 1e-14: weights with mean 1. */
static bool rake(const double industry_share[N_INDUSTRY], const double size_share[N_SIZE],
                 double *w)
{
    for (size_t i = 0; i < n_eligible; i++) {
        w[i] = 1;
    }
    double n = (double)n_eligible;
    for (int sweep = 0; sweep < 10000; sweep++) {
        double ti[N_INDUSTRY] = {0}, ts[N_SIZE] = {0};
        for (size_t i = 0; i < n_eligible; i++) {
            ti[eligible[i]->industry] += w[i];
        }
        for (size_t i = 0; i < n_eligible; i++) {
            w[i] *= industry_share[eligible[i]->industry] * n / ti[eligible[i]->industry];
        }
        for (size_t i = 0; i < n_eligible; i++) {
            ts[eligible[i]->company_size] += w[i];
        }
        for (size_t i = 0; i < n_eligible; i++) {
            w[i] *= size_share[eligible[i]->company_size] * n / ts[eligible[i]->company_size];
        }
        double worst = 0;
        memset(ti, 0, sizeof ti);
        for (size_t i = 0; i < n_eligible; i++) {
            ti[eligible[i]->industry] += w[i];
        }
        for (int c = 0; c < N_INDUSTRY; c++) {
            double goal = industry_share[c] * n, e = fabs(ti[c] - goal) / goal;
            worst = e > worst ? e : worst;
        }
        if (worst < 1e-14) {
            return true;
        }
    }
    return false;
}

/* ---- the test's steps ---------------------------------------------------------------------- */

static void generator_reproduces_the_published_table(void)
{
    seedgen_generate(seed, 1);
    CHECK(seedgen_check(seed));
    collect_eligible();
    CHECK(n_eligible == SEED_ELIGIBLE);
    /* Each count, checked here again against PRODUCT.md's published whole percent. */
    size_t x[SEED_N_INDICATORS];
    CHECK(seedgen_counts(seed, SEED_TOTAL, x) == 424);
    static const size_t expected[SEED_N_INDICATORS] = {191, 377, 407, 229, 85,  72,  267,
                                                       42,  331, 229, 72,  237, 225, 174};
    for (int k = 0; k < SEED_N_INDICATORS; k++) {
        CHECK(x[k] == expected[k]);
        CHECK(lround(100.0 * (double)x[k] / 424.0) == seed_indicators[k].published);
    }
    seedgen_print_table(seed, stderr);

    /* The small wave: a dozen respondents, none of them in retail. */
    seedgen_generate(small_pool, 2);
    size_t k = 0;
    for (int i = 0; i < SEED_TOTAL && k < SMALL_N; i++) {
        if (!small_pool[i].screened_out && small_pool[i].industry != IND_RETAIL) {
            small[k++] = &small_pool[i];
        }
    }
    CHECK(k == SMALL_N);
}

static void waves_are_opened_with_the_margins_and_surveyd_starts(void)
{
    CHECK(sd_env_init(&env, false));
    CHECK(sd_env_db(&env, NULL));
    char margins[1200];
    snprintf(margins, sizeof margins, "%s/%s", getenv("SURVEY_SOURCE_DIR"), MARGINS);
    char about[1200];
    snprintf(about, sizeof about, "%s/%s", getenv("SURVEY_SOURCE_DIR"), ABOUT);
    static const char *const waves[] = {WAVE, SMALL_WAVE};
    for (size_t i = 0; i < 2; i++) {
        /* The seed wave has a study description for its report; the small one has none. */
        struct admin_result r =
            admin("wave", "create", waves[i], "--questionnaire", env.questionnaire, "--access",
                  "open", "--margins", margins, i == 0 ? "--about" : NULL, about, NULL);
        admin_expect(&r, 0, "wave create");
        CHECK(r.out != NULL && strstr(r.out, "with margins") != NULL);
        admin_free(&r);
        r = admin("wave", "open", waves[i], NULL);
        admin_expect(&r, 0, "wave open");
        admin_free(&r);
    }
    /* No per-address limit: all the clients share 127.0.0.1. */
    static const char *const extra[] = {"--rate-limit", "0", NULL};
    daemon_ = sd_daemon_start(&env, NULL, extra);
    CHECK(daemon_ != NULL);
    port = daemon_ != NULL ? sd_daemon_port(daemon_) : 0;
}

struct submission {
    const char *wave;
    const struct seed_response *r;
    int status;      /* of the answer, 0 when none came */
    bool receipt_ok; /* the receipt names this submission */
};

static struct submission subs[SEED_TOTAL + SMALL_N];
static size_t n_subs;

struct client {
    pthread_t thread;
    unsigned index;
    int reconnects;
    char error[160];
};

/* Client t sends submissions t, t + 8, t + 16, ... on one keep-alive connection (a new one only
 * when surveyd closes it), one request at a time. */
static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct sd_conn *c = NULL;
    for (size_t s = cl->index; s < n_subs; s += N_CLIENTS) {
        struct submission *sub = &subs[s];
        if (c == NULL) {
            struct sd_tls_info info;
            c = sd_connect(port, NULL, &info);
            if (c == NULL) {
                snprintf(cl->error, sizeof cl->error, "connect: %.140s", info.reason);
                break;
            }
            cl->reconnects++;
        }
        char path[128];
        snprintf(path, sizeof path, "/v1/waves/%s/responses", sub->wave);
        char *body = sd_submission(sub->r->submission_id, NULL, sub->r->answers);
        char *req = body != NULL ? sd_post_request(path, body, true) : NULL;
        struct sd_response resp;
        bool sent = req != NULL && sd_send(c, req, strlen(req), 5000);
        enum sd_read_result rr = sent ? sd_read_response(c, &resp, false, 15000) : SD_READ_CLOSED;
        free(req);
        free(body);
        if (rr != SD_READ_OK) {
            if (cl->error[0] == '\0') {
                snprintf(cl->error, sizeof cl->error, "%s for %s (read %d)",
                         sent ? "no answer" : "could not send", sub->r->submission_id, (int)rr);
            }
            sd_close(c);
            c = NULL;
            continue;
        }
        sub->status = resp.status;
        const char *sid = sd_json_str(&resp, "submission_id");
        sub->receipt_ok = sid != NULL && strcmp(sid, sub->r->submission_id) == 0 &&
                          sd_json_str(&resp, "response_id") != NULL;
        if (resp.status != 201 && cl->error[0] == '\0') {
            snprintf(cl->error, sizeof cl->error, "%s: %d %.100s", sub->r->submission_id,
                     resp.status, resp.body ? resp.body : "");
        }
        bool closing = resp.conn_close;
        sd_response_free(&resp);
        if (closing) {
            sd_close(c);
            c = NULL;
        }
    }
    sd_close(c);
    return NULL;
}

static void every_submission_goes_through_surveyd_and_is_answered_201(void)
{
    if (daemon_ == NULL) {
        CHECK(daemon_ != NULL);
        return;
    }
    n_subs = 0;
    for (int i = 0; i < SEED_TOTAL; i++) {
        subs[n_subs++] = (struct submission){WAVE, &seed[i], 0, false};
    }
    for (int i = 0; i < SMALL_N; i++) {
        subs[n_subs++] = (struct submission){SMALL_WAVE, small[i], 0, false};
    }
    static struct client clients[N_CLIENTS];
    long long t0 = sd_now_ms();
    int started = 0;
    for (unsigned i = 0; i < N_CLIENTS; i++) {
        clients[i] = (struct client){.index = i};
        int rc = pthread_create(&clients[i].thread, NULL, client_main, &clients[i]);
        CHECK(rc == 0);
        if (rc != 0) {
            break;
        }
        started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(clients[i].thread, NULL);
        if (clients[i].error[0] != '\0') {
            fprintf(stderr, "client %d: %s\n", i, clients[i].error);
        }
    }
    size_t created = 0, receipts = 0;
    int connections = 0;
    for (size_t s = 0; s < n_subs; s++) {
        created += subs[s].status == 201;
        receipts += subs[s].receipt_ok;
    }
    for (int i = 0; i < started; i++) {
        connections += clients[i].reconnects;
    }
    fprintf(stderr, "%zu submissions: %zu answered 201 in %lld ms on %d TLS connections\n", n_subs,
            created, sd_now_ms() - t0, connections);
    CHECK(created == n_subs);
    CHECK(receipts == n_subs);
    submitted = created == n_subs;

    /* What the database holds: every row, the screened-out ones flagged, and the optional
     * answers (comments, e-mail) stored with their responses. */
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses WHERE wave_id = $1", WAVE, NULL) ==
          SEED_TOTAL);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE wave_id = $1 AND screened_out",
                   WAVE, NULL) == SEED_SCREENED_OUT);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.responses WHERE wave_id = $1", SMALL_WAVE,
                   NULL) == SMALL_N);
    long long comments = 0, emails = 0;
    for (size_t i = 0; i < n_eligible; i++) {
        comments += eligible[i]->has_comment;
        emails += eligible[i]->has_email;
    }
    CHECK(comments > 0 && emails > 0);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE wave_id = $1 AND "
                   "answers ? 'comments'",
                   WAVE, NULL) == comments);
    CHECK(sd_count(&env,
                   "SELECT count(*) FROM survey.responses WHERE wave_id = $1 AND "
                   "answers ? 'contact_email'",
                   WAVE, NULL) == emails);
    /* Spot checks: a stored response has exactly the answers that were sent. */
    for (size_t i = 0; i < n_eligible; i += 53) {
        CHECK(sd_count(&env,
                       "SELECT count(*) FROM survey.responses WHERE wave_id = $1 AND "
                       "submission_id = $2::uuid AND answers = $3::jsonb AND NOT screened_out",
                       WAVE, eligible[i]->submission_id, eligible[i]->answers, NULL) == 1);
    }
}

static void an_open_wave_is_indexed_only_when_provisional(void)
{
    struct admin_result r = admin("index", WAVE, "--format", "json", NULL);
    admin_expect(&r, 1, "index on an open wave");
    CHECK(r.out != NULL && r.out_len == 0);
    CHECK(r.err != NULL && strstr(r.err, "still open") != NULL);
    admin_free(&r);

    r = admin("index", WAVE, "--format", "json", "--provisional", NULL);
    admin_expect(&r, 0, "index --provisional on an open wave");
    cJSON *doc = r.out != NULL ? cJSON_Parse(r.out) : NULL;
    CHECK(doc != NULL);
    CHECK(cJSON_IsTrue(member(doc, "provisional")));
    if (submitted) {
        CHECK(number(doc, "n") == SEED_ELIGIBLE);
    }
    const cJSON *field = member(doc, "field");
    CHECK(string(field, "closed_at") != NULL && string(field, "closed_at")[0] == '\0');
    cJSON_Delete(doc);
    admin_free(&r);
}

static void surveyd_stops_and_the_waves_close(void)
{
    if (daemon_ != NULL) {
        CHECK(sd_daemon_stop(daemon_, 15000) == 0);
        CHECK(sd_log_foreign_lines(daemon_) == 0);
    }
    static const char *const waves[] = {WAVE, SMALL_WAVE};
    closed = true;
    for (size_t i = 0; i < 2; i++) {
        struct admin_result r = admin("wave", "close", waves[i], NULL);
        admin_expect(&r, 0, "wave close");
        closed = closed && r.status == 0;
        admin_free(&r);
    }
}

/* Checks common to every estimate object (an indicator or the composite, overall or a group):
 * suppression and low base follow the base n, and a published estimate lies in its interval. */
static void check_estimate_fields(const cJSON *e, const char *what, bool composite)
{
    double n = number(e, "n");
    CHECK(isfinite(n) && n >= 0 && n == floor(n));
    bool suppressed = cJSON_IsTrue(member(e, "suppressed"));
    bool low_base = cJSON_IsTrue(member(e, "low_base"));
    CHECK(cJSON_IsBool(member(e, "suppressed")) && cJSON_IsBool(member(e, "low_base")));
    CHECK(suppressed == (n < 10));
    CHECK(low_base == (!suppressed && n < 30));
    static const char *const keys[] = {"estimate", "ci_low", "ci_high", "se", "n_eff", "deff"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const cJSON *v = member(e, keys[k]);
        if (suppressed ? !cJSON_IsNull(v) : !cJSON_IsNumber(v)) {
            fprintf(stderr, "%s: \"%s\" is %s with n = %g\n", what, keys[k],
                    v == NULL         ? "missing"
                    : cJSON_IsNull(v) ? "null"
                                      : "a number",
                    n);
            CHECK(suppressed ? cJSON_IsNull(v) : cJSON_IsNumber(v));
        }
    }
    if (!suppressed) {
        /* Strictly inside, unless a proportion is 0 or 1 (a group where everyone, or nobody,
         * says yes): then the interval is closed at that end and the SE is 0. */
        double est = number(e, "estimate"), lo = number(e, "ci_low"), hi = number(e, "ci_high");
        bool edge = !composite && (est == 0 || est == 1);
        bool inside = edge ? lo <= est && est <= hi && lo < hi : lo < est && est < hi;
        if (!inside) {
            fprintf(stderr, "%s: %.17g not inside (%.17g, %.17g)\n", what, est, lo, hi);
        }
        CHECK(inside);
        CHECK(edge ? number(e, "se") >= 0 : number(e, "se") > 0);
        if (!composite) {
            CHECK(lo >= 0 && hi <= 1);
        }
    }
}

static void unweighted_index_reproduces_the_seed_table(void)
{
    if (!closed) {
        CHECK(closed);
        return;
    }
    struct admin_result r = admin("index", WAVE, "--format", "json", NULL);
    admin_expect(&r, 0, "index --format json");
    /* "index run N recorded (...)" on stderr */
    if (r.err == NULL || sscanf(r.err, "index run %31[0-9] recorded", first_run_id) != 1) {
        fprintf(stderr, "no run id in: %s\n", r.err ? r.err : "(nothing)");
        CHECK(false);
    }
    unweighted = r.out != NULL ? cJSON_Parse(r.out) : NULL;
    CHECK(unweighted != NULL);
    if (unweighted == NULL) {
        admin_free(&r);
        return;
    }
    first_json = r.out;
    r.out = NULL;
    /* Comments and e-mail addresses are stored, but never part of the index. */
    CHECK(strstr(first_json, "@") == NULL);
    CHECK(strstr(first_json, "seed-comment-") == NULL);
    CHECK(strstr(first_json, "contact_email") == NULL);
    admin_free(&r);

    const cJSON *doc = unweighted;
    CHECK_STR(string(doc, "wave"), WAVE);
    CHECK_STR(string(member(doc, "questionnaire"), "id"), "genai-adoption-2025");
    CHECK(cJSON_IsFalse(member(doc, "provisional")));
    CHECK_STR(string(doc, "weights"), "none");
    CHECK(number(doc, "n") == SEED_ELIGIBLE);
    CHECK(number(doc, "n_screened_out") == SEED_SCREENED_OUT);
    CHECK(number(doc, "n_total") == SEED_TOTAL);
    CHECK(string(member(doc, "field"), "closed_at") != NULL &&
          strlen(string(member(doc, "field"), "closed_at")) == 20);
    CHECK(cJSON_GetArraySize(member(doc, "indicators")) == SEED_N_INDICATORS);

    size_t x[SEED_N_INDICATORS];
    seedgen_counts(seed, SEED_TOTAL, x);
    const double z = 1.959963984540054; /* qnorm(0.975) */
    for (int k = 0; k < SEED_N_INDICATORS; k++) {
        const char *id = seed_indicators[k].id;
        const cJSON *e = indicator(doc, id);
        if (e == NULL) {
            fprintf(stderr, "indicator %s is missing\n", id);
            CHECK(e != NULL);
            continue;
        }
        /* the questionnaire's order */
        CHECK(e == cJSON_GetArrayItem(member(doc, "indicators"), k));
        check_estimate_fields(e, id, false);
        double est = number(e, "estimate");
        long pct = lround(100 * est);
        if (pct != seed_indicators[k].published) {
            fprintf(stderr, "%s: %.6f rounds to %ld%%, published %d%%\n", id, est, pct,
                    seed_indicators[k].published);
        }
        CHECK(pct == seed_indicators[k].published);
        CHECK(number(e, "n") == SEED_ELIGIBLE);
        CHECK_NEAR(est, (double)x[k] / SEED_ELIGIBLE, 1e-12);
        CHECK(cJSON_IsBool(member(e, "percent_of_respondents")) &&
              cJSON_IsTrue(member(e, "percent_of_respondents")) == seed_indicators[k].multi_select);
        CHECK(number(e, "n_eff") == SEED_ELIGIBLE);
        CHECK(number(e, "deff") == 1);
        CHECK(member(e, "by") == NULL);
        /* Wilson at 95%, from statistics.md */
        double nn = SEED_ELIGIBLE, p = (double)x[k] / nn, d = 1 + z * z / nn;
        double centre = (p + z * z / (2 * nn)) / d;
        double half = z / d * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn));
        CHECK_NEAR(number(e, "ci_low"), centre - half, 1e-12);
        CHECK_NEAR(number(e, "ci_high"), centre + half, 1e-12);
        const cJSON *label = member(e, "label");
        CHECK(string(label, "ko") != NULL && string(label, "en") != NULL);
    }

    /* The composite: the mean of the scores computed from PRODUCT.md's item scores. */
    const cJSON *comp = member(doc, "composite");
    CHECK(comp != NULL);
    check_estimate_fields(comp, "composite", true);
    double sum = 0;
    for (size_t i = 0; i < n_eligible; i++) {
        sum += eligible[i]->score;
    }
    double mean = sum / (double)n_eligible, ss = 0;
    for (size_t i = 0; i < n_eligible; i++) {
        ss += (eligible[i]->score - mean) * (eligible[i]->score - mean);
    }
    double se = sqrt(ss / (double)(n_eligible - 1) / (double)n_eligible);
    CHECK_STR(string(comp, "id"), "genai_adoption_index");
    CHECK(number(comp, "n") == SEED_ELIGIBLE);
    CHECK_NEAR(number(comp, "estimate"), mean, 1e-9);
    CHECK_NEAR(number(comp, "se"), se, 1e-9);
    CHECK(number(comp, "min") == 0 && number(comp, "max") == 100);
    /* mean ± t(0.975; 423) se: symmetric, t between the normal quantile and t(0.975; 120) */
    double lo = number(comp, "ci_low"), hi = number(comp, "ci_high"),
           est = number(comp, "estimate");
    CHECK_NEAR(est - lo, hi - est, 1e-9);
    CHECK((hi - est) / se > z && (hi - est) / se < 1.9799);
    fprintf(stderr, "composite %.9f [%.6f, %.6f], mean of the scores %.9f\n", est, lo, hi, mean);
}

static void the_recorded_run_prints_the_same_bytes(void)
{
    if (first_json == NULL || first_run_id[0] == '\0') {
        CHECK(first_json != NULL && first_run_id[0] != '\0');
        return;
    }
    struct admin_result r = admin("index", WAVE, "--run", first_run_id, "--format", "json", NULL);
    admin_expect(&r, 0, "index --run --format json");
    CHECK(r.out != NULL && r.out_len == strlen(first_json) &&
          memcmp(r.out, first_json, r.out_len) == 0);
    /* printing a run again records nothing new */
    CHECK(r.err != NULL && strstr(r.err, "recorded") == NULL);
    admin_free(&r);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.index_runs WHERE wave_id = $1", WAVE, NULL) ==
          2); /* the provisional run and the first final one */

    /* The default format of the same run is the table, rendered from the same document. */
    r = admin("index", WAVE, "--run", first_run_id, NULL);
    admin_expect(&r, 0, "index --run (table)");
    size_t x[SEED_N_INDICATORS];
    seedgen_counts(seed, SEED_TOTAL, x);
    for (int k = 0; r.out != NULL && k < SEED_N_INDICATORS; k++) {
        char cell[32];
        snprintf(cell, sizeof cell, "%7.1f%%", 100.0 * (double)x[k] / SEED_ELIGIBLE);
        if (strstr(r.out, cell) == NULL) {
            fprintf(stderr, "the table lacks \"%s\" (%s):\n%s\n", cell, seed_indicators[k].id,
                    r.out);
            CHECK(strstr(r.out, cell) != NULL);
        }
    }
    CHECK(r.out != NULL && strstr(r.out, "n=424") != NULL);
    admin_free(&r);

    /* Computing the closed wave again gives a new run with the very same document. */
    r = admin("index", WAVE, "--format", "json", NULL);
    admin_expect(&r, 0, "index --format json, again");
    char again_id[32] = "";
    CHECK(r.err != NULL && sscanf(r.err, "index run %31[0-9] recorded", again_id) == 1);
    CHECK(strcmp(again_id, first_run_id) != 0);
    CHECK(r.out != NULL && r.out_len == strlen(first_json) &&
          memcmp(r.out, first_json, r.out_len) == 0);
    admin_free(&r);

    /* Another wave's run, or a run that does not exist, is not printed. */
    r = admin("index", SMALL_WAVE, "--run", first_run_id, NULL);
    admin_expect(&r, 1, "index --run of another wave's run");
    CHECK(r.out != NULL && r.out_len == 0);
    admin_free(&r);
    r = admin("index", WAVE, "--run", "999999", NULL);
    admin_expect(&r, 1, "index --run of no run");
    admin_free(&r);
}

static void raked_index_by_industry_and_size(void)
{
    if (!closed || unweighted == NULL) {
        CHECK(closed && unweighted != NULL);
        return;
    }
    struct admin_result r = admin("index", WAVE, "--weights", "rake", "--by",
                                  "industry,company_size", "--format", "json", NULL);
    admin_expect(&r, 0, "index --weights rake --by industry,company_size");
    cJSON *doc = r.out != NULL ? cJSON_Parse(r.out) : NULL;
    CHECK(doc != NULL);
    if (doc == NULL) {
        admin_free(&r);
        return;
    }
    CHECK(strstr(r.out, "@") == NULL && strstr(r.out, "seed-comment-") == NULL);
    admin_free(&r);
    CHECK_STR(string(doc, "weights"), "rake");
    CHECK(number(doc, "n") == SEED_ELIGIBLE);
    CHECK(number(doc, "n_screened_out") == SEED_SCREENED_OUT);

    /* An independent raking of the same data to deploy/margins-kr-2025.json. */
    static const double industry_share[N_INDUSTRY] = {.08, .14, .38, .22, .18};
    static const double size_share[N_SIZE] = {.55, .30, .15};
    static double w[SEED_ELIGIBLE];
    CHECK(rake(industry_share, size_share, w));

    /* The items: the 14 indicators, then the composite (k = SEED_N_INDICATORS). */
    for (int k = 0; k <= SEED_N_INDICATORS; k++) {
        bool composite = k == SEED_N_INDICATORS;
        const char *id = composite ? "composite" : seed_indicators[k].id;
        const cJSON *e = composite ? member(doc, "composite") : indicator(doc, id);
        const cJSON *u = composite ? member(unweighted, "composite") : indicator(unweighted, id);
        if (e == NULL || u == NULL) {
            fprintf(stderr, "%s is missing\n", id);
            CHECK(e != NULL && u != NULL);
            continue;
        }
        check_estimate_fields(e, id, composite);
        double n = number(e, "n"), n_eff = number(e, "n_eff"), deff = number(e, "deff");
        CHECK(n == SEED_ELIGIBLE);
        if (!(n_eff < n && deff > 1)) {
            fprintf(stderr, "%s: n %g, n_eff %g, deff %g\n", id, n, n_eff, deff);
        }
        CHECK(n_eff < n);
        CHECK(deff > 1);
        double est = number(e, "estimate"), uest = number(u, "estimate");
        if (!(fabs(est - uest) > 1e-6)) {
            fprintf(stderr, "%s: weighted %.17g, unweighted %.17g\n", id, est, uest);
        }
        CHECK(fabs(est - uest) > 1e-6);

        /* overall, and each group of each --by variable, against the independent weights */
        const cJSON *by = member(e, "by");
        CHECK(cJSON_IsObject(by) && cJSON_GetArraySize(by) == 2);
        for (int var = -1; var < 2; var++) {
            const cJSON *groups =
                var < 0 ? NULL : member(by, var == 0 ? "industry" : "company_size");
            int n_groups = var < 0 ? 1 : var == 0 ? N_INDUSTRY : N_SIZE;
            if (var >= 0) {
                CHECK(cJSON_GetArraySize(groups) == n_groups);
            }
            for (int g = 0; g < n_groups; g++) {
                const cJSON *ge = var < 0 ? e : cJSON_GetArrayItem(groups, g);
                if (ge == NULL) {
                    CHECK(ge != NULL);
                    continue;
                }
                char what[96];
                snprintf(what, sizeof what, "%s by %s", id,
                         var < 0    ? "(all)"
                         : var == 0 ? seed_industry_codes[g]
                                    : seed_size_codes[g]);
                if (var >= 0) {
                    CHECK_STR(string(ge, "code"),
                              var == 0 ? seed_industry_codes[g] : seed_size_codes[g]);
                    check_estimate_fields(ge, what, composite);
                }
                double sw = 0, sw2 = 0, swy = 0;
                size_t base = 0;
                for (size_t i = 0; i < n_eligible; i++) {
                    const struct seed_response *q = eligible[i];
                    if ((var == 0 && q->industry != g) || (var == 1 && q->company_size != g)) {
                        continue;
                    }
                    double y = composite ? q->score : seedgen_indicator(q, k);
                    base++;
                    sw += w[i];
                    sw2 += w[i] * w[i];
                    swy += w[i] * y;
                }
                CHECK(number(ge, "n") == (double)base);
                if (cJSON_IsTrue(member(ge, "suppressed"))) {
                    continue;
                }
                double tol = composite ? 1e-9 : 1e-10;
                if (fabs(number(ge, "estimate") - swy / sw) > tol) {
                    fprintf(stderr, "%s: estimate %.17g, independent raking %.17g\n", what,
                            number(ge, "estimate"), swy / sw);
                }
                CHECK_NEAR(number(ge, "estimate"), swy / sw, tol);
                CHECK_NEAR(number(ge, "n_eff") / (sw * sw / sw2), 1, 1e-9);
                CHECK_NEAR(number(ge, "deff") * (sw * sw / sw2) / (double)base, 1, 1e-9);
            }
        }
    }
    /* The design gives one of each kind of group: company_size large (9) is suppressed, industry
     * other (26) has a low base. */
    const cJSON *prod = indicator(doc, "production");
    const cJSON *large = cJSON_GetArrayItem(member(member(prod, "by"), "company_size"), SIZE_LARGE);
    const cJSON *other = cJSON_GetArrayItem(member(member(prod, "by"), "industry"), IND_OTHER);
    CHECK(cJSON_IsTrue(member(large, "suppressed")) && cJSON_IsNull(member(large, "estimate")));
    CHECK(cJSON_IsTrue(member(other, "low_base")) && cJSON_IsNumber(member(other, "estimate")));
    cJSON_Delete(doc);
}

static void raking_names_a_margin_category_without_respondents(void)
{
    if (!closed) {
        CHECK(closed);
        return;
    }
    struct admin_result r =
        admin("index", SMALL_WAVE, "--weights", "rake", "--format", "json", NULL);
    admin_expect(&r, 1, "index --weights rake without a retail respondent");
    CHECK(r.out != NULL && r.out_len == 0);
    if (r.err == NULL || strstr(r.err, "industry=retail") == NULL) {
        fprintf(stderr, "the message does not name industry=retail: %s\n", r.err ? r.err : "");
        CHECK(false);
    }
    admin_free(&r);
    CHECK(sd_count(&env, "SELECT count(*) FROM survey.index_runs WHERE wave_id = $1", SMALL_WAVE,
                   NULL) == 0);
    /* Unweighted, the same wave is indexed (a base of 12 is published, with a low base). */
    r = admin("index", SMALL_WAVE, "--format", "json", NULL);
    admin_expect(&r, 0, "index of the small wave");
    cJSON *doc = r.out != NULL ? cJSON_Parse(r.out) : NULL;
    CHECK(doc != NULL && number(doc, "n") == SMALL_N);
    const cJSON *e = indicator(doc, "production");
    CHECK(e != NULL && number(e, "n") == SMALL_N && cJSON_IsTrue(member(e, "low_base")));
    cJSON_Delete(doc);
    admin_free(&r);
}

/* ---- the HTML report ------------------------------------------------------------------- */

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
        n++;
    }
    return n;
}

/* The bars the report must draw for a run: every indicator's overall estimate that is not
 * suppressed, and every composite group that is not. */
static size_t bars_expected(const cJSON *doc, size_t *suppressed)
{
    size_t n = 0;
    *suppressed = 0;
    const cJSON *inds = member(doc, "indicators");
    for (const cJSON *i = inds ? inds->child : NULL; i != NULL; i = i->next) {
        bool s = cJSON_IsTrue(member(i, "suppressed"));
        n += !s;
        *suppressed += s;
    }
    const cJSON *by = member(member(doc, "composite"), "by");
    for (const cJSON *v = by ? by->child : NULL; v != NULL; v = v->next) {
        for (const cJSON *g = v->child; g != NULL; g = g->next) {
            bool s = cJSON_IsTrue(member(g, "suppressed"));
            n += !s;
            *suppressed += s;
        }
    }
    return n;
}

/* PNG signature, and the width and height from the IHDR chunk. */
static bool png_size(const char *data, size_t len, unsigned *w, unsigned *h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (data == NULL || len < 24 || memcmp(data, sig, 8) != 0 || memcmp(data + 12, "IHDR", 4)) {
        return false;
    }
    const unsigned char *p = (const unsigned char *)data + 16;
    *w = (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
    *h = (unsigned)p[4] << 24 | (unsigned)p[5] << 16 | (unsigned)p[6] << 8 | p[7];
    return true;
}

static void the_html_report_is_self_contained_and_renders_in_chromium(void)
{
    if (!closed) {
        CHECK(closed);
        return;
    }
    const char *art = getenv("SURVEY_ARTIFACTS_DIR");
    CHECK(art != NULL);
    if (art == NULL) {
        return;
    }
    mkdir(art, 0755); /* made at configure time; EEXIST is fine */
    char html_path[1100], png_path[1100], mobile_png[1100], url[1200];
    snprintf(html_path, sizeof html_path, "%s/index-report.html", art);
    snprintf(png_path, sizeof png_path, "%s/index-report-1280.png", art);
    snprintf(mobile_png, sizeof mobile_png, "%s/index-report-360.png", art);
    snprintf(url, sizeof url, "file://%s", html_path);
    unlink(html_path);

    /* The report of a raked run by industry and size, written to a file. */
    struct admin_result r = admin("index", WAVE, "--weights", "rake", "--by",
                                  "industry,company_size", "--format", "html", "--out", html_path,
                                  NULL);
    admin_expect(&r, 0, "index --format html --out");
    char run_id[32] = "";
    CHECK(r.err != NULL && sscanf(r.err, "index run %31[0-9] recorded", run_id) == 1);
    CHECK(r.out != NULL && r.out_len == 0); /* --out: nothing on stdout */
    admin_free(&r);
    size_t html_len = 0;
    char *html = slurp(html_path, &html_len);
    CHECK(html != NULL);
    if (html == NULL) {
        return;
    }

    /* Self-contained: a CSP that forbids every fetch, and nothing that would fetch. */
    CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(html, "content=\"default-src 'none'; style-src 'unsafe-inline'\"") != NULL);
    CHECK(count_of(html, "src=") == 0 && count_of(html, "href=") == 0 &&
          count_of(html, "<script") == 0 && count_of(html, "url(") == 0 &&
          count_of(html, "@import") == 0);
    CHECK(count_of(html, "https://") == 0);
    CHECK(count_of(html, "http://") == count_of(html, "xmlns=\"http://www.w3.org/2000/svg\""));

    /* What it shows comes from the recorded run: every indicator's label, the bars, the
     * methodology from the wave's study description and field dates. */
    r = admin("index", WAVE, "--run", run_id, "--format", "json", NULL);
    admin_expect(&r, 0, "index --run --format json");
    cJSON *doc = r.out ? cJSON_Parse(r.out) : NULL;
    CHECK(doc != NULL);
    admin_free(&r);
    const cJSON *inds = member(doc, "indicators");
    for (const cJSON *i = inds ? inds->child : NULL; i != NULL; i = i->next) {
        const char *ko = string(member(i, "label"), "ko");
        if (strstr(html, ko) == NULL) {
            fprintf(stderr, "the report lacks the label \"%s\"\n", ko);
            CHECK(strstr(html, ko) != NULL);
        }
    }
    size_t suppressed = 0, bars = bars_expected(doc, &suppressed);
    size_t drawn = count_of(html, "<rect class=\"bar");
    if (drawn != bars) {
        fprintf(stderr, "bars drawn %zu, expected %zu\n", drawn, bars);
    }
    CHECK(drawn == bars && bars >= SEED_N_INDICATORS);
    CHECK(count_of(html, "<g class=\"ci\">") == bars);       /* every bar has its interval */
    CHECK(count_of(html, "공표 제외 (n=") == suppressed); /* and the rest say why not */
    CHECK(strstr(html, "Amazon Web Services") != NULL);   /* sponsor */
    CHECK(strstr(html, "Access Partnership") != NULL);    /* conducted by */
    CHECK(strstr(html, "비확률 표본") != NULL);            /* the precision statement */
    CHECK(strstr(html, "레이킹") != NULL);                 /* the weighting */
    const cJSON *field = member(doc, "field");
    char dates[64];
    snprintf(dates, sizeof dates, "%.10s – %.10s (UTC)", string(field, "opened_at"),
             string(field, "closed_at"));
    CHECK(strstr(html, dates) != NULL);
    CHECK(strstr(html, "접수된 응답 444건 중 선별 기준으로 제외 20건, 분석 대상 424건") != NULL);
    /* The composition by industry: the generator's counts over the eligible responses, in the
     * document and on the page. */
    const cJSON *comp = member(doc, "composition");
    const cJSON *industry = NULL;
    for (const cJSON *c = comp ? comp->child : NULL; c != NULL; c = c->next) {
        industry = strcmp(string(c, "question"), "industry") == 0 ? c : industry;
    }
    CHECK(industry != NULL && number(industry, "n_unanswered") == 0);
    const cJSON *groups = member(industry, "groups");
    for (int k = 0; k < N_INDUSTRY; k++) {
        size_t want = 0;
        for (size_t i = 0; i < SEED_TOTAL; i++) {
            want += !seed[i].screened_out && seed[i].industry == k;
        }
        const cJSON *g = cJSON_GetArrayItem(groups, k);
        CHECK(g != NULL && strcmp(string(g, "code"), seed_industry_codes[k]) == 0 &&
              number(g, "n") == (double)want);
        char shown[160];
        snprintf(shown, sizeof shown, "%s %zu", string(member(g, "label"), "ko"), want);
        CHECK(strstr(html, shown) != NULL);
    }
    /* question wording from the definition, e.g. the stage question and one of its options */
    const cJSON *qs = member(doc, "questions");
    CHECK(cJSON_GetArraySize(qs) > 0);
    for (const cJSON *q = qs ? qs->child : NULL; q != NULL; q = q->next) {
        CHECK(strstr(html, string(member(q, "text"), "ko")) != NULL);
    }
    char run_ref[64];
    snprintf(run_ref, sizeof run_ref, "--run %s)", run_id);
    CHECK(strstr(html, run_ref) != NULL);

    /* The recorded run printed again as HTML is the same bytes. */
    r = admin("index", WAVE, "--run", run_id, "--format", "html", NULL);
    admin_expect(&r, 0, "index --run --format html");
    CHECK(r.out != NULL && r.out_len == html_len && memcmp(r.out, html, html_len) == 0);
    admin_free(&r);
    /* In English on request. */
    r = admin("index", WAVE, "--run", run_id, "--format", "html", "--lang", "en", NULL);
    admin_expect(&r, 0, "index --run --format html --lang en");
    CHECK(r.out != NULL && strstr(r.out, "<html lang=\"en\">") != NULL &&
          strstr(r.out, "non-probability sample") != NULL &&
          strstr(r.out, string(member(inds ? inds->child : NULL, "label"), "en")) != NULL);
    admin_free(&r);

    /* Headless Chromium parses it (the DOM it built has the charts) and paints it. */
    char profile[300];
    snprintf(profile, sizeof profile, "%s/chromium-profile", env.dir);
    const char *chromium = getenv("SURVEY_CHROMIUM") ? getenv("SURVEY_CHROMIUM")
                                                     : "/usr/bin/chromium";
    char profile_arg[400];
    snprintf(profile_arg, sizeof profile_arg, "--user-data-dir=%s", profile);
    const char *dom_argv[] = {chromium,      "--headless=new", "--no-sandbox",
                              "--disable-gpu", "--no-first-run", "--disable-background-networking",
                              "--disable-dev-shm-usage", profile_arg, "--dump-dom", url, NULL};
    r = run_tool(dom_argv, 60000);
    if (r.status != 0) {
        fprintf(stderr, "chromium --dump-dom: exit %d\n%.3000s\n", r.status, r.err ? r.err : "");
    }
    CHECK(r.status == 0);
    CHECK(r.out != NULL && strstr(r.out, "<svg id=\"chart-indicators\"") != NULL);
    CHECK(r.out != NULL && count_of(r.out, "<rect class=\"bar") == bars);
    CHECK(r.out != NULL && strstr(r.out, "<section id=\"methodology\">") != NULL);
    admin_free(&r);
    static const struct {
        const char *size;
        unsigned width;
    } shots[] = {{"--window-size=1280,4200", 1280}, {"--window-size=360,9000", 360}};
    for (size_t i = 0; i < 2; i++) {
        const char *path = i == 0 ? png_path : mobile_png;
        char shot_arg[1200];
        snprintf(shot_arg, sizeof shot_arg, "--screenshot=%s", path);
        unlink(path);
        const char *shot_argv[] = {chromium,
                                   "--headless=new",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-dev-shm-usage",
                                   "--hide-scrollbars",
                                   profile_arg,
                                   shots[i].size,
                                   shot_arg,
                                   url,
                                   NULL};
        r = run_tool(shot_argv, 60000);
        CHECK(r.status == 0);
        admin_free(&r);
        size_t png_len = 0;
        char *png = slurp(path, &png_len);
        unsigned w = 0, h = 0;
        CHECK(png_size(png, png_len, &w, &h) && w == shots[i].width);
        /* A painted report is far from a blank page, which compresses to a few kilobytes. */
        CHECK(png_len > 40000);
        fprintf(stderr, "screenshot %s: %ux%u, %zu bytes\n", path, w, h, png_len);
        free(png);
    }
    cJSON_Delete(doc);
    free(html);
}

int main(int argc, char **argv)
{
    sd_init(argc, argv);
    static const struct testlib_case cases[] = {
        TEST_CASE(generator_reproduces_the_published_table),
        TEST_CASE(waves_are_opened_with_the_margins_and_surveyd_starts),
        TEST_CASE(every_submission_goes_through_surveyd_and_is_answered_201),
        TEST_CASE(an_open_wave_is_indexed_only_when_provisional),
        TEST_CASE(surveyd_stops_and_the_waves_close),
        TEST_CASE(unweighted_index_reproduces_the_seed_table),
        TEST_CASE(the_recorded_run_prints_the_same_bytes),
        TEST_CASE(raked_index_by_industry_and_size),
        TEST_CASE(raking_names_a_margin_category_without_respondents),
        TEST_CASE(the_html_report_is_self_contained_and_renders_in_chromium)};
    int rc = testlib_run(cases, sizeof cases / sizeof cases[0]);
    SD_DUMP_LOG_ON_FAILURE(daemon_, 0);
    cJSON_Delete(unweighted);
    free(first_json);
    sd_daemon_free(daemon_);
    sd_env_free(&env);
    return rc;
}
