-- The PostgreSQL/TimescaleDB `health` table (sql/health/schema.sql) as a JDBC upsert sink:
-- a replay after a restart overwrites rows, never duplicates them.
-- ts is TIMESTAMP(3) in UTC (the JDBC connector has no TIMESTAMP_LTZ); the column is timestamptz.
CREATE TABLE IF NOT EXISTS health_pg (
    `vehicle_id` STRING NOT NULL,
    `ts` TIMESTAMP(3) NOT NULL,
    `vehicle_type` STRING,
    `fleet_id` STRING,
    `swarm_id` STRING,
    `health_score` DOUBLE,
    `battery_score` DOUBLE,
    `motor_score` DOUBLE,
    `signal_score` DOUBLE,
    `thermal_score` DOUBLE,
    `battery_percent` DOUBLE,
    `alt_m` DOUBLE,
    `signal_dbm` DOUBLE,
    `motor_rpm_mean` DOUBLE,
    `motor_rpm_cv` DOUBLE,
    PRIMARY KEY (`vehicle_id`, `ts`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${JDBC_URL}',
    'table-name' = '${PG_TABLE_HEALTH}',
    'username' = '${PG_USER}',
    'password' = '${PG_PASSWORD}',
    'sink.buffer-flush.max-rows' = '${JDBC_BUFFER_ROWS}',
    'sink.buffer-flush.interval' = '${JDBC_FLUSH_MS}ms',
    'sink.max-retries' = '5'
);
