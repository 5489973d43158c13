/*
 * ha_require_close CONNINFO WAVE: survey-admin's db_require_replayed_close on one server, for
 * the HA tests (ha_failover.py), which need to ask it of a primary and of a standby that has or
 * has not replayed a close. Exit 0 when it accepts, 1 when it refuses (its reason on stderr),
 * 3 when the connection fails, 2 on usage.
 */
#include <stdio.h>

#include "cli.h"
#include "db.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ha_require_close CONNINFO WAVE\n");
        return 2;
    }
    struct cli_ctx ctx = {argv[1]};
    PGconn *conn = db_connect(&ctx);
    if (conn == NULL) {
        return 3;
    }
    bool accepted = db_require_replayed_close(conn, argv[2]);
    PQfinish(conn);
    return accepted ? 0 : 1;
}
