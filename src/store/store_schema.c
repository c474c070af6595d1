/* store_schema.c — numbered migrations. Append only: never edit a released
 * step; add a new one. Each runs in its own transaction and sets
 * PRAGMA user_version to its number. Every table carries workspace_id. */
#include "store/store_int.h"

const char *const store_state_migrations[] = {
	/* 1: workspaces, keys, members, profiles, identities, timeline, cursors */
	"CREATE TABLE workspaces ("
	"  workspace_id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE api_keys ("
	"  key_id INTEGER PRIMARY KEY,"
	"  workspace_id INTEGER NOT NULL REFERENCES workspaces(workspace_id),"
	"  kind INTEGER NOT NULL,"
	"  hash BLOB NOT NULL UNIQUE,"
	"  prefix TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  revoked_at INTEGER);"
	"CREATE TABLE members ("
	"  member_id INTEGER PRIMARY KEY,"
	"  workspace_id INTEGER NOT NULL REFERENCES workspaces(workspace_id),"
	"  email TEXT NOT NULL,"
	"  password_hash TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (workspace_id, email));"
	"CREATE TABLE profiles ("
	"  profile_id INTEGER PRIMARY KEY,"
	"  workspace_id INTEGER NOT NULL,"
	"  user_id TEXT,"
	"  traits TEXT NOT NULL DEFAULT '{}',"
	"  lifecycle TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  last_seen INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX profiles_user ON profiles(workspace_id, user_id) WHERE user_id IS NOT NULL;"
	"CREATE TABLE identities ("
	"  workspace_id INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  profile_id INTEGER NOT NULL,"
	"  first_seen INTEGER NOT NULL,"
	"  PRIMARY KEY (workspace_id, kind, value));"
	"CREATE INDEX identities_profile ON identities(profile_id);"
	"CREATE TABLE timeline ("
	"  workspace_id INTEGER NOT NULL,"
	"  profile_id INTEGER NOT NULL,"
	"  event_id INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  name TEXT,"
	"  ts INTEGER NOT NULL);"
	"CREATE INDEX timeline_profile_ts ON timeline(workspace_id, profile_id, ts, event_id);"
	"CREATE INDEX timeline_name ON timeline(workspace_id, name, ts, event_id);"
	"CREATE TABLE engine_cursors ("
	"  workspace_id INTEGER NOT NULL DEFAULT 0,"
	"  name TEXT NOT NULL PRIMARY KEY,"
	"  value INTEGER NOT NULL);",

	/* 2: consent, tags, groups, search columns */
	"CREATE TABLE consents ("
	"  workspace_id INTEGER NOT NULL,"
	"  profile_id INTEGER NOT NULL,"
	"  scope TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  source TEXT NOT NULL,"
	"  PRIMARY KEY (workspace_id, profile_id, scope, name));"
	"CREATE TABLE profile_tags ("
	"  workspace_id INTEGER NOT NULL,"
	"  profile_id INTEGER NOT NULL,"
	"  tag TEXT NOT NULL,"
	"  added_at INTEGER NOT NULL,"
	"  PRIMARY KEY (workspace_id, profile_id, tag));"
	"CREATE INDEX profile_tags_tag ON profile_tags(workspace_id, tag);"
	"CREATE TABLE groups ("
	"  workspace_id INTEGER NOT NULL,"
	"  group_id TEXT NOT NULL,"
	"  traits TEXT NOT NULL DEFAULT '{}',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (workspace_id, group_id));"
	"CREATE TABLE group_members ("
	"  workspace_id INTEGER NOT NULL,"
	"  group_id TEXT NOT NULL,"
	"  profile_id INTEGER NOT NULL,"
	"  joined_at INTEGER NOT NULL,"
	"  PRIMARY KEY (workspace_id, group_id, profile_id));"
	"CREATE INDEX group_members_profile ON group_members(profile_id);"
	"ALTER TABLE profiles ADD COLUMN email TEXT;"
	"ALTER TABLE profiles ADD COLUMN phone TEXT;"
	"ALTER TABLE profiles ADD COLUMN name TEXT;"
	"CREATE INDEX profiles_email ON profiles(workspace_id, email);"
	"CREATE INDEX profiles_phone ON profiles(workspace_id, phone);",

	/* 3: message templates and their immutable versions (store_templates.h).
	 * BIGINT for ids and times so the same DDL fits PostgreSQL. */
	"CREATE TABLE templates ("
	"  workspace_id BIGINT NOT NULL,"
	"  template_id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  locale TEXT,"
	"  version INTEGER NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  archived_at BIGINT,"
	"  PRIMARY KEY (workspace_id, template_id));"
	"CREATE INDEX templates_channel ON templates(workspace_id, channel, template_id);"
	"CREATE TABLE template_versions ("
	"  workspace_id BIGINT NOT NULL,"
	"  template_id TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  locale TEXT,"
	"  body TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, template_id, version));",

	/* 4: per-user event aggregates and computed-trait state
	 * (store_segment.h). Counts and first/last times of track events
	 * already applied are backfilled from the timeline; their revenue and
	 * the unopened-email streak are not (the log is in another file). */
	"CREATE TABLE seg_daily ("
	"  workspace_id BIGINT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  day INTEGER NOT NULL,"
	"  count BIGINT NOT NULL,"
	"  revenue DOUBLE PRECISION NOT NULL DEFAULT 0,"
	"  first_ts BIGINT NOT NULL,"
	"  last_ts BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, profile_id, name, day));"
	"CREATE TABLE seg_state ("
	"  workspace_id BIGINT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  unopened_emails BIGINT NOT NULL DEFAULT 0,"
	"  last_email_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, profile_id));"
	"INSERT INTO seg_daily (workspace_id, profile_id, name, day, count, revenue, first_ts, last_ts)"
	"  SELECT workspace_id, profile_id, name, (ts - ((ts % 86400000) + 86400000) % 86400000) / 86400000,"
	"  count(*), 0, min(ts), max(ts) FROM timeline WHERE type = 'track' AND name IS NOT NULL"
	"  GROUP BY 1, 2, 3, 4;",

	/* 5: events the engine emits (Segment Entered, Tag Added, …), written in
	 * the same transaction as the step that decided them and moved to the
	 * log right after the commit (engine_emit, engine_forward) */
	"CREATE TABLE engine_outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  workspace_id INTEGER NOT NULL,"
	"  profile_id INTEGER NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  user_id TEXT,"
	"  anonymous_id TEXT,"
	"  name TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  ts INTEGER NOT NULL);",

	/* 6: live segments (store_seg_live.h): definitions, members, the times a
	 * membership may change with the clock alone, and the size per day */
	"CREATE TABLE segments ("
	"  workspace_id BIGINT NOT NULL,"
	"  segment_id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  condition TEXT NOT NULL,"
	"  size BIGINT NOT NULL DEFAULT 0,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  archived_at BIGINT,"
	"  PRIMARY KEY (workspace_id, segment_id));"
	"CREATE TABLE seg_members ("
	"  workspace_id BIGINT NOT NULL,"
	"  segment_id TEXT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  entered_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, segment_id, profile_id));"
	"CREATE INDEX seg_members_profile ON seg_members (workspace_id, profile_id);"
	"CREATE TABLE seg_due ("
	"  workspace_id BIGINT NOT NULL,"
	"  segment_id TEXT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  due_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, segment_id, profile_id));"
	"CREATE INDEX seg_due_at ON seg_due (due_at);"
	"CREATE TABLE seg_sizes ("
	"  workspace_id BIGINT NOT NULL,"
	"  segment_id TEXT NOT NULL,"
	"  day INTEGER NOT NULL,"
	"  size BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, segment_id, day));",

	/* 7: auto-tagging rules (store_tagging.h): definitions, the per-workspace
	 * "defaults installed" flag, condition-rule state and due rows */
	"CREATE TABLE tagging_rules ("
	"  workspace_id BIGINT NOT NULL,"
	"  rule_id TEXT NOT NULL,"
	"  definition TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  archived_at BIGINT,"
	"  PRIMARY KEY (workspace_id, rule_id));"
	"CREATE TABLE tagging_defaults ("
	"  workspace_id BIGINT NOT NULL PRIMARY KEY,"
	"  installed_at BIGINT NOT NULL);"
	"CREATE TABLE tagging_state ("
	"  workspace_id BIGINT NOT NULL,"
	"  rule_id TEXT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, rule_id, profile_id));"
	"CREATE TABLE tagging_due ("
	"  workspace_id BIGINT NOT NULL,"
	"  rule_id TEXT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  due_at BIGINT NOT NULL,"
	"  cause TEXT,"
	"  PRIMARY KEY (workspace_id, rule_id, profile_id));"
	"CREATE INDEX tagging_due_at ON tagging_due (due_at);",

	/* 8: RFM scores (1–5 each: quintiles over the workspace's customers),
	 * recomputed once per UTC day by the engine's tick (store_seg_rfm_run) */
	"CREATE TABLE seg_rfm ("
	"  workspace_id BIGINT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  r INTEGER NOT NULL,"
	"  f INTEGER NOT NULL,"
	"  m INTEGER NOT NULL,"
	"  PRIMARY KEY (workspace_id, profile_id));"
	"CREATE TABLE seg_rfm_runs ("
	"  workspace_id BIGINT NOT NULL PRIMARY KEY,"
	"  day INTEGER NOT NULL);",

	/* 9: registered counters (store_seg_counter_*): per-user day buckets of
	 * the events of one name that pass a `where` filter, with the sum of one
	 * property. seg_counters are definitions (kept by rebuilds); the
	 * buckets are derived. The key treats "no property" (NULL) as one value,
	 * hence coalesce: a plain UNIQUE lets NULLs repeat. */
	"CREATE TABLE seg_counters ("
	"  counter_id INTEGER PRIMARY KEY,"
	"  workspace_id BIGINT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  where_text TEXT NOT NULL,"
	"  property TEXT,"
	"  created_at BIGINT NOT NULL);"
	"CREATE UNIQUE INDEX seg_counters_key ON seg_counters"
	"  (workspace_id, name, where_text, (coalesce(property, '')));"
	"CREATE TABLE seg_counter_daily ("
	"  workspace_id BIGINT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  counter_id BIGINT NOT NULL,"
	"  day INTEGER NOT NULL,"
	"  count BIGINT NOT NULL,"
	"  sum DOUBLE PRECISION NOT NULL DEFAULT 0,"
	"  first_ts BIGINT NOT NULL,"
	"  last_ts BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, profile_id, counter_id, day));",
};
const int store_state_migration_count = sizeof store_state_migrations / sizeof store_state_migrations[0];

