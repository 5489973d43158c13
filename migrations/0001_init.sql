-- 0001_init: the survey schema, its two group roles and the submission path.
-- Forward-only: a later change is a new numbered file. Applied by `survey-admin migrate` in one
-- transaction, as the database owner (who needs CREATEROLE the first time, for the group roles).

-- Group roles are cluster-wide: create them once, tolerating a concurrent creator.
DO $$
BEGIN
    BEGIN
        CREATE ROLE survey_daemon NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END;
    BEGIN
        CREATE ROLE survey_admin NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL;
    END;
END
$$;

CREATE SCHEMA survey;
REVOKE ALL ON SCHEMA survey FROM PUBLIC;

-- A questionnaire definition exactly as submitted (source) plus its parsed form. Immutable: a
-- changed definition is a new row with a new version or content hash.
CREATE TABLE survey.questionnaires (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    qid           text NOT NULL,            -- the definition's "id"
    version       text NOT NULL,            -- the definition's "version"
    sha256        bytea NOT NULL UNIQUE CHECK (length(sha256) = 32), -- of source, byte for byte
    source        text NOT NULL,            -- the exact definition text
    definition    jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (qid, version)
);

CREATE TABLE survey.waves (
    id               text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    questionnaire_id bigint NOT NULL REFERENCES survey.questionnaires (id),
    status           text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
    access           text NOT NULL DEFAULT 'invite' CHECK (access IN ('invite', 'open')),
    margins          jsonb,                 -- {"industry": {"finance": 0.08, ...}, ...}
    created_at       timestamptz NOT NULL DEFAULT now(),
    opened_at        timestamptz,
    closed_at        timestamptz
);

