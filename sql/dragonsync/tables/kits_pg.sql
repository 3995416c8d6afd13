-- The `kits` table: the collector's view of each configured kit, one row per kit_id.
-- JDBC upsert on the primary key: a replay or a re-polled observation overwrites, never duplicates.
-- Times are TIMESTAMP(3) in UTC (the JDBC connector has no TIMESTAMP_LTZ); the columns are timestamptz.
CREATE TABLE IF NOT EXISTS kits_pg (
    `kit_id` STRING NOT NULL,
    `name` STRING,
    `location` STRING,
    `api_url` STRING,
    `last_seen` TIMESTAMP(3),
    `status` STRING,
    `enabled` BOOLEAN,
    `source` STRING,
    `uid` STRING,
    `last_error` STRING,
    `updated_at` TIMESTAMP(3),
    PRIMARY KEY (`kit_id`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${JDBC_URL}',
    'table-name' = '${PG_TABLE_KITS}',
    'username' = '${PG_USER}',
    'password' = '${PG_PASSWORD}',
    'sink.buffer-flush.max-rows' = '${JDBC_BUFFER_ROWS}',
    'sink.buffer-flush.interval' = '${JDBC_FLUSH_MS}ms',
    'sink.max-retries' = '5'
);
