"""Fill a database with a node's worth of realistic rows, fast: the "database at size" of issue 18.

    python bench/seed.py --posts 1000000 --accounts 10000 --database-url postgresql://...  [--out ids.json]
    python bench/seed.py --posts 1000000 --accounts 10000 --data-dir /tmp/seeddb          [--out ids.json]

With --database-url the database is migrated (server.db.migrate) and must hold no posts yet. With --data-dir an
embedded PostgreSQL (pgserver, as bench/harness.py's postgres() uses) is started in that folder, a database
`ambtenaar` made in it and left there; the server stops when the script ends and the folder keeps the data (start
it again with `python bench/seed.py --data-dir DIR --serve`, which prints the DATABASE_URL and waits).

What it makes, every row valid under the schema's constraints, foreign keys and triggers, all set-based (INSERT ...
SELECT over generate_series inside PostgreSQL, no row-by-row traffic), then VACUUM ANALYZE:
- organisations (one per 500 accounts, at least 3), each with its organisation account;
- local people (a fifth of the accounts), most in an organisation with a role (official, reviewer, org_admin,
  webcare, archivist), and remote accounts on many domains (a few big servers, a long tail) with actor, inbox,
  shared inbox and key stubs;
- follows with a power law: a few accounts (the organisations first) have thousands of followers; remote accounts
  follow local ones only (a node knows no other follows); a few pending;
- posts spread over 200 days, their number per author a power law too (who is followed much also posts much):
  public, unlisted, followers-only and direct, personal and official voice, replies in threads (a third answer one
  of the last 20 posts, so conversations go deep), boosts of public and unlisted posts, a few held, rejected and
  deleted posts; remote posts carry their uri;
- mentions (every direct post and reply, some others), hashtags (a Zipf list), favourites, notifications
  (mention, favourite, reblog, follow, grouped as the node groups them), image attachments, polls, and handled
  inbox items (the inbox's duplicate check reads that table);
- a reader: a local official following 200 accounts (a busy home timeline) with an OAuth token (read write
  follow), for the read benchmarks.

It prints the counts, the seconds each step took, and the ids a read benchmark needs (also to --out as JSON): the
reader's id, username and token, a public post and its author's username, a thread's post, a tag.
Never: touches a database that already has posts, or the network.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402

from server import oauth  # noqa: E402
from server.db.migrate import migrate  # noqa: E402

SPAN_DAYS = 200
READER_FOLLOWS = 200
ROLES = ("official",) * 16 + ("reviewer", "reviewer", "org_admin", "webcare")  # archivist: every 50th member

# Deterministic pseudo-random numbers from a row number and a salt: the same seed gives the same database.
_FUNCTIONS = """
CREATE FUNCTION pg_temp.h(bigint, integer) RETURNS bigint LANGUAGE sql IMMUTABLE
    AS 'SELECT hashint8($1 * 64 + $2)::bigint & 2147483647';
CREATE FUNCTION pg_temp.u(bigint, integer) RETURNS double precision LANGUAGE sql IMMUTABLE
    AS 'SELECT (hashint8($1 * 64 + $2)::bigint & 2147483647) / 2147483648.0';
"""


def _steps(posts: int, accounts: int, now_ms: int) -> list[tuple[str, str]]:
    """(name, SQL) in order; numbers are formatted in (they are ints), nothing else is."""
    orgs = max(3, accounts // 500)
    span_ms = SPAN_DAYS * 86_400_000
    step_ms = max(1, span_ms // max(posts, 1))
    start_ms = now_ms - step_ms * posts - 60_000
    acct_start_ms = start_ms - 400 * 86_400_000
    a = accounts
    inbox_step = max(1, 7 * 86_400_000 // max(1, posts // 5))
    return [
        ("organisations", f"""
