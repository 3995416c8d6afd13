-- Stored clean telemetry for the feature backfill: CSV files under ${TELEMETRY_FILES_PATH}, staged by
-- jobs/features.py from simulator Parquet or the `telemetry` table (no header; arrays as
-- `;`-separated elements; an empty unquoted field is NULL). Only the Telemetry columns that
-- sql/features.sql reads, named and typed as in telemetry_clean, with the same event time, so the
-- feature SQL runs on it unchanged in batch mode. CSV, not JSON: the batch job parses about twice
-- as fast, and this Flink line has no Parquet format jar on Maven Central.
CREATE TABLE IF NOT EXISTS telemetry_files (
    `vehicle_id` STRING NOT NULL,
    `vehicle_type` STRING,
    `fleet_id` STRING,
    `ts` BIGINT NOT NULL,
    `lat` DOUBLE,
    `lon` DOUBLE,
    `speed_mps` DOUBLE,
    `battery_percent` DOUBLE,
    `battery_voltage_v` DOUBLE,
    `battery_current_a` DOUBLE,
    `battery_temp_c` DOUBLE,
    `motor_rpm` ARRAY<DOUBLE>,
    `motor_temp_c` ARRAY<DOUBLE>,
    `vib_x_g` DOUBLE,
    `vib_y_g` DOUBLE,
    `vib_z_g` DOUBLE,
    `gps_hdop` DOUBLE,
    `last_maintenance_ts` BIGINT,
    `flight_cycles` BIGINT,
    `spindle_temp_c` DOUBLE,
    `bearing_temp_c` DOUBLE,
    `power_kw` DOUBLE,
    `cycle_count` BIGINT,
    `event_time` AS TO_TIMESTAMP_LTZ(`ts`, 3),
    WATERMARK FOR `event_time` AS `event_time` - INTERVAL '${WATERMARK_DELAY_S}' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '${TELEMETRY_FILES_PATH}',
    'format' = 'csv',
    'csv.null-literal' = '',
    'csv.array-element-delimiter' = ';',
    'csv.ignore-parse-errors' = 'false'
);
