-- The journal of an establishment also shows what its staff did at no establishment (signing
-- in, the second factor): events are looked up by actor too.
CREATE INDEX audit_events_actor ON audit_events (actor, at);
