-- The PostgreSQL `features` table (aegis/db/migrations/003_features.sql) as a JDBC upsert sink on
-- (vehicle_id, window_end): a replay overwrites rows, never duplicates them. Window bounds are
-- TIMESTAMP(3) in UTC (the JDBC connector has no TIMESTAMP_LTZ); the columns are timestamptz.
CREATE TABLE IF NOT EXISTS features_pg (
    `vehicle_id` STRING NOT NULL,
    `window_end` TIMESTAMP(3) NOT NULL,
    `window_start` TIMESTAMP(3) NOT NULL,
    `schema_version` BIGINT,
    `vehicle_type` STRING,
    `fleet_id` STRING,
    `samples` BIGINT NOT NULL,
    `samples_short` BIGINT NOT NULL,
    `vib_rms_short_g` DOUBLE,
    `vib_rms_long_g` DOUBLE,
    `vib_kurtosis_long` DOUBLE,
    `motor_temp_mean_c` DOUBLE,
    `motor_temp_rate_c_min` DOUBLE,
    `battery_temp_mean_c` DOUBLE,
    `battery_temp_rate_c_min` DOUBLE,
    `bearing_temp_mean_c` DOUBLE,
    `bearing_temp_rate_c_min` DOUBLE,
    `power_kw_short` DOUBLE,
    `power_kw_baseline` DOUBLE,
    `power_dev_z` DOUBLE,
    `current_a_short` DOUBLE,
    `current_a_baseline` DOUBLE,
    `current_dev_z` DOUBLE,
    `battery_drain_pct_min` DOUBLE,
    `time_since_maintenance_s` DOUBLE,
    `cycles` BIGINT,
    `motor_rpm_cv` DOUBLE,
    `gps_hdop_mean` DOUBLE,
    `gps_jitter_m` DOUBLE,
    PRIMARY KEY (`vehicle_id`, `window_end`) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${JDBC_URL}',
    'table-name' = '${PG_TABLE_FEATURES}',
    'username' = '${PG_USER}',
    'password' = '${PG_PASSWORD}',
    'sink.buffer-flush.max-rows' = '${JDBC_BUFFER_ROWS}',
    'sink.buffer-flush.interval' = '${JDBC_FLUSH_MS}ms',
    'sink.max-retries' = '5'
);