const char *const store_events_migrations[] = {
	/* 1: the log. id is the log sequence: monotonic in commit order because
	 * ids are assigned under SQLite's single write lock. Idempotency on
	 * messageId lives in dedup.db (below). */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  workspace_id INTEGER NOT NULL,"
	"  shard INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  name TEXT,"
	"  message_id TEXT NOT NULL,"
	"  user_id TEXT,"
	"  anonymous_id TEXT,"
	"  ts INTEGER NOT NULL,"
	"  received_at INTEGER NOT NULL,"
	"  body TEXT NOT NULL);",
};
const int store_events_migration_count = sizeof store_events_migrations / sizeof store_events_migrations[0];

const char *const store_dedup_migrations[] = {
	/* 1: the idempotency index, keyed by a 64-bit hash of (workspace,
	 * messageId) and filled in sorted bulk off the commit path; `upto` is
	 * the highest event id indexed (docs/decisions/0003-messageid-dedup.md). */
	"CREATE TABLE event_dedup ("
	"  key INTEGER PRIMARY KEY,"
	"  workspace_id INTEGER NOT NULL,"
	"  event_id INTEGER NOT NULL);"
	"CREATE TABLE dedup_mark ("
	"  workspace_id INTEGER NOT NULL DEFAULT 0,"
	"  name TEXT NOT NULL PRIMARY KEY,"
	"  upto INTEGER NOT NULL);"
	"INSERT INTO dedup_mark (name, upto) VALUES ('indexed', 0);",
};
const int store_dedup_migration_count = sizeof store_dedup_migrations / sizeof store_dedup_migrations[0];
