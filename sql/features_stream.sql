-- ----------------------------------------------------------------------------------------------
-- Features, streaming sinks: sql/features.sql's rows to aegis.features and the `features` table,
-- and records too late for their windows to aegis.features.dlq
-- ----------------------------------------------------------------------------------------------
-- A window aggregation skips a record whose slice (the slide interval holding its event time) has
-- already fired: the windows ending at that slice were emitted without it (later windows still
-- count it). Such a record is late by more than the watermark allows; it is dead-lettered here
-- (reason late_record) so it is counted, never silently lost. The filter below sees the watermark
-- the window operator sees when both run in one chain (parallelism 1); with several source subtasks
-- the window operator's watermark can lag, so the DLQ may also list a record a window still counted.
-- ----------------------------------------------------------------------------------------------

INSERT INTO features
SELECT * FROM features_rows;

INSERT INTO features_pg
SELECT vehicle_id,
    CAST(TO_TIMESTAMP_LTZ(window_end, 3) AS TIMESTAMP(3)),
    CAST(TO_TIMESTAMP_LTZ(window_start, 3) AS TIMESTAMP(3)),
    schema_version, vehicle_type, fleet_id, samples, samples_short, vib_rms_short_g, vib_rms_long_g,
    vib_kurtosis_long, motor_temp_mean_c, motor_temp_rate_c_min, battery_temp_mean_c,
    battery_temp_rate_c_min, bearing_temp_mean_c, bearing_temp_rate_c_min, power_kw_short,
    power_kw_baseline, power_dev_z, current_a_short, current_a_baseline, current_dev_z,
    battery_drain_pct_min, time_since_maintenance_s, cycles, motor_rpm_cv, gps_hdop_mean, gps_jitter_m
FROM features_rows;

INSERT INTO features_dlq
SELECT CAST(1 AS BIGINT), 'late_record',
    CONCAT('event time ', CAST(event_time AS STRING), ' is behind the watermark ',
           CAST(CURRENT_WATERMARK(event_time) AS STRING), ': its ${FEATURES_SLIDE_S} s slice had closed'),
    vehicle_id, '${TOPIC_TELEMETRY_CLEAN}', CAST(kafka_partition AS BIGINT), kafka_offset,
    EXTRACT(EPOCH FROM kafka_ts) * 1000 + EXTRACT(MILLISECOND FROM kafka_ts),
    JSON_OBJECT('vehicle_id' VALUE vehicle_id, 'ts' VALUE ts, 'seq' VALUE seq), 'utf8',
    EXTRACT(EPOCH FROM CURRENT_ROW_TIMESTAMP()) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_ROW_TIMESTAMP())
FROM features_source
WHERE CURRENT_WATERMARK(event_time) IS NOT NULL
  AND TO_TIMESTAMP_LTZ(ts - MOD(ts, ${FEATURES_SLIDE_S} * 1000) + ${FEATURES_SLIDE_S} * 1000 - 1, 3)
      <= CURRENT_WATERMARK(event_time);
