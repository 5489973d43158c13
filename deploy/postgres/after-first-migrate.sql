-- After the first `survey-admin migrate` as survey_owner: the owner needs CREATEROLE no more
-- (later migrations do not create roles). Run as a superuser.
ALTER ROLE survey_owner NOCREATEROLE;
