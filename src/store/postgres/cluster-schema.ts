/**
 * The tables the nodes of a cluster share beside the sub-stores' (part of the first PostgreSQL
 * schema version; see migrations.ts).
 *
 * - hbd_lease: one row. `token` grows by one at every change of holder: the fencing token.
 *   Expiry is by the database's clock, so the nodes' clocks need not agree.
 * - hbd_nodes: one row per node, reported every second or so.
 * - hbd_shared: the newest heartbeat of each host (or that it was forgotten), whichever node
 *   heard it. `rev` comes from one sequence, and writers take an advisory lock for the
 *   transaction, so revisions commit in order and a reader that saw `rev` saw all before it.
 */
export const CLUSTER_TABLES = `
  CREATE TABLE hbd_lease (
    id integer PRIMARY KEY CHECK (id = 1),
    holder text,
    token bigint NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL DEFAULT '-infinity'
  );
  INSERT INTO hbd_lease (id) VALUES (1);
  CREATE TABLE hbd_nodes (
    name text PRIMARY KEY,
    started_at double precision NOT NULL,
    role text NOT NULL,
    api text NOT NULL,
    lag_ms double precision,
    version text NOT NULL,
    last_seen timestamptz NOT NULL
  );
  CREATE SEQUENCE hbd_shared_rev;
  CREATE TABLE hbd_shared (
    host text PRIMARY KEY,
    rev bigint NOT NULL,
    node text NOT NULL,
    seen_at double precision NOT NULL,
    beat jsonb
  );
  CREATE INDEX hbd_shared_by_rev ON hbd_shared (rev);
`;
