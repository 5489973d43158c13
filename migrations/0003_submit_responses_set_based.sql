-- 0003: survey.submit_responses works set-based. Same signature, same results, the same locks
-- in the same order (docs/storage.md); only the cost changes. 0001 worked item by item: a helper
-- call (each paying for its own search_path switch) for every existing-row check, claim and
-- INSERT, about 80 µs of server CPU per item even in large batches. Now a batch takes two
-- statements whatever its size:
--
--   1. parse and shape-check every item, and lock the batch's waves;
--   2. look up every stored (wave, submission_id), lock the invitations to claim, insert every
--      new row, bind the claimed invitations to them, and build the answer.
--
-- Work item by item is left for the rare cases, after statement 2: a token that could not be
-- claimed, an item that lost its insert to a duplicate, and an item whose token another item of
-- the batch claimed first (the 0001 helpers).
--
-- The helpers of 0001 (submission_*) stay: that last case uses them, and nobody but the owner
-- may call them.

-- One item of a batch once parsed, with what its wave alone decides. Internal to
-- submit_responses (arrays of it carry the batch from one statement to the next).
CREATE TYPE survey.submission_item AS (
    wave     text,      -- NULL: the item is malformed (invalid_item)
    sid      uuid,
    token    bytea,
    answers  jsonb,
    screened boolean,
    qid      bigint,    -- the wave's questionnaire
    out_sid  uuid,      -- the submission_id the outcome echoes (also for an invalid_item)
    status   text,      -- the outcome, when the shape or the wave decides it
    stage    int        -- 0 decided, 1 claim a token then insert, 2 insert
);
REVOKE ALL ON TYPE survey.submission_item FROM PUBLIC;

