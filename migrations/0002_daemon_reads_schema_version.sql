-- 0002: surveyd refuses to start on a schema older than it expects, so its role may read the
-- migration records (versions and names only; nothing about respondents is in that table).
GRANT USAGE ON SCHEMA public TO survey_daemon;
GRANT SELECT ON public.schema_migrations TO survey_daemon;
