DROP TABLE server_secrets;
DROP TABLE persisted_queries;
