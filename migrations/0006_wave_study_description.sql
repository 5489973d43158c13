-- 0006: a wave's study description (sponsor, population, sample and recruitment, mode...), the
-- disclosure that reports and codebooks print beside the figures. Free prose checked for shape by
-- survey-admin (admin-cli/about.c); it may be corrected at any time, even on a closed wave,
-- since it describes the data without being part of them. Every change is in the audit log.
ALTER TABLE survey.waves ADD COLUMN about jsonb
    CHECK (about IS NULL OR jsonb_typeof(about) = 'object');
