-- ----------------------------------------------------------------------------------------------
-- DragonSync storage: normalised rows -> PostgreSQL (JDBC upserts), rejects -> aegis.dragonsync.dlq
-- ----------------------------------------------------------------------------------------------
-- Where does every record a kit served end up?
-- Illustrates one statement set writing five sinks; the upserts on WarDragon Analytics' primary
-- keys make a replay after a restart harmless. drone_events is drones_unique with an event-time
-- attribute (registered by jobs/dragonsync.py); kafka_ts_ms is the Kafka timestamp (poll time).
-- Times go to the JDBC sinks as UTC TIMESTAMP(3) (the job runs with table.local-time-zone UTC).
-- ----------------------------------------------------------------------------------------------

INSERT INTO drones_pg
SELECT
    CAST(TO_TIMESTAMP_LTZ(`time`, 3) AS TIMESTAMP(3)) AS `time`, `kit_id`, `drone_id`, `track_type`,
    `lat`, `lon`, `alt`, `speed`, `heading`, `vspeed`, `height`, `direction`, `pilot_lat`,
    `pilot_lon`, `home_lat`, `home_lon`, `freq`, `op_status`, `id_type`, `mac`, `ua_type`,
    `operator_id`, `caa_id`, `rid_make`, `rid_model`, `rid_source`, `runtime`, `rssi`, `transport`,
    `description`, `ua_type_name`, `operator_id_type`, `height_type`, `ew_dir`, `rid_status`,
    `rid_tracking`, `freq_mhz`, `pressure_altitude`, `gps_accuracy`, `observed_at`,
    `rid_lookup_attempted`, `rid_lookup_success`, `flight`, `squawk`, `registration`, `category`,
    `on_ground`, `rssi_unit`, `seen_by`, CAST(TO_TIMESTAMP_LTZ(`poll_time`, 3) AS TIMESTAMP(3)) AS
    `poll_time`
FROM drone_events
WHERE reason IS NULL;

INSERT INTO signals_pg
SELECT
    CAST(TO_TIMESTAMP_LTZ(`time`, 3) AS TIMESTAMP(3)) AS `time`, `kit_id`, `freq_mhz`, `power_dbm`,
    `bandwidth_mhz`, `lat`, `lon`, `alt`, `pal_conf`, `ntsc_conf`, `detection_type`, `source`,
    `signal_type`, `uid`, `alert_id`, `callsign`, `description`, `rssi`, `radius_m`, `seen_by`,
    CAST(TO_TIMESTAMP_LTZ(`poll_time`, 3) AS TIMESTAMP(3)) AS `poll_time`
FROM signals_unique
WHERE reason IS NULL;

INSERT INTO system_health_pg
SELECT
    CAST(TO_TIMESTAMP_LTZ(`time`, 3) AS TIMESTAMP(3)) AS `time`, `kit_id`, `lat`, `lon`, `alt`,
    `temp_cpu`, `temp_gpu`, `pluto_temp`, `zynq_temp`, `speed`, `track`, `cpu_percent`,
    `memory_percent`, `disk_percent`, `uptime_hours`, `gps_fix`, `time_source`, `gpsd_time_utc`,
    `kit_updated_epoch`, `uid`, CAST(TO_TIMESTAMP_LTZ(`poll_time`, 3) AS TIMESTAMP(3)) AS
    `poll_time`
FROM health_unique
WHERE reason IS NULL;

INSERT INTO kits_pg
SELECT
    `kit_id`, `name`, `location`, `api_url`, CAST(TO_TIMESTAMP_LTZ(`last_seen`, 3) AS TIMESTAMP(3))
    AS `last_seen`, `status`, `enabled`, `source`, `uid`, `last_error`,
    CAST(TO_TIMESTAMP_LTZ(`updated_at`, 3) AS TIMESTAMP(3)) AS `updated_at`
FROM kits_parsed;

INSERT INTO dragonsync_dlq
SELECT CAST(1 AS BIGINT), reason, detail, kit_id, '${TOPIC_DRAGONSYNC_DRONES}',
    CAST(kafka_partition AS BIGINT), kafka_offset, kafka_ts_ms, bad_payload, payload_encoding,
    EXTRACT(EPOCH FROM CURRENT_ROW_TIMESTAMP()) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_ROW_TIMESTAMP())
FROM drone_events
WHERE reason IS NOT NULL
UNION ALL
SELECT CAST(1 AS BIGINT), reason, detail, kit_id, '${TOPIC_DRAGONSYNC_SIGNALS}',
    CAST(kafka_partition AS BIGINT), kafka_offset, kafka_ts_ms, bad_payload, payload_encoding,
    EXTRACT(EPOCH FROM CURRENT_ROW_TIMESTAMP()) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_ROW_TIMESTAMP())
FROM signals_unique
WHERE reason IS NOT NULL
UNION ALL
SELECT CAST(1 AS BIGINT), reason, detail, kit_id, '${TOPIC_DRAGONSYNC_STATUS}',
    CAST(kafka_partition AS BIGINT), kafka_offset, kafka_ts_ms, bad_payload, payload_encoding,
    EXTRACT(EPOCH FROM CURRENT_ROW_TIMESTAMP()) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_ROW_TIMESTAMP())
FROM health_unique
WHERE reason IS NOT NULL;