INSERT INTO organisations (id, slug, name, kind, website, created_at, verified_at, verification_method)
SELECT (({acct_start_ms} + g) << 16) | 7, 'org-' || g, 'Organisatie ' || g,
       (ARRAY['gemeente','provincie','ministerie','waterschap','uitvoeringsorganisatie','other'])[1 + g % 6],
       'https://org-' || g || '.example.nl', to_timestamp(({acct_start_ms} + g) / 1000.0),
       CASE WHEN g % 3 <> 2 THEN to_timestamp(({acct_start_ms} + g) / 1000.0) END,
       CASE WHEN g % 3 <> 2 THEN 'rel_me' END
FROM generate_series(0, {orgs - 1}) g"""),
        # The plan of every account: index 0..orgs-1 the organisations' accounts (the most followed), then one in
        # five local, the rest remote; a lower index is more followed and posts more.
        ("account plan", f"""
CREATE TEMP TABLE sa AS
SELECT idx, (({acct_start_ms} + idx * 1000) << 16) | (idx & 65535) AS id,
       idx <= {orgs} OR idx % 5 = 0 AS local,
       CASE WHEN idx < {orgs} THEN idx WHEN idx = {orgs} THEN 0
            WHEN idx % 5 = 0 AND pg_temp.u(idx, 1) < 0.7 THEN pg_temp.h(idx, 2) % {orgs} END AS org_idx,
       'srv' || floor(700 * pg_temp.u(idx, 3) ^ 2)::int || '.example' AS domain
FROM generate_series(0, {a - 1}) idx;
ALTER TABLE sa ADD PRIMARY KEY (idx);
CREATE INDEX ON sa (id)"""),
        ("accounts", f"""
INSERT INTO accounts (id, username, email, display_name, bio, kind, organisation_id, org_role, default_voice,
                      created_at, domain, actor_uri, actor_type, profile_url, inbox_uri, shared_inbox_uri,
                      followers_uri, key_id, public_key_pem, fetched_at, is_admin, is_moderator)
