DROP TABLE timeline_settings;
DROP TABLE timeline_events;