-- plan_cache_mode: the two statements are planned once per session, not on every call.
-- PL/pgSQL would otherwise keep planning them for the batch at hand (a plan for one item always
-- looks cheaper than the generic one), which costs more than executing them for small batches.
-- The generic plans are the ones wanted at any size: index probes for every lookup.
CREATE OR REPLACE FUNCTION survey.submit_responses(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, survey
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    -- An item's stage, what is left to do for it: 0 decided; 1 claim its token, then insert;
    -- 2 insert (an open-access wave); 3 insert, holding the token it claimed; 4 decide after the
    -- inserts (another item of the batch claimed its token first); 5 decide after statement 2
    -- (its token could not be claimed).
    v_n        int;
    v_items    survey.submission_item[];   -- in batch order
    v_out      jsonb;        -- the answer; JSON null for an item still to decide
    v_pending  int[];        -- items whose token could not be claimed
    v_lost     int[];        -- items that were to insert and did not
    v_later    int[];        -- items whose token another item of the batch claimed first
    v_own      uuid[];       -- receipts of the rows this batch created
    v_item     survey.submission_item;
    v_one      jsonb;
    v_i        int;
    v_row      record;
BEGIN
    IF batch IS NULL OR jsonb_typeof(batch) <> 'array' THEN
        RAISE EXCEPTION 'submit_responses expects a JSON array'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_n := jsonb_array_length(batch);
    IF v_n = 0 THEN
        RETURN '[]'::jsonb;
    END IF;

    -- 1. Shape, every item in one pass, and the waves' row locks. A malformed item is answered
    --    invalid_item; it never aborts the others: no check can raise, and every cast is behind
    --    a CASE on them. (The checks are those of 0001, written without bounded-repetition
    --    regular expressions, which cost microseconds per item: a submission_id is 36
    --    characters, hex digits and '-', with '-' exactly at 9, 14, 19 and 24; a token is 64
    --    characters, all lowercase hex digits.)
    --    The waves are locked FOR SHARE in id order, for the rest of the transaction, and read
    --    as they are once locked: a batch that waited for a `wave close` sees the wave closed.
    --    What the wave alone decides is noted here; a stored submission_id, looked up in
    --    statement 2, takes precedence over it.
    WITH p AS MATERIALIZED (
        SELECT t.i, t.e, s.sid_ok,
               s.sid_ok
               AND coalesce(jsonb_typeof(t.e) = 'object'
                            AND jsonb_typeof(t.e -> 'wave') = 'string'
                            AND coalesce(jsonb_typeof(t.e -> 'token_sha256'), 'null')
                                    IN ('null', 'string')
                            AND (t.e ->> 'token_sha256' IS NULL
                                 OR (octet_length(t.e ->> 'token_sha256') = 64
                                     AND (t.e ->> 'token_sha256') ~ '^[0-9a-f]*$'))
                            AND jsonb_typeof(t.e -> 'answers') = 'object'
                            AND jsonb_typeof(t.e -> 'screened_out') = 'boolean',
                            false) AS ok
          FROM jsonb_array_elements(batch) WITH ORDINALITY AS t(e, i),
               LATERAL (SELECT coalesce(jsonb_typeof(t.e -> 'submission_id') = 'string'
                                        AND (t.e ->> 'submission_id')
                                                LIKE '________-____-____-____-____________'
                                        AND (t.e ->> 'submission_id') ~ '^[0-9A-Fa-f-]*$'
                                        AND octet_length(replace(t.e ->> 'submission_id',
                                                                 '-', '')) = 32,
                                        false) AS sid_ok
                         OFFSET 0) s),
    w AS MATERIALIZED (
        SELECT w.id, w.status, w.access, w.questionnaire_id
          FROM survey.waves w
         WHERE w.id = ANY ((SELECT array_agg(p.e ->> 'wave') FROM p WHERE p.ok)::text[])
         ORDER BY w.id
           FOR SHARE)
    SELECT array_agg(ROW(CASE WHEN p.ok THEN p.e ->> 'wave' END,
                       CASE WHEN p.ok THEN (p.e ->> 'submission_id')::uuid END,
                       CASE WHEN p.ok THEN decode(p.e ->> 'token_sha256', 'hex') END,
                       CASE WHEN p.ok THEN p.e -> 'answers' END,
                       CASE WHEN p.ok THEN (p.e -> 'screened_out')::boolean END,
                       w.questionnaire_id,
                       CASE WHEN p.sid_ok THEN (p.e ->> 'submission_id')::uuid END,
                       CASE WHEN NOT p.ok THEN 'invalid_item'
                            WHEN w.id IS NULL THEN 'wave_unknown'
                            WHEN w.status = 'draft' THEN 'wave_not_open'
                            WHEN w.status = 'closed' THEN 'wave_closed'
                            WHEN w.access = 'open' THEN NULL
                            WHEN p.e ->> 'token_sha256' IS NULL THEN 'invitation_invalid'
                       END,
                       -- A token sent to an open-access wave is ignored: it has none to spend.
                       CASE WHEN NOT p.ok OR w.id IS NULL OR w.status <> 'open' THEN 0
                            WHEN w.access = 'open' THEN 2
                            WHEN p.e ->> 'token_sha256' IS NULL THEN 0
                            ELSE 1
                       END)::survey.submission_item ORDER BY p.i)
      INTO v_items
      FROM p LEFT JOIN w ON p.ok AND w.id = p.e ->> 'wave';

    -- 2. One statement, so one snapshot, taken after the wave locks.
    --    t: a stored submission_id answers first, whatever the wave's status (a retry after a
    --       lost acknowledgement gets its receipt even once the wave has closed) and whatever
    --       token the item carries.
    --    l: the invitations the remaining items may claim (this wave's, unused) are locked, in
    --       token order: the ORDER BY fixes the lock order, since rows are locked as the sort
    --       hands them out, whatever plan finds them. A row another transaction holds is waited
    --       for, then read again as that transaction left it. The lock is the claim: used_at is
    --       set in b, with response_id, once the item's row is stored, so an item that loses its
    --       insert to a duplicate leaves the invitation unspent.
    --    s: of several items with one token, the first (in batch order) of the token's wave
    --       claims it (stage 3); the ones after it are decided after the inserts (4). An item
    --       whose token was not locked (spent, unknown, another wave's; or another wave's item
    --       before the claimer) is decided after this statement too (5); see below.
    --    ins: every item to insert (2, 3), the first of several with one submission_id, in
    --       (wave, submission_id) order; the sorts before it need every row of l, so every token
    --       is locked before the first insert. A row of a concurrent transaction makes ON
    --       CONFLICT skip ours (after waiting for it when it has not committed yet).
    --    b: a claimed invitation gets used_at and its response.
    --    The answer: created, or what t decided; JSON null for an item still to decide.
    WITH t AS MATERIALIZED (
        SELECT u.i, u.wave, u.sid, u.token, u.answers, u.screened, u.qid, u.out_sid,
               CASE WHEN r.id IS NULL THEN u.status
                    WHEN r.answers = u.answers THEN 'replayed'
                    ELSE 'submission_conflict'
               END AS status,
               CASE WHEN r.answers = u.answers THEN r.receipt_id END AS receipt,
               CASE WHEN r.answers = u.answers THEN r.received_at END AS at,
               CASE WHEN r.id IS NULL THEN u.stage ELSE 0 END AS stage
          FROM unnest(v_items) WITH ORDINALITY
                   AS u(wave, sid, token, answers, screened, qid, out_sid, status, stage, i)
          LEFT JOIN survey.responses r ON r.wave_id = u.wave AND r.submission_id = u.sid),
    l AS MATERIALIZED (
        SELECT iv.token_sha256 AS token, iv.wave_id AS wave
          FROM survey.invitations iv
         WHERE iv.token_sha256 = ANY ((SELECT array_agg(t.token) FROM t WHERE t.stage = 1)::bytea[])
           AND iv.used_at IS NULL
           AND encode(iv.token_sha256, 'hex') || iv.wave_id
               = ANY ((SELECT array_agg(encode(t.token, 'hex') || t.wave)
                         FROM t WHERE t.stage = 1)::text[])
         ORDER BY iv.token_sha256
           FOR NO KEY UPDATE),
    s AS MATERIALIZED (
        SELECT t.i, t.wave, t.sid, t.token, t.answers, t.screened, t.qid, t.out_sid, t.status,
               t.receipt, t.at,
               CASE WHEN t.stage <> 1 THEN t.stage
                    WHEN f.first IS NULL OR t.i < f.first THEN 5
                    WHEN t.i = f.first THEN 3
                    ELSE 4
               END AS stage
          FROM t
          LEFT JOIN (SELECT l.token, min(k.i) AS first
                       FROM l JOIN t k ON k.token = l.token AND k.wave = l.wave AND k.stage = 1
                      GROUP BY l.token) f ON f.token = t.token),
    fi AS MATERIALIZED (
        SELECT DISTINCT ON (s.wave, s.sid) s.i, s.wave, s.sid, s.qid, s.answers, s.screened
          FROM s
         WHERE s.stage IN (2, 3)
         ORDER BY s.wave, s.sid, s.i),
    ins AS (
        INSERT INTO survey.responses AS r
               (wave_id, submission_id, questionnaire_id, answers, screened_out, received_at)
        SELECT fi.wave, fi.sid, fi.qid, fi.answers, fi.screened, now()
          FROM fi
         ORDER BY fi.wave, fi.sid
        ON CONFLICT (wave_id, submission_id) DO NOTHING
        RETURNING r.id, r.wave_id, r.submission_id, r.receipt_id, r.received_at),
    o AS MATERIALIZED (
        SELECT s.i, s.out_sid, s.token, s.stage,
               CASE WHEN n.id IS NOT NULL THEN 'created' ELSE s.status END AS status,
               coalesce(n.receipt_id, s.receipt) AS receipt,
               coalesce(n.received_at, s.at) AS at,
               n.id
          FROM s
          LEFT JOIN (fi JOIN ins n ON n.wave_id = fi.wave AND n.submission_id = fi.sid)
                 ON fi.i = s.i),
    b AS (
        UPDATE survey.invitations iv SET used_at = now(), response_id = o.id
          FROM o
         WHERE o.stage = 3 AND o.id IS NOT NULL AND iv.token_sha256 = o.token)
    SELECT jsonb_agg(CASE WHEN o.status IS NULL THEN 'null'::jsonb
                          WHEN o.receipt IS NULL
                          THEN jsonb_build_object('submission_id', o.out_sid, 'status', o.status)
                          ELSE jsonb_build_object(
                                   'submission_id', o.out_sid, 'status', o.status,
                                   'response_id', o.receipt,
                                   'received_at', to_char(o.at AT TIME ZONE 'UTC',
                                                          'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                     END ORDER BY o.i),
           array_agg(o.i) FILTER (WHERE o.stage = 5),
           array_agg(o.i) FILTER (WHERE o.stage IN (2, 3) AND o.id IS NULL),
           array_agg(o.i ORDER BY o.i) FILTER (WHERE o.stage = 4),
           array_agg(o.receipt) FILTER (WHERE o.id IS NOT NULL)
      INTO v_out, v_pending, v_lost, v_later, v_own
      FROM o;

    IF v_pending IS NULL AND v_lost IS NULL AND v_later IS NULL THEN
        RETURN v_out;
    END IF;

    -- Rare cases, one item at a time. An outcome is the same object as above.

    -- Tokens that could not be claimed: the submission stored after all (by a concurrent
    -- transaction: one that committed while we waited for its token) is answered as a stored
    -- one; otherwise the token is this wave's and spent, or not this wave's at all. The rows
    -- this batch created do not count: 0001 decided these items before its inserts.
    IF v_pending IS NOT NULL THEN
        FOREACH v_i IN ARRAY v_pending LOOP
            v_item := v_items[v_i];
            SELECT r.id, r.answers = v_item.answers AS same, r.receipt_id, r.received_at
              INTO v_row
              FROM survey.responses r
             WHERE r.wave_id = v_item.wave AND r.submission_id = v_item.sid
               AND r.receipt_id <> ALL (coalesce(v_own, '{}'));
            IF v_row.id IS NOT NULL AND v_row.same THEN
                v_one := jsonb_build_object(
                    'submission_id', v_item.sid, 'status', 'replayed',
                    'response_id', v_row.receipt_id,
                    'received_at', to_char(v_row.received_at AT TIME ZONE 'UTC',
                                           'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
            ELSIF v_row.id IS NOT NULL THEN
                v_one := jsonb_build_object('submission_id', v_item.sid,
                                            'status', 'submission_conflict');
            ELSIF EXISTS (SELECT 1 FROM survey.invitations iv
                           WHERE iv.token_sha256 = v_item.token AND iv.wave_id = v_item.wave) THEN
                v_one := jsonb_build_object('submission_id', v_item.sid,
                                            'status', 'invitation_used');
            ELSE
                v_one := jsonb_build_object('submission_id', v_item.sid,
                                            'status', 'invitation_invalid');
            END IF;
            v_out := jsonb_set(v_out, ARRAY[(v_i - 1)::text], v_one);
        END LOOP;
    END IF;

    -- Items that did not insert: in READ COMMITTED this statement's snapshot sees the row that
    -- won, a concurrent transaction's or an earlier item's of this batch.
    IF v_lost IS NOT NULL THEN
        FOR v_row IN
            SELECT t.i, t.sid, r.id, r.answers = t.answers AS same, r.receipt_id, r.received_at
              FROM unnest(v_items) WITH ORDINALITY
                       AS t(wave, sid, token, answers, screened, qid, out_sid, status, stage, i)
              LEFT JOIN survey.responses r ON r.wave_id = t.wave AND r.submission_id = t.sid
             WHERE t.i = ANY (v_lost)
             ORDER BY t.wave, t.sid, t.i
        LOOP
            IF v_row.id IS NULL THEN
                RAISE EXCEPTION 'submission % conflicted with a row this snapshot cannot see',
                                v_row.sid
                    USING ERRCODE = 'serialization_failure',
                          HINT = 'Call submit_responses in a READ COMMITTED transaction, or retry.';
            ELSIF v_row.same THEN
                v_one := jsonb_build_object(
                    'submission_id', v_row.sid, 'status', 'replayed',
                    'response_id', v_row.receipt_id,
                    'received_at', to_char(v_row.received_at AT TIME ZONE 'UTC',
                                           'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
            ELSE
                v_one := jsonb_build_object('submission_id', v_row.sid,
                                            'status', 'submission_conflict');
            END IF;
            v_out := jsonb_set(v_out, ARRAY[(v_row.i - 1)::text], v_one);
        END LOOP;
    END IF;

    -- Items whose token another item of the batch claimed (one respondent's retries, or a token
    -- passed around, in one batch), in batch order, as 0001 did: the same submission again is a
    -- replay; otherwise the token is spent, unless its claimer lost its insert (then this item
    -- claims it and inserts). This claim comes after the inserts: the one exception to the lock
    -- order, on a row this transaction already holds.
    IF v_later IS NOT NULL THEN
        FOREACH v_i IN ARRAY v_later LOOP
            v_item := v_items[v_i];
            v_one := survey.submission_existing(v_item.wave, v_item.sid, v_item.answers);
            IF v_one IS NULL THEN
                IF survey.submission_claim(v_item.wave, v_item.token) THEN
                    v_one := survey.submission_insert(v_item.wave, v_item.sid, v_item.qid,
                                                      v_item.answers, v_item.screened,
                                                      v_item.token);
                ELSE
                    v_one := survey.submission_unclaimed(v_item.wave, v_item.sid, v_item.token,
                                                         v_item.answers);
                END IF;
            END IF;
            v_out := jsonb_set(v_out, ARRAY[(v_i - 1)::text], v_one);
        END LOOP;
    END IF;

    RETURN v_out;
END
$fn$;

-- CREATE OR REPLACE keeps the owner and the grants; restated so that this file says it.
REVOKE ALL ON FUNCTION survey.submit_responses(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION survey.submit_responses(jsonb) TO survey_daemon;
