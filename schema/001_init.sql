-- 001_init: the first ctmon schema. monitor/store/migrations.cc runs this file inside one
-- transaction and then sets PRAGMA user_version = 1. Layout and formats: schema/README.md.

-- Marks the file as ctmon's ('ctmn'), so a foreign SQLite file is recognised and left alone.
PRAGMA application_id = 1668574574;  -- 0x63746d6e

-- Small facts about the database: host, sampling interval, first sample time, run counter.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value ANY
) WITHOUT ROWID;

-- Counter names; blocks refer to counters by these ids. Append-only: an id is never reused.
CREATE TABLE counters (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

-- Raw samples: a fixed ring of slots, slot = seq mod (retention_raw / commit_interval).
-- One row = one block of consecutive samples (schema/README.md, "Block format"), rewritten in
-- place with INSERT OR REPLACE, so the file stops growing once every slot is used.
-- No secondary index on purpose: an index page would be one more page written per commit.
CREATE TABLE raw_blocks (
  slot        INTEGER PRIMARY KEY,
  seq         INTEGER NOT NULL,  -- block number, increasing for the life of the database
  run         INTEGER NOT NULL,  -- writer run (daemon start); monotonic time restarts with it
  n           INTEGER NOT NULL,  -- samples in the block
  min_wall_ns INTEGER NOT NULL,  -- smallest and largest wall time in the block (wall may jump)
  max_wall_ns INTEGER NOT NULL,
  io_bytes    INTEGER NOT NULL,  -- bytes the writer wrote to the database files (VFS count)
                                 -- between its previous raw commit and this one
  data        BLOB NOT NULL
);

-- Minute rollups: the raw stream thinned to the last sample of each minute, plus the samples
-- around every discontinuity (reset, counter appearing/disappearing, clock jump), in blocks of
-- one hour, in their own ring. Rebuildable from raw_blocks while those still cover the period.
CREATE TABLE rollup_blocks (
  slot          INTEGER PRIMARY KEY,
  seq           INTEGER NOT NULL,
  run           INTEGER NOT NULL,
  first_raw_seq INTEGER NOT NULL,  -- raw blocks this rollup block was made from
  last_raw_seq  INTEGER NOT NULL,
  n             INTEGER NOT NULL,
  min_wall_ns   INTEGER NOT NULL,
  max_wall_ns   INTEGER NOT NULL,
  data          BLOB NOT NULL
);

-- Episodes, upserted by id when they open, change and close.
CREATE TABLE events (
  id              INTEGER PRIMARY KEY,
  start_wall_ns   INTEGER NOT NULL,
  end_wall_ns     INTEGER,            -- NULL while the episode is open
  peak_score      REAL NOT NULL,      -- 0..1
  kind            TEXT NOT NULL,      -- wan_drop, invalid_burst, scan, udp_storm, ..., unknown
  summary         TEXT NOT NULL,      -- one human sentence
  evidence_json   TEXT NOT NULL,      -- JSON array: the counters that moved (peak, baseline, ...)
  detectors       TEXT NOT NULL,      -- comma-separated names of the detectors that fired
  updated_wall_ns INTEGER NOT NULL
);
CREATE INDEX events_by_start ON events (start_wall_ns);

-- The detectors' state, one row, so a restart resumes warm; format_version tells whether the
-- running ctmon can read it.
CREATE TABLE detector_state (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  format_version INTEGER NOT NULL,
  saved_wall_ns  INTEGER NOT NULL,
  data           BLOB NOT NULL
);

-- Lines of InfluxDB line protocol waiting to be sent. priority: 0 = series (evicted first when
-- the outbox is full), 1 = marker.
CREATE TABLE outbox (
  id                   INTEGER PRIMARY KEY,
  priority             INTEGER NOT NULL,
  created_wall_ns      INTEGER NOT NULL,
  attempts             INTEGER NOT NULL DEFAULT 0,
  next_attempt_wall_ns INTEGER NOT NULL DEFAULT 0,
  line                 TEXT NOT NULL
);
CREATE INDEX outbox_by_priority ON outbox (priority, id);
