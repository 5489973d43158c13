-- 0005: submit_responses keeps one generic plan per session (0003), made when the daemon first
-- calls it, which during fieldwork is usually when the wave's responses are few or none. Such a
-- plan may join the batch against survey.responses with a sequential scan and a hash or merge
-- join, and then every batch reads the whole table: measured at 7.45 ms per batch after 60,000
-- rows (tests/bench/run.sh). Every lookup the function makes is by a unique key, so index
-- probes are right at any size: forbid the plans that read whole tables.
ALTER FUNCTION survey.submit_responses(jsonb) SET enable_seqscan = off;
ALTER FUNCTION survey.submit_responses(jsonb) SET enable_hashjoin = off;
ALTER FUNCTION survey.submit_responses(jsonb) SET enable_mergejoin = off;
