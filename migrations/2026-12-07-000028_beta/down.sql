DROP TABLE beta_waitlist;
DROP TABLE beta_feedback;
DROP TABLE beta_enrollments;
DROP TABLE beta_codes;
