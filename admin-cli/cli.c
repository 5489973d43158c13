/*
 * The command-line frame: walking the command table, parsing long options, printing errors and
 * usage. Nothing here knows what a command does; main.c holds the table.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CLI_PROGRAM "survey-admin"
#define CLI_GLOBAL_OPTIONS                                                                         \
    "Global options (before or after the command):\n"                                              \
    "  --db CONNINFO   a libpq connection string or URI (default: $DATABASE_URL, then the\n"       \
    "                  PGHOST, PGDATABASE, ... variables)\n"                                       \
    "  --help          show this help and exit\n"

/* Write s to out with control characters (other than newline) shown as '?'. */
static void cli_put_clean(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int c = *p;
        if (c == 0x7f || (c < 0x20 && c != '\n')) {
            c = '?';
        }
        fputc(c, out);
    }
}

static void cli_verror(const char *fmt, va_list ap)
{
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    /* A one-line reason: a newline inside a server message would break that promise. */
    for (char *p = line; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
    fputs(CLI_PROGRAM ": ", stderr);
    cli_put_clean(stderr, line);
    fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_verror(fmt, ap);
    va_end(ap);
}

static void cli_print_usage(FILE *out, const struct cli_command *cmd)
{
    if (cmd->subcommands == NULL) {
        fputs(cmd->usage, out);
        fputs("\n" CLI_GLOBAL_OPTIONS, out);
        return;
    }
    if (cmd->path[0] == '\0') {
        fprintf(out, "Usage: %s COMMAND [ARGS...] [OPTIONS]\n\n", CLI_PROGRAM);
        fputs("Administers survey waves: schema migrations, questionnaires, waves, invitations.\n",
              out);
    } else {
        fprintf(out, "Usage: %s %s COMMAND [ARGS...] [OPTIONS]\n", CLI_PROGRAM, cmd->path);
    }
    fputs("\nCommands:\n", out);
    for (size_t i = 0; i < cmd->n_subcommands; i++) {
        const struct cli_command *sub = &cmd->subcommands[i];
        fprintf(out, "  %-15s %s\n", sub->name, sub->summary);
    }
    fputs("\n" CLI_GLOBAL_OPTIONS, out);
    fprintf(out, "\nRun \"%s %s%sCOMMAND --help\" for a command's options.\n", CLI_PROGRAM,
            cmd->path, cmd->path[0] ? " " : "");
    fputs("Exit status: 0 success, 1 error (one line on stderr says why), 2 usage error.\n", out);
}

/* The short form after a usage error: the synopsis, the commands of a group, where to look. */
static void cli_print_synopsis(FILE *out, const struct cli_command *cmd)
{
    const char *sep = cmd->path[0] ? " " : "";
    if (cmd->subcommands == NULL) {
        const char *end = strstr(cmd->usage, "\n\n");
        int n = end ? (int)(end - cmd->usage) : (int)strlen(cmd->usage);
        fprintf(out, "%.*s\n", n, cmd->usage);
    } else {
        fprintf(out, "Usage: %s %s%sCOMMAND [ARGS...] [OPTIONS]\nCommands:", CLI_PROGRAM, cmd->path,
                sep);
        for (size_t i = 0; i < cmd->n_subcommands; i++) {
            fprintf(out, "%s %s", i ? "," : "", cmd->subcommands[i].name);
        }
        fputc('\n', out);
    }
    fprintf(out, "Try \"%s %s%s--help\" for more information.\n", CLI_PROGRAM, cmd->path, sep);
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_verror(fmt, ap);
    va_end(ap);
    cli_print_synopsis(stderr, cmd);
    return CLI_EXIT_USAGE;
}

enum cli_global_result {
    CLI_GLOBAL_NONE, /* argv[i] is not a global option */
    CLI_GLOBAL_TAKEN,
    CLI_GLOBAL_HELP,
    CLI_GLOBAL_ERROR, /* already reported */
};

/* Consume a global option at argv[*i] ("--db X", "--db=X", "--help", "-h"). */
static enum cli_global_result cli_take_global(struct cli_ctx *ctx, const struct cli_command *cmd,
                                              int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        return CLI_GLOBAL_HELP;
    }
    if (strncmp(arg, "--db", 4) != 0 || (arg[4] != '\0' && arg[4] != '=')) {
        return CLI_GLOBAL_NONE;
    }
    const char *value = NULL;
    if (arg[4] == '=') {
        value = arg + 5;
    } else if (*i + 1 < argc) {
        *i += 1;
        value = argv[*i];
    } else {
        cli_usage_error(cmd, "option --db needs a value");
        return CLI_GLOBAL_ERROR;
    }
    if (ctx->conninfo != NULL && strcmp(ctx->conninfo, value) != 0) {
        cli_usage_error(cmd, "option --db given twice");
        return CLI_GLOBAL_ERROR;
    }
    ctx->conninfo = value;
    return CLI_GLOBAL_TAKEN;
}

