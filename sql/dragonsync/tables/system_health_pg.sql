-- The `system_health` table: one row per kit /status report (time, kit_id).
-- JDBC upsert on the primary key: a replay or a re-polled observation overwrites, never duplicates.
-- Times are TIMESTAMP(3) in UTC (the JDBC connector has no TIMESTAMP_LTZ); the columns are timestamptz.
CREATE TABLE IF NOT EXISTS system_health_pg (
    `time` TIMESTAMP(3) NOT NULL,
    `kit_id` STRING NOT NULL,
    `lat` DOUBLE,
    `lon` DOUBLE,
    `alt` DOUBLE,
    `temp_cpu` DOUBLE,
    `temp_gpu` DOUBLE,
    `pluto_temp` DOUBLE,
    `zynq_temp` DOUBLE,
    `speed` DOUBLE,
    `track` DOUBLE,
    `cpu_percent` DOUBLE,
    `memory_percent` DOUBLE,
    `disk_percent` DOUBLE,
    `uptime_hours` DOUBLE,
    `gps_fix` BOOLEAN,
    `time_source` STRING,
    `gpsd_time_utc` STRING,
    `kit_updated_epoch` BIGINT,
    `uid` STRING,
    `poll_time` TIMESTAMP(3),
    PRIMARY KEY (`time`, `kit_id`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${JDBC_URL}',
    'table-name' = '${PG_TABLE_SYSTEM_HEALTH}',
    'username' = '${PG_USER}',
    'password' = '${PG_PASSWORD}',
    'sink.buffer-flush.max-rows' = '${JDBC_BUFFER_ROWS}',
    'sink.buffer-flush.interval' = '${JDBC_FLUSH_MS}ms',
    'sink.max-retries' = '5'
);
