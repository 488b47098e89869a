-- Notifying by level and by e-mail (issue #15). A pupil's CODE_MEF (Siècle), whose first three
-- digits are the level (the dispositif de formation, src/siecle/level.rs); null for exports
-- without it. A notification's carrier: 'pdf' (letters) or 'email' (the outbox). Same shape as
-- the other dialect's twin.
ALTER TABLE enrolments ADD COLUMN mef TEXT;
ALTER TABLE notifications ADD COLUMN carrier TEXT NOT NULL DEFAULT 'pdf';
