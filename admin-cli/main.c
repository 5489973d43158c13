/*
 * survey-admin: the administrator's command-line tool. This file is the table of commands and
 * their help texts; each command lives in its own module (migrate.c, qcheck.c, wave.c,
 * invite.c) and the command-line frame in cli.c.
 */
#include <stdio.h>

#include "cli.h"
#include "export.h"
#include "index.h"
#include "invite.h"
#include "migrate.h"
#include "qcheck.h"
#include "wave.h"

#define ROWS(table) (sizeof(table) / sizeof((table)[0]))

static const char migrate_usage[] =
    "Usage: survey-admin migrate [--db CONNINFO]\n"
    "\n"
    "Applies the migrations built into this binary (migrations/NNNN_name.sql) that the database\n"
    "does not have yet, in order, each in its own transaction, and records them in\n"
    "public.schema_migrations. Concurrent runs wait for each other; running it again does\n"
    "nothing. Refuses a database whose recorded migration differs from the built-in one.\n"
    "\n"
    "Output: \"applied NNNN_name\" per migration, then \"schema is up to date (version N)\".\n";

static const char qcheck_usage[] =
    "Usage: survey-admin questionnaire check FILE\n"
    "\n"
    "Checks a questionnaire definition (at most 1 MiB) with the daemon's own loader.\n"
    "\n"
    "Output: \"FILE: ok: ID VERSION, N questions, N indicators, N pillars\" and exit status 0,\n"
    "or one line per problem, \"FILE: JSON-POINTER: message\", and exit status 1.\n"
    "Needs no database.\n";

static const char wave_create_usage[] =
    "Usage: survey-admin wave create WAVE --questionnaire FILE [--access invite|open]\n"
    "                                [--margins FILE] [--about FILE]\n"
    "\n"
    "Creates wave WAVE (1 to 64 of a-z, 0-9, \"_\", \"-\"; starting with a letter or digit) in\n"
    "draft. The definition is checked as by \"questionnaire check\" and stored once per content.\n"
    "\n"
    "Options:\n"
    "  --questionnaire FILE  the questionnaire definition (JSON)\n"
    "  --access invite|open  invite: respondents need an invitation token (the default);\n"
    "                        open: anyone with the link may answer once per submission\n"
    "  --margins FILE        population margins for weighting: a JSON object mapping single-\n"
    "                        choice questions to {option: share or count} for every option\n"
    "  --about FILE          the study description that reports and codebooks disclose: a JSON\n"
    "                        object with title, sponsor, conducted_by, population, sample (how\n"
    "                        it was drawn and recruited) and optionally mode, notes, contact;\n"
    "                        each a string or {\"ko\": ..., \"en\": ...} (docs/admin-cli.md)\n";

static const char wave_about_usage[] =
    "Usage: survey-admin wave about WAVE --about FILE\n"
    "\n"
    "Stores or replaces the study description of wave WAVE (see \"wave create --about\"), in\n"
    "any state: it describes the data without changing them. The change is audit-logged.\n";

static const char wave_open_usage[] = "Usage: survey-admin wave open WAVE\n"
                                      "\n"
                                      "Opens a draft wave: from now on it accepts submissions.\n";

static const char wave_close_usage[] =
    "Usage: survey-admin wave close WAVE\n"
    "\n"
    "Closes an open wave for good and prints its final number of responses. Waits for the\n"
    "submissions being stored right now: once it returns, nothing more is accepted and every\n"
    "acknowledged submission is in the wave. A closed wave cannot be reopened.\n";

static const char wave_status_usage[] =
    "Usage: survey-admin wave status WAVE [--json]\n"
    "\n"
    "Shows a wave's status, access, questionnaire, times, responses and invitations.\n"
    "\n"
    "Options:\n"
    "  --json   one JSON object on one line (fields in docs/admin-cli.md)\n";

static const char invite_usage[] =
    "Usage: survey-admin invite WAVE --count N [--out FILE] [--base-url URL]\n"
    "\n"
    "Issues N one-time invitation tokens for an invite-only wave that is not closed. Each token\n"
    "is shown once, as CSV (RFC 4180) with the header \"token,url\"; only its SHA-256 is stored.\n"
    "\n"
    "Options:\n"
    "  --count N       how many, 1 to 1000000\n"
    "  --out FILE      write the CSV to FILE, created with mode 0600; an existing FILE is\n"
    "                  never overwritten (default: standard output)\n"
    "  --base-url URL  where respondents reach the form; each url is URL/s/WAVE?t=TOKEN\n"
    "                  (default: " INVITE_DEFAULT_BASE_URL ")\n";

static const char index_usage[] =
    "Usage: survey-admin index WAVE [--weights none|rake] [--by VAR,...]\n"
    "                          [--format table|json|csv|html] [--out FILE] [--lang LANG]\n"
    "                          [--provisional] [--run ID]\n"
    "\n"
    "Computes the questionnaire's indicators and composite over the wave's eligible responses,\n"
    "with 95% intervals (docs/statistics.md), records the run in survey.index_runs, and prints\n"
    "it. Refuses an open wave unless --provisional (the output is then marked provisional).\n"
    "\n"
    "Options:\n"
    "  --weights none|rake  unweighted (Wilson intervals), or raked to the wave's margins\n"
    "                       (linearised variance, logit intervals)\n"
    "  --by VAR,...         every estimate also per category of these single-choice questions;\n"
    "                       bases under 10 are suppressed, under 30 flagged as low\n"
    "  --format FORMAT      table (default), json (the recorded document), csv, or html (a\n"
    "                       self-contained report with charts and the methodology)\n"
    "  --out FILE           write to FILE (replaced atomically) instead of standard output\n"
    "  --lang LANG          labels' language in table, csv and html (default: the\n"
    "                       questionnaire's)\n"
    "  --run ID             print a recorded run again instead of computing one\n";

