-- The PostgreSQL/TimescaleDB `alerts` table (sql/health/schema.sql) as a JDBC upsert sink keyed
-- by (alert_id, ts): a replay overwrites, never duplicates.
-- ts is TIMESTAMP(3) in UTC (the JDBC connector has no TIMESTAMP_LTZ); the column is timestamptz.
CREATE TABLE IF NOT EXISTS alerts_pg (
    `alert_id` STRING NOT NULL,
    `ts` TIMESTAMP(3) NOT NULL,
    `vehicle_id` STRING NOT NULL,
    `fleet_id` STRING,
    `alert_type` STRING NOT NULL,
    `severity` STRING NOT NULL,
    `value` DOUBLE,
    `threshold` DOUBLE,
    `message` STRING,
    `source` STRING,
    PRIMARY KEY (`alert_id`, `ts`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${JDBC_URL}',
    'table-name' = '${PG_TABLE_ALERTS}',
    'username' = '${PG_USER}',
    'password' = '${PG_PASSWORD}',
    'sink.buffer-flush.max-rows' = '${JDBC_BUFFER_ROWS}',
    'sink.buffer-flush.interval' = '${JDBC_FLUSH_MS}ms',
    'sink.max-retries' = '5'
);
