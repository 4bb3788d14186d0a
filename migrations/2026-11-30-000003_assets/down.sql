DROP TABLE asset_queue_pauses;
DROP TABLE asset_jobs;
DROP TABLE asset_links;
DROP TABLE assets;
DROP TABLE asset_blobs;
DROP FUNCTION asset_tags_text(text[]);
