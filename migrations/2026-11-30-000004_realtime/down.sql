DROP TABLE presence_editing;
DROP TABLE presence;
DROP TABLE server_nodes;