SELECT sa.id,
       CASE WHEN sa.idx < {orgs} THEN 'org_' || sa.idx WHEN sa.local THEN 'ambt' || sa.idx ELSE 'user' || sa.idx END,
       CASE WHEN sa.local THEN 'ambt' || sa.idx || '@seed.invalid' END,
       CASE WHEN sa.idx < {orgs} THEN 'Organisatie ' || sa.idx ELSE 'Persoon ' || sa.idx END,
       'Bio van ' || sa.idx,
       CASE WHEN sa.idx < {orgs} THEN 'organisation' ELSE 'person' END,
       o.id,
       CASE WHEN sa.idx < {orgs} OR sa.org_idx IS NULL THEN NULL WHEN sa.idx = {orgs} THEN 'official'
            WHEN sa.idx % 50 = 5 THEN 'archivist'
            ELSE (ARRAY{list(ROLES)!r})[1 + pg_temp.h(sa.idx, 4) % {len(ROLES)}] END,
       CASE WHEN sa.idx < {orgs} THEN 'official' ELSE 'personal' END,
       to_timestamp(({acct_start_ms} + sa.idx * 1000) / 1000.0),
       CASE WHEN NOT sa.local THEN sa.domain END,
       CASE WHEN NOT sa.local THEN 'https://' || sa.domain || '/users/user' || sa.idx END,
       CASE WHEN NOT sa.local THEN 'Person' ELSE 'Person' END,
       CASE WHEN NOT sa.local THEN 'https://' || sa.domain || '/@user' || sa.idx END,
       CASE WHEN NOT sa.local THEN 'https://' || sa.domain || '/users/user' || sa.idx || '/inbox' END,
       CASE WHEN NOT sa.local THEN 'https://' || sa.domain || '/inbox' END,
       CASE WHEN NOT sa.local THEN 'https://' || sa.domain || '/users/user' || sa.idx || '/followers' END,
       CASE WHEN NOT sa.local THEN 'https://' || sa.domain || '/users/user' || sa.idx || '#main-key' END,
       CASE WHEN NOT sa.local THEN '-----BEGIN PUBLIC KEY-----\nseed stub ' || sa.idx || '\n-----END PUBLIC KEY-----\n' END,
       CASE WHEN NOT sa.local THEN now() - interval '1 day' END,
       sa.idx = {5 * (orgs // 5 + 2)}, sa.idx = {5 * (orgs // 5 + 3)}
FROM sa LEFT JOIN organisations o ON o.id = (({acct_start_ms} + sa.org_idx) << 16) | 7
ORDER BY sa.idx"""),
        # The reader: the first local person after the organisations, an official of the first organisation.
        ("follows", f"""
INSERT INTO follows (follower_id, followed_id, created_at, state, follow_uri)
SELECT DISTINCT ON (f.id, t.id) f.id, t.id,
       now() - interval '1 second' * (pg_temp.h(f.idx * 131 + k, 9) % {365 * 86400}),
       CASE WHEN pg_temp.u(f.idx * 131 + k, 7) < 0.02 THEN 'pending' ELSE 'accepted' END,
       CASE WHEN NOT f.local THEN 'https://' || f.domain || '/follows/' || f.idx || '-' || k END
FROM sa f CROSS JOIN LATERAL generate_series(1, 3 + floor(60 * pg_temp.u(f.idx, 5) ^ 3)::int) k
JOIN sa t ON t.idx = floor({a} * pg_temp.u(f.idx * 131 + k, 6) ^ 3)::int
WHERE t.id <> f.id AND (f.local OR t.local) AND f.idx <> {orgs}
ON CONFLICT DO NOTHING"""),
        ("reader's follows", f"""
INSERT INTO follows (follower_id, followed_id, created_at, state)
SELECT r.id, t.id, now() - interval '1 second' * (pg_temp.h(t.idx, 9) % {365 * 86400}), 'accepted'
FROM sa r, LATERAL (SELECT id, idx FROM sa WHERE sa.idx <> r.idx AND sa.idx < {a}
                    ORDER BY (sa.idx < {orgs}) DESC, pg_temp.u(sa.idx, 8) * (1 + sa.idx) LIMIT {READER_FOLLOWS}) t
WHERE r.idx = {orgs}"""),
        # The plan of every post: kind, visibility, author and, for replies and boosts, a candidate earlier post.
        ("post plan", f"""
CREATE TEMP TABLE sp0 AS
SELECT i, CASE WHEN r < 180 THEN 'boost' WHEN r < 330 THEN 'reply' ELSE 'original' END AS kind0,
       (ARRAY['public','public','public','public','public','public','public','public','public','public','public',
              'public','unlisted','unlisted','unlisted','private','private','private','private','direct'])
           [1 + pg_temp.h(i, 11) % 20] AS vis,
       floor({a} * pg_temp.u(i, 12) ^ 2.5)::int AS author_idx,
       CASE WHEN pg_temp.h(i, 13) % 3 = 0 THEN i - 1 - pg_temp.h(i, 14) % 20 ELSE i - 1 - pg_temp.h(i, 14) % 500 END
           AS parent_i,
       i - 1 - pg_temp.h(i, 15) % 3000 AS target_i,
       pg_temp.h(i, 16) % 1000 AS fate
FROM (SELECT i, pg_temp.h(i, 10) % 1000 AS r FROM generate_series(0, {posts - 1}) i) g;
ALTER TABLE sp0 ADD PRIMARY KEY (i);
CREATE TEMP TABLE sp AS
SELECT s.i, (({start_ms} + s.i::bigint * {step_ms}) << 16) | pg_temp.h(s.i, 17) % 65536 AS id,
       to_timestamp(({start_ms} + s.i::bigint * {step_ms}) / 1000.0) AS created_at,
       CASE WHEN s.kind0 = 'boost' AND t.kind0 <> 'boost' AND t.vis IN ('public', 'unlisted') AND t.fate >= 30
            THEN 'boost'
            WHEN s.kind0 = 'reply' AND p.kind0 <> 'boost' THEN 'reply' ELSE 'original' END AS kind,
       CASE WHEN s.kind0 = 'boost' THEN 'public' ELSE s.vis END AS vis,
       s.author_idx, s.parent_i, s.target_i, s.fate
FROM sp0 s LEFT JOIN sp0 p ON p.i = s.parent_i LEFT JOIN sp0 t ON t.i = s.target_i;
ALTER TABLE sp ADD PRIMARY KEY (i);
UPDATE sp SET vis = t.vis FROM sp0 t WHERE sp.kind = 'boost' AND t.i = sp.target_i AND t.vis = 'unlisted';
DROP TABLE sp0"""),
        # fate: < 10 deleted, < 30 held or rejected (members of an organisation only), else published.
        ("posts", """
INSERT INTO posts (id, account_id, source_text, content_html, visibility, voice, organisation_id, language,
                   in_reply_to_id, reblog_of_id, created_at, deleted_at, uri, url, state)
SELECT sp.id, a.id,
       CASE WHEN sp.kind = 'boost' THEN '' ELSE w.text END,
       CASE WHEN sp.kind = 'boost' THEN '' ELSE '<p>' || w.text || '</p>' END,
       sp.vis, v.voice, CASE WHEN v.voice = 'official' THEN ac.organisation_id END,
       CASE WHEN sp.i % 9 = 0 THEN 'en' ELSE 'nl' END,
       CASE WHEN sp.kind = 'reply' THEN pp.id END, CASE WHEN sp.kind = 'boost' THEN tp.id END,
       sp.created_at, CASE WHEN sp.fate < 10 THEN sp.created_at + interval '1 hour' END,
       CASE WHEN NOT a.local THEN 'https://' || a.domain || '/users/user' || a.idx || '/statuses/' || sp.id END,
       CASE WHEN NOT a.local THEN 'https://' || a.domain || '/@user' || a.idx || '/' || sp.id END,
       CASE WHEN sp.fate BETWEEN 10 AND 29 AND ac.organisation_id IS NOT NULL AND sp.kind <> 'boost'
            THEN (CASE WHEN sp.fate < 25 THEN 'held' ELSE 'rejected' END) ELSE 'published' END
FROM sp JOIN sa a ON a.idx = sp.author_idx JOIN accounts ac ON ac.id = a.id
LEFT JOIN sp pp ON pp.i = sp.parent_i AND sp.kind = 'reply'
LEFT JOIN sp tp ON tp.i = sp.target_i AND sp.kind = 'boost'
CROSS JOIN LATERAL (SELECT CASE WHEN sp.kind <> 'boost' AND ac.organisation_id IS NOT NULL
                                     AND (ac.kind = 'organisation' OR pg_temp.u(sp.i, 18) < 0.3)
                                THEN 'official' ELSE 'personal' END AS voice) v
CROSS JOIN LATERAL (SELECT 'Bericht ' || sp.i || ': ' ||
       (ARRAY['De gemeente','Het waterschap','Onze afdeling','Het college','De provincie','Het team'])
           [1 + pg_temp.h(sp.i, 19) % 6] || ' ' ||
       (ARRAY['informeert over','zoekt mensen voor','werkt aan','opent vandaag','sluit morgen','vraagt mening over'])
           [1 + pg_temp.h(sp.i, 20) % 6] || ' ' ||
       (ARRAY['de nieuwe fietsbrug','het afvalbeleid','de dijkversterking','het stadhuis','de begroting',
              'het zwembad','de woningbouw','de bibliotheek'])[1 + pg_temp.h(sp.i, 21) % 8] ||
       repeat('. Meer informatie volgt op onze website en in de wijkkrant', 1 + (pg_temp.h(sp.i, 22) % 4)::int)
       AS text) w
ORDER BY sp.i
ON CONFLICT DO NOTHING"""),
        ("mentions", f"""
INSERT INTO post_mentions (post_id, account_id)
SELECT p.id, pa.account_id FROM sp JOIN posts p ON p.id = sp.id JOIN posts pa ON pa.id = p.in_reply_to_id
WHERE sp.kind = 'reply' AND pa.account_id <> p.account_id
UNION
SELECT p.id, m.id FROM sp JOIN posts p ON p.id = sp.id
JOIN sa m ON m.idx = floor({a} * pg_temp.u(sp.i, 23) ^ 3)::int
WHERE sp.kind <> 'boost' AND (sp.vis = 'direct' OR pg_temp.h(sp.i, 24) % 10 = 0) AND m.id <> p.account_id
ON CONFLICT DO NOTHING"""),
        ("tags", """
INSERT INTO post_tags (post_id, tag)
SELECT sp.id, 'tag' || floor(500 * pg_temp.u(sp.i, 25) ^ 3)::int FROM sp
WHERE sp.kind <> 'boost' AND pg_temp.h(sp.i, 26) % 5 = 0 AND EXISTS (SELECT 1 FROM posts WHERE id = sp.id)"""),
        ("favourites", f"""
INSERT INTO favourites (account_id, post_id, created_at, like_uri)
SELECT DISTINCT ON (f.id, sp.id) f.id, sp.id, sp.created_at + interval '10 minutes' * k,
       CASE WHEN NOT f.local THEN 'https://' || f.domain || '/likes/' || sp.i || '-' || k END
FROM sp CROSS JOIN LATERAL generate_series(1, floor(6 * pg_temp.u(sp.i, 27) ^ 2)::int) k
JOIN sa f ON f.idx = floor({a} * pg_temp.u(sp.i * 7 + k, 28) ^ 2)::int
WHERE sp.kind <> 'boost' AND sp.vis IN ('public', 'unlisted') AND sp.fate >= 30
  AND EXISTS (SELECT 1 FROM posts WHERE id = sp.id)
ON CONFLICT DO NOTHING"""),
        ("media", """
INSERT INTO media_attachments (id, account_id, post_id, content_type, file_name, width, height, preview_width,
                               preview_height, blurhash, description, created_at, remote_url)
SELECT p.id + 1, p.account_id, p.id, 'image/jpeg',
       CASE WHEN p.uri IS NULL THEN 'seed-' || p.id || '.jpg' ELSE '' END, 1200, 800, 400, 267,
       'LEHV6nWB2yk8pyo0adR*.7kCMdnj', 'Foto bij bericht', p.created_at,
       CASE WHEN p.uri IS NOT NULL THEN p.uri || '/media.jpg' END
FROM sp JOIN posts p ON p.id = sp.id WHERE sp.kind <> 'boost' AND pg_temp.h(sp.i, 29) % 20 = 0"""),
        ("polls", """
INSERT INTO polls (post_id, options, votes, votes_count, voters_count, multiple, expires_at, closed_at, updated_at)
SELECT p.id, ARRAY['Ja', 'Nee', 'Weet niet'], ARRAY[3, 2, 1], 6, 6, false, p.created_at + interval '1 day',
       CASE WHEN p.created_at < now() - interval '1 day' THEN p.created_at + interval '1 day' END, p.created_at
FROM sp JOIN posts p ON p.id = sp.id WHERE sp.kind = 'original' AND pg_temp.h(sp.i, 30) % 300 = 0"""),
        ("notifications", """
INSERT INTO notifications (id, account_id, type, from_account_id, post_id, created_at, group_key)
SELECT ((extract(epoch FROM n.at) * 1000)::bigint << 16) | (row_number() OVER () % 65536),
       n.account_id, n.type, n.from_id, n.post_id, n.at, n.group_key
FROM (
  SELECT p.account_id, 'favourite' AS type, f.account_id AS from_id, p.id AS post_id, f.created_at AS at,
         'favourite-' || p.id || '-' || (extract(epoch FROM f.created_at)::bigint / 3600) AS group_key
  FROM favourites f JOIN posts p ON p.id = f.post_id JOIN accounts ra ON ra.id = p.account_id
  WHERE ra.domain IS NULL AND f.account_id <> p.account_id
  UNION ALL
  SELECT o.account_id, 'reblog', b.account_id, o.id, b.created_at,
         'reblog-' || o.id || '-' || (extract(epoch FROM b.created_at)::bigint / 3600)
  FROM posts b JOIN posts o ON o.id = b.reblog_of_id JOIN accounts ra ON ra.id = o.account_id
  WHERE ra.domain IS NULL AND b.account_id <> o.account_id AND b.deleted_at IS NULL
  UNION ALL
  SELECT m.account_id, 'mention', p.account_id, p.id, p.created_at, NULL
  FROM post_mentions m JOIN posts p ON p.id = m.post_id JOIN accounts ra ON ra.id = m.account_id
  WHERE ra.domain IS NULL AND p.state = 'published'
  UNION ALL
  SELECT f.followed_id, CASE WHEN f.state = 'accepted' THEN 'follow' ELSE 'follow_request' END, f.follower_id,
         NULL, f.created_at, CASE WHEN f.state = 'accepted' THEN 'follow-' ||
         (extract(epoch FROM f.created_at)::bigint / 3600) END
  FROM follows f JOIN accounts ra ON ra.id = f.followed_id WHERE ra.domain IS NULL) n
ON CONFLICT DO NOTHING"""),
        ("inbox items", f"""
INSERT INTO inbox_items (id, activity_uri, actor_uri, activity, received_at, state, next_attempt_at)
SELECT ((({now_ms} - 7 * 86400000 + g::bigint * {inbox_step}) << 16) | (g % 65536)),
       'https://' || a.domain || '/users/user' || a.idx || '/activities/' || g,
       'https://' || a.domain || '/users/user' || a.idx,
       jsonb_build_object('id', 'https://' || a.domain || '/users/user' || a.idx || '/activities/' || g,
                          'type', 'Like', 'actor', 'https://' || a.domain || '/users/user' || a.idx),
       to_timestamp(({now_ms} - 7 * 86400000 + g::bigint * {inbox_step}) / 1000.0), 'done',
       to_timestamp(({now_ms} - 7 * 86400000 + g::bigint * {inbox_step}) / 1000.0)
FROM generate_series(0, {max(1, posts // 5) - 1}) g
JOIN sa a ON a.idx = {orgs} + 1 + (pg_temp.h(g, 31) % {max(1, a - orgs - 1)})
WHERE NOT a.local"""),
    ]


COUNTED = ("organisations", "accounts", "follows", "posts", "post_mentions", "post_tags", "favourites",
           "notifications", "media_attachments", "polls", "inbox_items")


async def seed(url: str, posts: int, accounts: int) -> dict[str, Any]:
    """Migrate, fill, VACUUM ANALYZE; the ids for the read benchmarks, the counts and the seconds taken."""
    conn = await asyncpg.connect(url, timeout=60, command_timeout=None)
    try:
        await migrate(conn)
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM posts)"):
            raise SystemExit("seed: the database already has posts; give an empty (or freshly migrated) one")
        await conn.execute("SET synchronous_commit = off; SET work_mem = '256MB'; SET maintenance_work_mem = '512MB'")
        await conn.execute(_FUNCTIONS)
        now = datetime.now(timezone.utc)
        now_ms = int(now.timestamp() * 1000)
        timings: dict[str, float] = {}
        started = time.monotonic()
        for name, sql in _steps(posts, accounts, now_ms):
            t0 = time.monotonic()
            async with conn.transaction():
                await conn.execute(sql)
            timings[name] = round(time.monotonic() - t0, 1)
            print(f"  {name:18s} {timings[name]:7.1f} s", flush=True)
        ids = await _benchmark_ids(conn, accounts, now)
        t0 = time.monotonic()
        await conn.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = round(time.monotonic() - t0, 1)
        print(f"  {'vacuum analyze':18s} {timings['vacuum analyze']:7.1f} s", flush=True)
        total = round(time.monotonic() - started, 1)
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in COUNTED}
    finally:
        await conn.close()
    return {"ids": ids, "counts": counts, "seconds": timings, "total_seconds": total}


async def _benchmark_ids(conn: asyncpg.Connection, accounts: int, now: datetime) -> dict[str, Any]:
    orgs = max(3, accounts // 500)
    reader = await conn.fetchrow("SELECT a.id, a.username FROM accounts a JOIN sa s ON s.id = a.id "
                                 "WHERE s.idx = $1", orgs)
    app = await oauth.get_or_insert_named_app(conn, "bench seed")
    token = await oauth.insert_token(conn, app_id=app.id, account_id=reader["id"], scopes="read write follow",
                                     now=now, with_refresh=False)
    public = await conn.fetchrow(
        """SELECT p.id, a.username FROM posts p JOIN accounts a ON a.id = p.account_id
           WHERE p.visibility = 'public' AND p.deleted_at IS NULL AND p.state = 'published' AND p.reblog_of_id IS NULL
             AND a.domain IS NULL ORDER BY p.id DESC LIMIT 1""")
    thread = await conn.fetchval(
        """SELECT r.in_reply_to_id FROM posts r WHERE r.in_reply_to_id IS NOT NULL
             AND r.id > (SELECT max(id) - (max(id) - min(id)) / 20 FROM posts)
           GROUP BY r.in_reply_to_id ORDER BY count(*) DESC LIMIT 1""")
    tag = await conn.fetchval("SELECT tag FROM post_tags GROUP BY tag ORDER BY count(*) DESC LIMIT 1")
    return {"reader_id": reader["id"], "reader_username": reader["username"], "reader_token": token.access_token,
            "reader_follows": await conn.fetchval(
                "SELECT count(*) FROM follows WHERE follower_id = $1 AND state = 'accepted'", reader["id"]),
            "public_post_id": public["id"], "public_post_author": public["username"],
            "thread_post_id": thread, "tag": tag}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_embedded(data_dir: Path, keep_running: bool = False) -> tuple[Any, str]:
    """pgserver in `data_dir` (as bench/harness.py's postgres() starts it, but kept), with a database `ambtenaar`."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    # pgserver counts the processes holding the server in this file and stops it when the last one lets go; a
    # holder that was killed stays listed, and the server would then never be stopped: forget the dead ones.
    handles = data_dir / ".handle_pids.json"
    if handles.exists():
        handles.write_text(json.dumps([pid for pid in json.loads(handles.read_text() or "[]") if _alive(pid)]))
    server = pgserver.get_server(data_dir, cleanup_mode=None if keep_running else "stop")
    if "(1 row)" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'ambtenaar';"):
        server.psql("CREATE DATABASE ambtenaar;")
    return server, str(server.get_uri("ambtenaar"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--database-url", help="a PostgreSQL database to fill (migrated here; must have no posts)")
    parser.add_argument("--data-dir", type=Path, help="start an embedded PostgreSQL (pgserver) in this folder")
    parser.add_argument("--out", type=Path, help="also write the ids (and counts, seconds) to this JSON file")
    parser.add_argument("--serve", action="store_true",
                        help="with --data-dir: only start the seeded PostgreSQL, print its URL, wait for Ctrl-C")
    args = parser.parse_args()
    if args.posts < 100 or args.accounts < 50:
        parser.exit(1, "seed: give at least 100 posts and 50 accounts\n")
    if not args.database_url and not args.data_dir:
        parser.exit(1, "seed: give --database-url postgresql://user@host/db (an empty database; set up one with "
                       "`createdb`), or --data-dir DIR to start an embedded PostgreSQL there (pgserver)\n")
    server = None
    url = args.database_url
    if args.data_dir and not url:
        server, url = start_embedded(args.data_dir)
    try:
        if args.serve:
            print(f"DATABASE_URL={url}", flush=True)
            stop = {signal.SIGINT, signal.SIGTERM}
            signal.pthread_sigmask(signal.SIG_BLOCK, stop)  # sigwait takes them, so the server is stopped below
            signal.sigwait(stop)
            return
        print(f"seeding {args.posts} posts, {args.accounts} accounts into {url}", flush=True)
        result = asyncio.run(seed(url, args.posts, args.accounts))
        result["database_url"] = url
    finally:
        if server is not None:
            server.cleanup()
    for table, count in result["counts"].items():
        print(f"{table:18s} {count:>10,}")
    print(f"seeded in {result['total_seconds']} s (VACUUM ANALYZE included)")
    print(json.dumps(result["ids"], indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