static const char export_usage[] =
    "Usage: survey-admin export WAVE --format csv|sav|jsonl [--out FILE] [--codebook PREFIX]\n"
    "                           [--k N] [--max-suppressed PCT] [--top-code PCT]\n"
    "                           [--key-file FILE] [--lang LANG] [--excel] [--provisional]\n"
    "\n"
    "Writes the wave's eligible responses as anonymised microdata with a codebook\n"
    "(docs/export.md): no identifying question, free text, e-mail, invitation, submission or\n"
    "database id, and of the receive time only the week of fieldwork. Each row gets a\n"
    "pseudonymous id (HMAC-SHA-256); the quasi-identifiers are made k-anonymous by local\n"
    "suppression (the risk report goes to standard error and into the codebook); numbers are\n"
    "top-coded. Refuses an open wave unless --provisional. Refuses, writing nothing, when\n"
    "k-anonymity would need suppression in more than --max-suppressed percent of records.\n"
    "\n"
    "Options:\n"
    "  --format FORMAT       csv (RFC 4180, UTF-8), sav (SPSS, with labels and missing\n"
    "                        values) or jsonl (one JSON object per line)\n"
    "  --out FILE            write to FILE (replaced atomically) instead of standard output\n"
    "  --codebook PREFIX     write the codebook to PREFIX.md and PREFIX.json (default:\n"
    "                        FILE.codebook.md and FILE.codebook.json beside --out FILE)\n"
    "  --k N                 at least N records share every combination of quasi-identifier\n"
    "                        values (default 5)\n"
    "  --max-suppressed PCT  the largest share of records that may lose a value (default 10;\n"
    "                        at most two decimals; exactly PCT percent is allowed)\n"
    "  --top-code PCT        with n answers, the top max(1, ceil(n x (100 - PCT) / 100)) of a\n"
    "                        number are set to the largest answer below them (default 99;\n"
    "                        100 keeps every value)\n"
    "  --key-file FILE       the secret for pseudonyms, at least 16 bytes (default: the\n"
    "                        variable " EXPORT_KEY_ENV "): the same key gives the same ids\n"
    "                        in every export, which joins them: never give one recipient two\n"
    "                        exports of a wave suppressed differently; without a key, ids\n"
    "                        are random for this export\n"
    "  --lang LANG           labels' language in the .sav file and the Markdown codebook\n"
    "                        (default: the questionnaire's)\n"
    "  --excel               csv: start with a byte order mark so Excel reads UTF-8\n"
    "  --provisional         export an open wave, marked provisional in the codebook\n";

static const struct cli_command questionnaire_commands[] = {
    {"check", "questionnaire check", "check a questionnaire definition and list its problems",
     qcheck_usage, "FILE", qcheck_main, NULL, 0},
};

static const struct cli_command wave_commands[] = {
    {"create", "wave create", "create a wave, in draft", wave_create_usage, "WAVE",
     wave_create_main, NULL, 0},
    {"about", "wave about", "store or replace a wave's study description", wave_about_usage,
     "WAVE", wave_about_main, NULL, 0},
    {"open", "wave open", "open a draft wave to submissions", wave_open_usage, "WAVE",
     wave_open_main, NULL, 0},
    {"close", "wave close", "close an open wave for good", wave_close_usage, "WAVE",
     wave_close_main, NULL, 0},
    {"status", "wave status", "show a wave's state and counts", wave_status_usage, "WAVE",
     wave_status_main, NULL, 0},
};

static const struct cli_command top_commands[] = {
    {"migrate", "migrate", "bring the database schema up to date", migrate_usage, NULL,
     migrate_main, NULL, 0},
    {"questionnaire", "questionnaire", "work with questionnaire definitions", NULL, NULL, NULL,
     questionnaire_commands, ROWS(questionnaire_commands)},
    {"wave", "wave", "create, open, close and inspect survey waves", NULL, NULL, NULL,
     wave_commands, ROWS(wave_commands)},
    {"invite", "invite", "issue one-time invitation tokens for a wave", invite_usage, "WAVE",
     invite_main, NULL, 0},
    {"index", "index", "compute, record and print a wave's index", index_usage, "WAVE",
     index_main, NULL, 0},
    {"export", "export", "export a wave's anonymised microdata and codebook", export_usage,
     "WAVE", export_main, NULL, 0},
};

static const struct cli_command root = {
    .name = "survey-admin",
    .path = "",
    .summary = "",
    .subcommands = top_commands,
    .n_subcommands = ROWS(top_commands),
};

int main(int argc, char **argv)
{
    struct cli_ctx ctx = {.conninfo = NULL};
    int status = cli_dispatch(&ctx, &root, argc, argv);
    if (fflush(stdout) != 0 && status == CLI_EXIT_OK) {
        cli_error("could not write to standard output");
        status = CLI_EXIT_FAIL;
    }
    return status;
}
