DROP INDEX transcripts_search_idx;
ALTER TABLE transcripts DROP COLUMN search;
ALTER TABLE transcripts DROP COLUMN text;