static struct cli_opt *cli_find_opt(struct cli_opt *opts, size_t n_opts, const char *name,
                                    size_t name_len)
{
    for (size_t k = 0; k < n_opts; k++) {
        if (strlen(opts[k].name) == name_len && strncmp(opts[k].name, name, name_len) == 0) {
            return &opts[k];
        }
    }
    return NULL;
}

enum cli_parse_result cli_parse(struct cli_ctx *ctx, const struct cli_command *cmd, int argc,
                                char **argv, struct cli_opt *opts, size_t n_opts,
                                const char **out_arg)
{
    size_t n_positional = cmd->arg_name != NULL ? 1 : 0;
    size_t n_found = 0;
    bool options_done = false;

    /* --help wins over every other mistake on the line, as users expect. */
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cli_print_usage(stdout, cmd);
            return CLI_HELP_SHOWN;
        }
    }

    for (size_t k = 0; k < n_opts; k++) {
        opts[k].value = NULL;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool is_option = !options_done && arg[0] == '-' && arg[1] != '\0';
        if (!is_option) {
            if (n_found >= n_positional) {
                cli_usage_error(cmd, "unexpected argument \"%s\"", arg);
                return CLI_USAGE_ERROR;
            }
            *out_arg = arg;
            n_found++;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        enum cli_global_result g = cli_take_global(ctx, cmd, argc, argv, &i);
        if (g == CLI_GLOBAL_ERROR) {
            return CLI_USAGE_ERROR;
        }
        if (g == CLI_GLOBAL_TAKEN || g == CLI_GLOBAL_HELP) {
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            cli_usage_error(cmd, "unknown option \"%s\"", arg);
            return CLI_USAGE_ERROR;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
        struct cli_opt *opt = cli_find_opt(opts, n_opts, name, name_len);
        if (opt == NULL) {
            cli_usage_error(cmd, "unknown option \"--%.*s\"", (int)name_len, name);
            return CLI_USAGE_ERROR;
        }
        if (opt->value != NULL) {
            cli_usage_error(cmd, "option --%s given twice", opt->name);
            return CLI_USAGE_ERROR;
        }
        if (!opt->takes_value) {
            if (eq != NULL) {
                cli_usage_error(cmd, "option --%s takes no value", opt->name);
                return CLI_USAGE_ERROR;
            }
            opt->value = "";
        } else if (eq != NULL) {
            opt->value = eq + 1;
        } else if (i + 1 < argc) {
            opt->value = argv[++i];
        } else {
            cli_usage_error(cmd, "option --%s needs a value", opt->name);
            return CLI_USAGE_ERROR;
        }
    }
    if (n_found < n_positional) {
        cli_usage_error(cmd, "missing argument %s", cmd->arg_name);
        return CLI_USAGE_ERROR;
    }
    return CLI_PARSED;
}

int cli_dispatch(struct cli_ctx *ctx, const struct cli_command *group, int argc, char **argv)
{
    int i = 1;
    for (; i < argc; i++) {
        enum cli_global_result g = cli_take_global(ctx, group, argc, argv, &i);
        if (g == CLI_GLOBAL_ERROR) {
            return CLI_EXIT_USAGE;
        }
        if (g == CLI_GLOBAL_HELP) {
            cli_print_usage(stdout, group);
            return CLI_EXIT_OK;
        }
        if (g == CLI_GLOBAL_NONE) {
            break;
        }
    }
    if (i >= argc) {
        return cli_usage_error(group, "no command given");
    }
    const char *name = argv[i];
    for (size_t k = 0; k < group->n_subcommands; k++) {
        const struct cli_command *sub = &group->subcommands[k];
        if (strcmp(sub->name, name) != 0) {
            continue;
        }
        if (sub->subcommands != NULL) {
            return cli_dispatch(ctx, sub, argc - i, argv + i);
        }
        return sub->run(ctx, sub, argc - i, argv + i);
    }
    if (name[0] == '-') {
        return cli_usage_error(group, "unknown option \"%s\"", name);
    }
    if (group->path[0] == '\0') {
        return cli_usage_error(group, "unknown command \"%s\"", name);
    }
    return cli_usage_error(group, "unknown command \"%s %s\"", group->path, name);
}

void cli_print_problems(FILE *out, const char *label, const struct qproblems *problems)
{
    for (size_t i = 0; i < problems->count; i++) {
        const struct qproblem *p = &problems->items[i];
        cli_put_clean(out, label);
        fputs(": ", out);
        cli_put_clean(out, p->path[0] ? p->path : "/");
        fputs(": ", out);
        cli_put_clean(out, p->message);
        fputc('\n', out);
    }
    if (problems->truncated) {
        cli_put_clean(out, label);
        fprintf(out, ": more problems were found; only the first %zu are listed\n",
                problems->count);
    }
    if (problems->no_memory) {
        cli_put_clean(out, label);
        fputs(": out of memory; the list of problems is incomplete\n", out);
    }
}
