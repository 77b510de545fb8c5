-- The transcript's plain text, kept in the database so a user can search their
-- own transcripts with full-text search (the files stay in object storage).
-- The 'russian' configuration stems Cyrillic words with the Russian snowball
-- stemmer and ASCII words with the English one, so the two languages our
-- users speak are both searched by word stem; 'simple' would stem neither.
-- Rows recorded before this migration have no text and are not found by a search.
ALTER TABLE transcripts ADD COLUMN text TEXT;
ALTER TABLE transcripts
    ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('russian', coalesce(text, ''))) STORED;
CREATE INDEX transcripts_search_idx ON transcripts USING GIN (search);
