-- Where an episode's trouble is (isp, router, lan_device, unknown), decided by the detectors from
-- the evidence (docs/events.md). Episodes stored before this migration had no such verdict and
-- read as unknown. `location` rather than `where`, which SQL reserves.
ALTER TABLE events ADD COLUMN location TEXT NOT NULL DEFAULT 'unknown';
