#!/usr/bin/env bash
# Invitations exist only for invite-only waves that are not closed: an open-access wave, a
# closed wave and an unknown wave are refused with one line, and nothing is stored or written.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

migrate
admin wave create public-wave --questionnaire "$BUNDLED" --access open
admin wave create closing --questionnaire "$BUNDLED"

admin invite public-wave --count 5
expect_error_line '^survey-admin: wave "public-wave" has open access; invitations are only for invite-only waves$' \
    "open access is refused"
expect_eq "$OUT" "" "no token is printed"

admin invite missing --count 5
expect_error_line '^survey-admin: wave "missing" does not exist$' "an unknown wave is refused"

# Draft and open invite-only waves take invitations; a closed one does not.
admin invite closing --count 2
expect_rc 0 "a draft invite-only wave takes invitations"
admin wave open closing
admin invite closing --count 2
expect_rc 0 "an open invite-only wave takes invitations"
admin wave close closing
admin invite closing --count 5 --out "$TMP/late.csv"
expect_error_line '^survey-admin: wave "closing" is closed; a closed wave takes no more invitations$' \
    "a closed wave is refused"
expect_eq "$([[ -e $TMP/late.csv ]] && echo exists || echo absent)" "absent" "no file is left behind"

expect_eq "$(sql "SELECT coalesce(string_agg(wave_id || ':' || n, ','), '') FROM (SELECT wave_id, count(*) AS n FROM survey.invitations GROUP BY 1) s")" \
    "closing:4" "only the accepted runs stored hashes"
expect_eq "$(sql "SELECT count(*) FROM survey.audit_log WHERE action = 'invite'")" "2" \
    "only the accepted runs are audited"

finish
