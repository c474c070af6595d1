/* store_schema.c — numbered migrations. Append only: never edit a released
 * step; add a new one. Each runs in its own transaction and sets
 * PRAGMA user_version to its number. Every table carries workspace_id. */
#include "store/store_int.h"

/* Notes profile id x for the search index (migration 21). Not "OR IGNORE":
 * a trigger takes the conflict clause of the statement that fired it,
 * and an upsert's would turn a repeat into an error. */
#define SEARCH_DIRTY(x)                                                                                                \
	"INSERT INTO profile_search_dirty SELECT " x " WHERE NOT EXISTS (SELECT 1 FROM profile_search_dirty WHERE "      \
	"profile_id = " x ");"

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

	/* 10: journeys (store_journey.h): definitions and versions, running
	 * instances, their timers (indexed by due time), step history, per-node
	 * counters, the message outbox, and workspace settings */
	"CREATE TABLE journeys ("
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  draft TEXT NOT NULL,"
	"  draft_rev BIGINT NOT NULL,"
	"  live_version BIGINT NOT NULL DEFAULT 0,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, journey_id));"
	"CREATE TABLE journey_versions ("
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  version BIGINT NOT NULL,"
	"  definition TEXT NOT NULL,"
	"  published_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, journey_id, version));"
	"CREATE TABLE jny_instances ("
	"  instance_id INTEGER PRIMARY KEY,"
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  version BIGINT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  wait_event TEXT NOT NULL DEFAULT '',"
	"  variant TEXT NOT NULL DEFAULT '',"
	"  entered_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  exited_at BIGINT NOT NULL DEFAULT 0,"
	"  exit_reason TEXT NOT NULL DEFAULT '',"
	"  converted_at BIGINT NOT NULL DEFAULT 0,"
	"  steps BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX jny_instances_profile ON jny_instances (workspace_id, profile_id, state);"
	"CREATE INDEX jny_instances_node ON jny_instances (workspace_id, journey_id, state, node);"
	"CREATE TABLE jny_entries ("
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  last_entered_at BIGINT NOT NULL,"
	"  entries BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, journey_id, profile_id));"
	"CREATE TABLE jny_timers ("
	"  instance_id INTEGER PRIMARY KEY,"
	"  workspace_id BIGINT NOT NULL,"
	"  due_at BIGINT NOT NULL,"
	"  kind TEXT NOT NULL);"
	"CREATE INDEX jny_timers_due ON jny_timers (due_at);"
	"CREATE TABLE jny_steps ("
	"  instance_id BIGINT NOT NULL,"
	"  seq BIGINT NOT NULL,"
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  version BIGINT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  at BIGINT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  PRIMARY KEY (instance_id, seq));"
	"CREATE INDEX jny_steps_profile ON jny_steps (workspace_id, profile_id, at);"
	"CREATE TABLE jny_node_stats ("
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  entered BIGINT NOT NULL DEFAULT 0,"
	"  exited BIGINT NOT NULL DEFAULT 0,"
	"  converted BIGINT NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (workspace_id, journey_id, node));"
	"CREATE TABLE messages ("
	"  message_id TEXT PRIMARY KEY,"
	"  workspace_id BIGINT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  instance_id BIGINT NOT NULL DEFAULT 0,"
	"  journey_id TEXT,"
	"  version BIGINT NOT NULL DEFAULT 0,"
	"  node TEXT,"
	"  variant TEXT,"
	"  channel TEXT NOT NULL,"
	"  template_id TEXT,"
	"  advertising INTEGER NOT NULL,"
	"  content TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  send_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL);"
	"CREATE INDEX messages_status ON messages (status, send_at);"
	"CREATE INDEX messages_profile ON messages (workspace_id, profile_id, channel, send_at);"
	"CREATE INDEX messages_ws ON messages (workspace_id, created_at, message_id);"
	"CREATE TABLE journey_tests ("
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  input TEXT NOT NULL,"
	"  expected TEXT NOT NULL,"
	"  version BIGINT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, journey_id, name));"
	"CREATE TABLE ws_settings ("
	"  workspace_id BIGINT NOT NULL,"
	"  key TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, key));",

	/* 11: scheduled journey entries (store_journey.h): a date trigger's
	 * per-user entry time, a broadcast's next run (profile_id 0) */
	"CREATE TABLE jny_schedules ("
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  profile_id BIGINT NOT NULL,"
	"  due_at BIGINT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  PRIMARY KEY (workspace_id, journey_id, profile_id));"
	"CREATE INDEX jny_schedules_due ON jny_schedules (due_at);",

	/* 12: an exited instance keeps listening for its journey's goal until
	 * goal_until (entry + the goal's window) */
	"ALTER TABLE jny_instances ADD COLUMN goal_until BIGINT NOT NULL DEFAULT 0;",

	/* 13: the engine outbox carries any message type (journeys emit tags,
	 * identify and lifecycle messages, which have no event name) */
	"CREATE TABLE engine_outbox_v13 ("
	"  id INTEGER PRIMARY KEY,"
	"  workspace_id INTEGER NOT NULL,"
	"  profile_id INTEGER NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  user_id TEXT,"
	"  anonymous_id TEXT,"
	"  type TEXT NOT NULL DEFAULT 'track',"
	"  name TEXT,"
	"  body TEXT NOT NULL,"
	"  ts INTEGER NOT NULL);"
	"INSERT INTO engine_outbox_v13 (id, workspace_id, profile_id, message_id, user_id, anonymous_id, name, body, ts)"
	"  SELECT id, workspace_id, profile_id, message_id, user_id, anonymous_id, name, body, ts FROM engine_outbox;"
	"DROP TABLE engine_outbox;"
	"ALTER TABLE engine_outbox_v13 RENAME TO engine_outbox;",

	/* 14: delivery (store_deliver.h): the outbox's dispatch columns, each
	 * message's status history, providers (secrets sealed by the caller),
	 * sender domains (DKIM keys, sealed) and the suppression list */
	"ALTER TABLE messages ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE messages ADD COLUMN transactional INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN topic TEXT;"
	"ALTER TABLE messages ADD COLUMN recipient TEXT;"
	"ALTER TABLE messages ADD COLUMN parent_id TEXT;"
	"ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE messages ADD COLUMN provider_id TEXT;"
	"ALTER TABLE messages ADD COLUMN to_addr TEXT;"
	"ALTER TABLE messages ADD COLUMN reason TEXT;"
	"ALTER TABLE messages ADD COLUMN provider_ref TEXT;"
	"ALTER TABLE messages ADD COLUMN sent_at BIGINT;"
	"DROP INDEX messages_status;"
	"CREATE INDEX messages_due ON messages (priority, send_at) WHERE status IN ('queued', 'held');"
	"CREATE INDEX messages_state ON messages (workspace_id, status, created_at);"
	"CREATE TABLE message_history ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id TEXT NOT NULL,"
	"  at BIGINT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  reason TEXT,"
	"  provider_id TEXT,"
	"  attempt INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX message_history_msg ON message_history (message_id, id);"
	"CREATE TABLE providers ("
	"  workspace_id BIGINT NOT NULL,"
	"  provider_id TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  config TEXT NOT NULL,"
	"  secret BLOB,"
	"  priority INTEGER NOT NULL DEFAULT 0,"
	"  disabled INTEGER NOT NULL DEFAULT 0,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, provider_id));"
	"CREATE TABLE domains ("
	"  workspace_id BIGINT NOT NULL,"
	"  domain TEXT NOT NULL,"
	"  selector TEXT NOT NULL,"
	"  algorithm TEXT NOT NULL,"
	"  dns_value TEXT NOT NULL,"
	"  private_key BLOB NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, domain));"
	"CREATE TABLE suppressions ("
	"  workspace_id BIGINT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  message_id TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, channel, address));",

	/* 15: a provider's delivery webhooks name messages by the provider's
	 * id for them (SMTP Message-ID, an HTTP API's id) */
	"CREATE INDEX messages_ref ON messages (provider_ref) WHERE provider_ref IS NOT NULL;",

	/* 16: analytics rollups (store_analytics.h), derived from the log:
	 * message outcomes and reactions per day and per message dimension,
	 * and which message already counted once for a metric (uniques) */
	"CREATE TABLE an_msg_daily ("
	"  workspace_id BIGINT NOT NULL,"
	"  day BIGINT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  variant TEXT NOT NULL,"
	"  template_id TEXT NOT NULL,"
	"  metric TEXT NOT NULL,"
	"  total BIGINT NOT NULL,"
	"  uniq BIGINT NOT NULL,"
	"  PRIMARY KEY (workspace_id, metric, day, channel, journey_id, node, variant, template_id));"
	"CREATE TABLE an_msg_seen ("
	"  workspace_id BIGINT NOT NULL,"
	"  message_id TEXT NOT NULL,"
	"  metric TEXT NOT NULL,"
	"  PRIMARY KEY (workspace_id, message_id, metric)) WITHOUT ROWID;",

	/* 17: journey node counts per version (earlier counts keep version 0:
	 * they were not told apart) */
	"ALTER TABLE jny_node_stats RENAME TO jny_node_stats_v16;"
	"CREATE TABLE jny_node_stats ("
	"  workspace_id BIGINT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  version BIGINT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  entered BIGINT NOT NULL DEFAULT 0,"
	"  exited BIGINT NOT NULL DEFAULT 0,"
	"  converted BIGINT NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (workspace_id, journey_id, version, node));"
	"INSERT INTO jny_node_stats (workspace_id, journey_id, version, node, entered, exited, converted)"
	"  SELECT workspace_id, journey_id, 0, node, entered, exited, converted FROM jny_node_stats_v16;"
	"DROP TABLE jny_node_stats_v16;",

	/* 18: the event that started a journey instance, so messages sent
	 * after a wait can still read it as `event` */
	"CREATE TABLE jny_entry_events ("
	"  instance_id INTEGER PRIMARY KEY,"
	"  event TEXT NOT NULL);",

	/* 19: conversions attributed to the message that last touched the user
	 * (store_analytics.h), derived from the log */
	"CREATE TABLE an_attrib_daily ("
	"  workspace_id BIGINT NOT NULL,"
	"  day BIGINT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  journey_id TEXT NOT NULL,"
	"  node TEXT NOT NULL,"
	"  template_id TEXT NOT NULL,"
	"  conversions BIGINT NOT NULL,"
	"  revenue REAL NOT NULL,"
	"  PRIMARY KEY (workspace_id, day, channel, journey_id, node, template_id));",

	/* 20: the web app's login sessions (store_access.h), by token hash */
	"CREATE TABLE sessions ("
	"  token_hash BLOB PRIMARY KEY,"
	"  workspace_id BIGINT NOT NULL,"
	"  member_id BIGINT NOT NULL,"
	"  csrf TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL);",

	/* 21: substring search over people (the web app's People search):
	 * one trigram FTS5 row per profile holding its ids, email, name, phone
	 * (as 82… and 0…), trait values and other identities. Triggers only
	 * note which profiles changed (profile_search_dirty, in the profile's
	 * transaction); the engine rewrites their rows in batches when it has
	 * caught up (store_search_index): FTS5 pays per transaction, so rows
	 * written one small transaction at a time cost several times more. */
	"CREATE VIRTUAL TABLE profile_search USING fts5(text, tokenize = 'trigram case_sensitive 0', detail = 'none');"
	"CREATE TABLE profile_search_dirty (profile_id INTEGER PRIMARY KEY);"
	"CREATE TRIGGER profile_search_ins AFTER INSERT ON profiles BEGIN " SEARCH_DIRTY("new.profile_id") " END;"
	"CREATE TRIGGER profile_search_upd AFTER UPDATE OF user_id, email, name, phone, traits ON profiles"
	"  WHEN old.user_id IS NOT new.user_id OR old.email IS NOT new.email OR old.name IS NOT new.name"
	"    OR old.phone IS NOT new.phone OR old.traits IS NOT new.traits"
	"  BEGIN " SEARCH_DIRTY("new.profile_id") " END;"
	"CREATE TRIGGER profile_search_del AFTER DELETE ON profiles BEGIN " SEARCH_DIRTY("old.profile_id") " END;"
	"CREATE TRIGGER profile_search_id_ins AFTER INSERT ON identities"
	"  WHEN new.value IS NOT (SELECT user_id FROM profiles WHERE profile_id = new.profile_id)"
	"  BEGIN " SEARCH_DIRTY("new.profile_id") " END;"
	"CREATE TRIGGER profile_search_id_upd AFTER UPDATE OF profile_id ON identities"
	"  BEGIN " SEARCH_DIRTY("old.profile_id") " " SEARCH_DIRTY("new.profile_id") " END;"
	"CREATE TRIGGER profile_search_id_del AFTER DELETE ON identities BEGIN " SEARCH_DIRTY("old.profile_id") " END;"
	"INSERT INTO profile_search (rowid, text) SELECT " PROFILE_SEARCH_TEXT " FROM profiles p;",
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
