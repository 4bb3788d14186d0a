DROP TABLE project_files;
DROP TABLE project_folders;
