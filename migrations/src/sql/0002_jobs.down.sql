DROP TABLE media_objects;
DROP TABLE transcripts;
DROP TABLE jobs;
