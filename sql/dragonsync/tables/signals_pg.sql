-- The `signals` table: FPV / SiK RF detections, one row per (time, kit_id, freq_mhz).
-- JDBC upsert on the primary key: a replay or a re-polled observation overwrites, never duplicates.
-- Times are TIMESTAMP(3) in UTC (the JDBC connector has no TIMESTAMP_LTZ); the columns are timestamptz.
CREATE TABLE IF NOT EXISTS signals_pg (
    `time` TIMESTAMP(3) NOT NULL,
    `kit_id` STRING NOT NULL,
    `freq_mhz` DOUBLE NOT NULL,
    `power_dbm` DOUBLE,
    `bandwidth_mhz` DOUBLE,
    `lat` DOUBLE,
    `lon` DOUBLE,
    `alt` DOUBLE,
    `pal_conf` DOUBLE,
    `ntsc_conf` DOUBLE,
    `detection_type` STRING,
    `source` STRING,
    `signal_type` STRING,
    `uid` STRING,
    `alert_id` STRING,
    `callsign` STRING,
    `description` STRING,
    `rssi` DOUBLE,
    `radius_m` DOUBLE,
    `seen_by` STRING,
    `poll_time` TIMESTAMP(3),
    PRIMARY KEY (`time`, `kit_id`, `freq_mhz`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${JDBC_URL}',
    'table-name' = '${PG_TABLE_SIGNALS}',
    'username' = '${PG_USER}',
    'password' = '${PG_PASSWORD}',
    'sink.buffer-flush.max-rows' = '${JDBC_BUFFER_ROWS}',
    'sink.buffer-flush.interval' = '${JDBC_FLUSH_MS}ms',
    'sink.max-retries' = '5'
);
