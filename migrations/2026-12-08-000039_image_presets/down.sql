DROP TABLE image_presets;
