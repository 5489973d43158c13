/*
 * The command-line frame of survey-admin: the command table's row type, option parsing with the
 * global --db accepted anywhere, and diagnostics in PostgreSQL's style ("survey-admin: ...").
 * Exit status: 0 success, 1 a user error with a one-line reason, 2 a usage error with usage text.
 */
#ifndef SURVEY_ADMIN_CLI_H
#define SURVEY_ADMIN_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "qproblem.h"

enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,  /* a user error: one line on stderr says why */
    CLI_EXIT_USAGE = 2, /* bad command line: the reason, then the usage text */
};

/* What every command is given: the connection string from --db (NULL: DATABASE_URL, then PG*). */
struct cli_ctx {
    const char *conninfo;
};

struct cli_command;

/* A command's body; argv[0] is the command's own name. Returns an enum cli_exit value. */
typedef int (*cli_run_fn)(struct cli_ctx *ctx, const struct cli_command *cmd, int argc,
                          char **argv);

/*
 * One row of a command table: either a leaf with run, or a group with subcommands (then usage is
 * generated from the rows). path is the full command, e.g. "wave create", for messages and help.
 */
struct cli_command {
    const char *name;
    const char *path;
    const char *summary;  /* one line, shown in the group's help */
    const char *usage;    /* leaf: the full --help text, starting with "Usage: " */
    const char *arg_name; /* leaf: its one positional argument ("WAVE", "FILE"), or NULL */
    cli_run_fn run;
    const struct cli_command *subcommands;
    size_t n_subcommands;
};

/* One long option a command accepts; cli_parse fills value ("" for a flag that was given). */
struct cli_opt {
    const char *name; /* without the leading "--" */
    bool takes_value;
    const char *value; /* NULL when absent */
};

enum cli_parse_result {
    CLI_PARSED,      /* the options and the positional argument were found */
    CLI_HELP_SHOWN,  /* --help was given: the usage went to stdout, exit 0 */
    CLI_USAGE_ERROR, /* the reason and the usage went to stderr, exit 2 */
};

/*
 * Parse a leaf command's arguments (argv[0] is its name): the options in opts, "--db CONNINFO"
 * (stored in ctx), "--help", and the one positional argument named cmd->arg_name (stored in
 * *out_arg) or none. Options and the argument may come in any order; "--" ends the options.
 */
enum cli_parse_result cli_parse(struct cli_ctx *ctx, const struct cli_command *cmd, int argc,
                                char **argv, struct cli_opt *opts, size_t n_opts,
                                const char **out_arg) __attribute__((warn_unused_result));

/* The exit status for a parse that did not end in CLI_PARSED: 0 after --help, else 2. */
static inline int cli_parse_status(enum cli_parse_result parsed)
{
    return parsed == CLI_HELP_SHOWN ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

/*
 * Run the command named by argv[0] of a group's table, after any global options (argv[0] of
 * the call is the group's own name, or the program's for the top level).
 */
int cli_dispatch(struct cli_ctx *ctx, const struct cli_command *group, int argc, char **argv);

/* Print "survey-admin: <message>" on stderr, control characters replaced. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a usage error for cmd ("survey-admin: <message>" then cmd's usage) and return 2. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Print every problem of a list as "<label>: <path>: <message>" on out (the whole document's
 * path "" shows as "/"), and a last line when the list was cut or an allocation failed.
 */
void cli_print_problems(FILE *out, const char *label, const struct qproblems *problems);

#endif
