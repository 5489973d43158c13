-- The database and login roles surveyd and its operators need, with SCRAM passwords. Run once,
-- as a superuser, before `survey-admin migrate`:
--   psql -v ON_ERROR_STOP=1 -v owner_password=... -v surveyd_password=... \
--        -v analyst_password=... -f deploy/postgres/roles.sql
-- Then, as survey_owner: survey-admin migrate --db "host=... dbname=survey user=survey_owner"
-- (the migration creates the schema, owned by survey_owner, and grants to the group roles),
-- and after that first migration: psql -f deploy/postgres/after-first-migrate.sql.

SET password_encryption = 'scram-sha-256';

-- The group roles the migration grants to (it tolerates their existing already, so the owner
-- needs no CREATEROLE).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'survey_daemon') THEN
        CREATE ROLE survey_daemon NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'survey_admin') THEN
        CREATE ROLE survey_admin NOLOGIN;
    END IF;
END
$$;

-- Owns the database and the schema; runs migrations. Not a superuser: the SECURITY DEFINER
-- submission function then holds no more rights than the schema's owner. CREATEROLE only until
-- the first migration has run (after-first-migrate.sql takes it away): migration 0001 issues
-- CREATE ROLE for the group roles, which PostgreSQL refuses without CREATEROLE even when they
-- exist already.
CREATE ROLE survey_owner LOGIN NOSUPERUSER NOCREATEDB CREATEROLE PASSWORD :'owner_password';
-- surveyd's login: may only run the submission function and read waves. Its connections:
-- (threads + 1) per instance; the limit stops a runaway from starving the cluster.
CREATE ROLE surveyd LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT 200
    IN ROLE survey_daemon PASSWORD :'surveyd_password';
-- An administrator or analyst running survey-admin (one such role per person: the audit log
-- records session_user).
CREATE ROLE analyst LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE IN ROLE survey_admin
    PASSWORD :'analyst_password';

CREATE DATABASE survey OWNER survey_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE survey FROM PUBLIC;
GRANT CONNECT ON DATABASE survey TO survey_daemon, survey_admin;
