-- 0004: an index run's results are kept exactly as survey-admin printed them (json keeps the
-- text; jsonb would reorder keys and respace the document), so a reprint is the same bytes and
-- keeps the order the program chose (identifying fields first, --by variables as given).
ALTER TABLE survey.index_runs ALTER COLUMN results TYPE json USING results::json;