-- One-time invitation tokens; only their SHA-256 is stored.
CREATE TABLE survey.invitations (
    token_sha256  bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    wave_id       text NOT NULL REFERENCES survey.waves (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    used_at       timestamptz,
    response_id   bigint                    -- set when used (see responses.id)
);
CREATE INDEX invitations_wave_idx ON survey.invitations (wave_id);

-- Completed responses. No IP address, no user agent: what is not stored cannot leak.
CREATE TABLE survey.responses (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id          text NOT NULL REFERENCES survey.waves (id),
    submission_id    uuid NOT NULL,         -- chosen by the client, once per completed form
    receipt_id       uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE, -- "response_id" in receipts
    questionnaire_id bigint NOT NULL REFERENCES survey.questionnaires (id),
    answers          jsonb NOT NULL CHECK (jsonb_typeof(answers) = 'object'),
    screened_out     boolean NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (wave_id, submission_id)
);

-- ON DELETE SET NULL: erasing a response (a respondent's request) keeps its invitation used.
ALTER TABLE survey.invitations
    ADD CONSTRAINT invitations_response_fk FOREIGN KEY (response_id) REFERENCES survey.responses (id)
    ON DELETE SET NULL;

-- Every computed index, so a published figure can be reproduced and checked.
CREATE TABLE survey.index_runs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    wave_id            text NOT NULL REFERENCES survey.waves (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    options            jsonb NOT NULL,
    definition_sha256  bytea NOT NULL,
    responses_sha256   bytea NOT NULL,
    provisional        boolean NOT NULL,
    results            jsonb NOT NULL
);

-- What administrators did, and as whom.
CREATE TABLE survey.audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL DEFAULT session_user,
    action    text NOT NULL,               -- e.g. 'wave.create', 'wave.open', 'invite'
    wave_id   text,
    detail    jsonb NOT NULL DEFAULT '{}'
);

-- ---------------------------------------------------------------------------------------------
-- Lifecycle and immutability, enforced here so that no client (CLI, psql, a future tool) can
-- get around them. Errors use SQLSTATE 55000 (object_not_in_prerequisite_state).
-- ---------------------------------------------------------------------------------------------

-- A wave goes draft -> open -> closed and never back: a reopened wave would accept answers that
-- an index already published as final did not count. Only a draft may change its questionnaire
-- or access mode, since responses and invitations rely on both once the wave is open.
CREATE FUNCTION survey.waves_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, survey AS $fn$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- Normally a wave is created in draft; a direct insert of an open or closed wave (test
        -- fixtures, data restores) gets consistent timestamps.
        NEW.opened_at := CASE WHEN NEW.status <> 'draft' THEN coalesce(NEW.opened_at, now()) END;
        NEW.closed_at := CASE WHEN NEW.status = 'closed' THEN coalesce(NEW.closed_at, now()) END;
        RETURN NEW;
    END IF;

    IF NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'wave "%" cannot be renamed', OLD.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF OLD.status <> 'draft'
       AND (NEW.questionnaire_id <> OLD.questionnaire_id OR NEW.access <> OLD.access) THEN
        RAISE EXCEPTION 'wave "%" is %: its questionnaire and access can no longer change',
                        OLD.id, OLD.status
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;

    -- The timestamps belong to the transitions; nobody sets them by hand.
    NEW.opened_at := OLD.opened_at;
    NEW.closed_at := OLD.closed_at;
    IF NEW.status = OLD.status THEN
        RETURN NEW;
    ELSIF OLD.status = 'draft' AND NEW.status = 'open' THEN
        NEW.opened_at := now();
    ELSIF OLD.status = 'open' AND NEW.status = 'closed' THEN
        NEW.closed_at := now();
    ELSE
        RAISE EXCEPTION 'wave "%" cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A wave goes from draft to open to closed, and never back.';
    END IF;
    RETURN NEW;
END
$fn$;

CREATE TRIGGER waves_guard BEFORE INSERT OR UPDATE ON survey.waves
    FOR EACH ROW EXECUTE FUNCTION survey.waves_guard();

-- The daemons cache each wave's status and questionnaire and refresh it on this notification
-- (payload: the wave id). It is sent at commit, so a listener never sees an undone change.
CREATE FUNCTION survey.waves_notify() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, survey AS $fn$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('wave_changed', OLD.id);
    ELSE
        PERFORM pg_notify('wave_changed', NEW.id);
    END IF;
    RETURN NULL;
END
$fn$;

CREATE TRIGGER waves_notify
    AFTER INSERT OR DELETE OR UPDATE OF status, access, questionnaire_id ON survey.waves
    FOR EACH ROW EXECUTE FUNCTION survey.waves_notify();

-- Rows that are evidence: a questionnaire as it was asked, a response as it was given.
CREATE FUNCTION survey.reject_update() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, survey AS $fn$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'object_not_in_prerequisite_state';
END
$fn$;

CREATE TRIGGER questionnaires_immutable BEFORE UPDATE ON survey.questionnaires
    FOR EACH ROW EXECUTE FUNCTION survey.reject_update(
        'questionnaires are immutable: a changed definition is a new row with a new version');
-- DELETE stays allowed (erasure requests); the invitation keeps its used_at (see the FK above).
CREATE TRIGGER responses_immutable BEFORE UPDATE ON survey.responses
    FOR EACH ROW EXECUTE FUNCTION survey.reject_update(
        'responses are immutable: answers are kept as they were received');

-- ---------------------------------------------------------------------------------------------
-- The submission path: survey.submit_responses(batch) and its private helpers. The contract is
-- in docs/storage.md; the helpers run with the owner's rights because only the SECURITY DEFINER
-- function calls them, and nobody else may.
-- ---------------------------------------------------------------------------------------------

-- One element of the result array. received_at is UTC with microseconds, so a replay prints the
-- receipt byte for byte as the first answer did.
CREATE FUNCTION survey.submission_outcome(p_sid uuid, p_status text,
                                          p_receipt uuid DEFAULT NULL,
                                          p_received_at timestamptz DEFAULT NULL)
RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, survey AS $fn$
    SELECT jsonb_build_object('submission_id', p_sid, 'status', p_status)
        || CASE WHEN p_receipt IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object(
                         'response_id', p_receipt,
                         'received_at', to_char(p_received_at AT TIME ZONE 'UTC',
                                                'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
           END
$fn$;

-- The outcome for a submission_id already stored in the wave (replayed when the answers are the
-- same, submission_conflict otherwise), or NULL when there is none.
CREATE FUNCTION survey.submission_existing(p_wave text, p_sid uuid, p_answers jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog, survey AS $fn$
DECLARE
    v_row record;
BEGIN
    SELECT r.receipt_id, r.received_at, r.answers = p_answers AS same INTO v_row
      FROM survey.responses r
     WHERE r.wave_id = p_wave AND r.submission_id = p_sid;
    IF NOT FOUND THEN
        RETURN NULL;
    ELSIF v_row.same THEN
        RETURN survey.submission_outcome(p_sid, 'replayed', v_row.receipt_id, v_row.received_at);
    ELSE
        RETURN survey.submission_outcome(p_sid, 'submission_conflict');
    END IF;
END
$fn$;

-- The outcome for an invitation token that could not be claimed: a replay or conflict if this
-- submission is stored after all (a concurrent duplicate), else whether the token is unknown to
-- the wave or already spent.
CREATE FUNCTION survey.submission_unclaimed(p_wave text, p_sid uuid, p_token bytea,
                                            p_answers jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog, survey AS $fn$
DECLARE
    v_out jsonb;
BEGIN
    v_out := survey.submission_existing(p_wave, p_sid, p_answers);
    IF v_out IS NOT NULL THEN
        RETURN v_out;
    END IF;
    IF EXISTS (SELECT 1 FROM survey.invitations i
                WHERE i.token_sha256 = p_token AND i.wave_id = p_wave) THEN
        RETURN survey.submission_outcome(p_sid, 'invitation_used');
    END IF;
    RETURN survey.submission_outcome(p_sid, 'invitation_invalid');
END
$fn$;

-- Claim an invitation token for its wave; true when this transaction now holds it. Blocks while
-- another transaction holds the same token, then sees that transaction's outcome.
CREATE FUNCTION survey.submission_claim(p_wave text, p_token bytea)
RETURNS boolean LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, survey AS $fn$
BEGIN
    UPDATE survey.invitations i SET used_at = now()
     WHERE i.token_sha256 = p_token AND i.wave_id = p_wave AND i.used_at IS NULL;
    RETURN FOUND;
END
$fn$;

-- Store one submission, or find that a concurrent (or earlier in the batch) one with the same
-- submission_id won. p_token is the invitation this item claimed, or NULL: it is bound to the
-- new response, or given back when nothing was inserted, so a lost race does not spend it.
CREATE FUNCTION survey.submission_insert(p_wave text, p_sid uuid, p_questionnaire bigint,
                                         p_answers jsonb, p_screened_out boolean, p_token bytea)
RETURNS jsonb LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, survey AS $fn$
DECLARE
    v_id       bigint;
    v_receipt  uuid;
    v_at       timestamptz;
    v_out      jsonb;
BEGIN
    INSERT INTO survey.responses AS r
           (wave_id, submission_id, questionnaire_id, answers, screened_out, received_at)
    VALUES (p_wave, p_sid, p_questionnaire, p_answers, p_screened_out, now())
    ON CONFLICT (wave_id, submission_id) DO NOTHING
    RETURNING r.id, r.receipt_id, r.received_at INTO v_id, v_receipt, v_at;
    IF FOUND THEN
        IF p_token IS NOT NULL THEN
            UPDATE survey.invitations i SET response_id = v_id WHERE i.token_sha256 = p_token;
        END IF;
        RETURN survey.submission_outcome(p_sid, 'created', v_receipt, v_at);
    END IF;

    IF p_token IS NOT NULL THEN
        UPDATE survey.invitations i SET used_at = NULL WHERE i.token_sha256 = p_token;
    END IF;
    -- In READ COMMITTED this statement's snapshot sees the row that won the conflict.
    v_out := survey.submission_existing(p_wave, p_sid, p_answers);
    IF v_out IS NULL THEN
        RAISE EXCEPTION 'submission % conflicted with a row this snapshot cannot see', p_sid
            USING ERRCODE = 'serialization_failure',
                  HINT = 'Call submit_responses in a READ COMMITTED transaction, or retry.';
    END IF;
    RETURN v_out;
END
$fn$;

-- The daemon's one way in: a batch of validated submissions in, one outcome per item out, in the
-- same order. All of it runs in the caller's transaction; the caller commits, then answers.
--
-- Lock order, the same for every batch so that concurrent batches never deadlock: the batch's
-- waves (FOR SHARE, by id), then the invitation tokens (by token), then the responses' unique
-- keys (by wave, submission_id). A `wave close` (an UPDATE of the wave row) therefore waits for
-- every batch already past the first step, and every later batch sees the wave closed.
CREATE FUNCTION survey.submit_responses(batch jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, survey AS $fn$
DECLARE
    v_n        int;
    v_i        int;
    v_item     jsonb;
    v_wave     text[];
    v_sid      uuid[];
    v_token    bytea[];
    v_answers  jsonb[];
    v_screened boolean[];
    v_claimed  boolean[];
    -- What is left to do for an item: 0 decided, 1 claim its token, 2 insert, 3 decide after
    -- the inserts (another item of this batch claimed the same token first).
    v_stage    int[];
    v_result   jsonb[];
    v_info     jsonb := '{}';   -- wave id -> {status, access, questionnaire_id}
    v_wi       jsonb;
    v_last     bytea;
    v_row      record;
    v_out      jsonb;
    v_uuid_re  constant text :=
        '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$';
BEGIN
    IF batch IS NULL OR jsonb_typeof(batch) <> 'array' THEN
        RAISE EXCEPTION 'submit_responses expects a JSON array'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_n := jsonb_array_length(batch);
    IF v_n = 0 THEN
        RETURN '[]'::jsonb;
    END IF;
    v_wave     := array_fill(NULL::text, ARRAY[v_n]);
    v_sid      := array_fill(NULL::uuid, ARRAY[v_n]);
    v_token    := array_fill(NULL::bytea, ARRAY[v_n]);
    v_answers  := array_fill(NULL::jsonb, ARRAY[v_n]);
    v_screened := array_fill(NULL::boolean, ARRAY[v_n]);
    v_claimed  := array_fill(false, ARRAY[v_n]);
    v_stage    := array_fill(0, ARRAY[v_n]);
    v_result   := array_fill(NULL::jsonb, ARRAY[v_n]);

    -- 1. Shape. A malformed item is answered invalid_item; it never aborts the others, so every
    --    check runs before any cast that could raise.
    FOR v_i IN 1 .. v_n LOOP
        v_item := batch -> (v_i - 1);
        IF jsonb_typeof(v_item) = 'object'
           AND jsonb_typeof(v_item -> 'wave') = 'string'
           AND jsonb_typeof(v_item -> 'submission_id') = 'string'
           AND (v_item ->> 'submission_id') ~ v_uuid_re
           AND coalesce(jsonb_typeof(v_item -> 'token_sha256'), 'null') IN ('null', 'string')
           AND coalesce(v_item ->> 'token_sha256', repeat('0', 64)) ~ '^[0-9a-f]{64}$'
           AND jsonb_typeof(v_item -> 'answers') = 'object'
           AND jsonb_typeof(v_item -> 'screened_out') = 'boolean'
        THEN
            v_wave[v_i]     := v_item ->> 'wave';
            v_sid[v_i]      := (v_item ->> 'submission_id')::uuid;
            v_token[v_i]    := decode(v_item ->> 'token_sha256', 'hex');
            v_answers[v_i]  := v_item -> 'answers';
            v_screened[v_i] := (v_item -> 'screened_out')::boolean;
        ELSE
            v_result[v_i] := survey.submission_outcome(
                CASE WHEN jsonb_typeof(v_item -> 'submission_id') = 'string'
                          AND (v_item ->> 'submission_id') ~ v_uuid_re
                     THEN (v_item ->> 'submission_id')::uuid END,
                'invalid_item');
        END IF;
    END LOOP;

    -- 2. Lock the waves, in id order, for the rest of the transaction.
    FOR v_row IN
        SELECT w.id, w.status, w.access, w.questionnaire_id
          FROM survey.waves w
         WHERE w.id = ANY (v_wave)
         ORDER BY w.id
           FOR SHARE
    LOOP
        v_info := v_info || jsonb_build_object(v_row.id, jsonb_build_object(
            'status', v_row.status, 'access', v_row.access,
            'questionnaire_id', v_row.questionnaire_id));
    END LOOP;

    -- 3. What needs no further lock: a stored submission_id is answered from its row first (a
    --    retry after a lost acknowledgement gets its receipt even once the wave has closed),
    --    then the wave's status, then a missing token. A token sent to an open-access wave is
    --    ignored: such a wave has no invitations to spend.
    FOR v_i IN 1 .. v_n LOOP
        CONTINUE WHEN v_result[v_i] IS NOT NULL;
        v_out := survey.submission_existing(v_wave[v_i], v_sid[v_i], v_answers[v_i]);
        v_wi := v_info -> v_wave[v_i];
        IF v_out IS NOT NULL THEN
            v_result[v_i] := v_out;
        ELSIF v_wi IS NULL THEN
            v_result[v_i] := survey.submission_outcome(v_sid[v_i], 'wave_unknown');
        ELSIF v_wi ->> 'status' = 'draft' THEN
            v_result[v_i] := survey.submission_outcome(v_sid[v_i], 'wave_not_open');
        ELSIF v_wi ->> 'status' = 'closed' THEN
            v_result[v_i] := survey.submission_outcome(v_sid[v_i], 'wave_closed');
        ELSIF v_wi ->> 'access' = 'open' THEN
            v_stage[v_i] := 2;
        ELSIF v_token[v_i] IS NULL THEN
            v_result[v_i] := survey.submission_outcome(v_sid[v_i], 'invitation_invalid');
        ELSE
            v_stage[v_i] := 1;
        END IF;
    END LOOP;

    -- 4. Claim the tokens, in token order. Of several items with one token, the first claims it
    --    and the others wait for step 6.
    FOR v_i IN
        SELECT t.i FROM unnest(v_token, v_stage) WITH ORDINALITY AS t(token, stage, i)
         WHERE t.stage = 1
         ORDER BY t.token, t.i
    LOOP
        IF v_last IS NOT NULL AND v_token[v_i] = v_last THEN
            v_stage[v_i] := 3;
        ELSIF survey.submission_claim(v_wave[v_i], v_token[v_i]) THEN
            v_claimed[v_i] := true;
            v_stage[v_i] := 2;
            v_last := v_token[v_i];
        ELSE
            v_result[v_i] := survey.submission_unclaimed(v_wave[v_i], v_sid[v_i],
                                                         v_token[v_i], v_answers[v_i]);
            v_stage[v_i] := 0;
        END IF;
    END LOOP;

    -- 5. Insert, in (wave, submission_id) order. A duplicate submission_id, in this batch or a
    --    concurrent one, becomes a replay or a conflict here.
    FOR v_i IN
        SELECT t.i FROM unnest(v_wave, v_sid, v_stage) WITH ORDINALITY AS t(wave, sid, stage, i)
         WHERE t.stage = 2
         ORDER BY t.wave, t.sid, t.i
    LOOP
        v_result[v_i] := survey.submission_insert(
            v_wave[v_i], v_sid[v_i], (v_info -> v_wave[v_i] ->> 'questionnaire_id')::bigint,
            v_answers[v_i], v_screened[v_i], CASE WHEN v_claimed[v_i] THEN v_token[v_i] END);
        v_stage[v_i] := 0;
    END LOOP;

    -- 6. Items whose token another item of the batch claimed: the same submission again is a
    --    replay; otherwise the token is spent, unless its claimer gave it back in step 5.
    FOR v_i IN 1 .. v_n LOOP
        CONTINUE WHEN v_stage[v_i] <> 3;
        v_out := survey.submission_existing(v_wave[v_i], v_sid[v_i], v_answers[v_i]);
        IF v_out IS NOT NULL THEN
            v_result[v_i] := v_out;
        ELSIF survey.submission_claim(v_wave[v_i], v_token[v_i]) THEN
            v_result[v_i] := survey.submission_insert(
                v_wave[v_i], v_sid[v_i], (v_info -> v_wave[v_i] ->> 'questionnaire_id')::bigint,
                v_answers[v_i], v_screened[v_i], v_token[v_i]);
        ELSE
            v_result[v_i] := survey.submission_unclaimed(v_wave[v_i], v_sid[v_i],
                                                         v_token[v_i], v_answers[v_i]);
        END IF;
    END LOOP;

    RETURN (SELECT jsonb_agg(t.r ORDER BY t.i)
              FROM unnest(v_result) WITH ORDINALITY AS t(r, i));
END
$fn$;

-- ---------------------------------------------------------------------------------------------
-- Privileges. survey_daemon reads wave definitions and submits; it cannot read back a single
-- answer, so a compromised daemon leaks only what passes through it from then on.
-- survey_admin does everything else. Login roles are granted one of the two by the operator.
-- ---------------------------------------------------------------------------------------------
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA survey FROM PUBLIC;

GRANT USAGE ON SCHEMA survey TO survey_daemon, survey_admin;

GRANT SELECT ON survey.waves, survey.questionnaires TO survey_daemon;
GRANT EXECUTE ON FUNCTION survey.submit_responses(jsonb) TO survey_daemon;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA survey TO survey_admin;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA survey TO survey_admin;
