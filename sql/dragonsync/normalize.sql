-- ----------------------------------------------------------------------------------------------
-- DragonSync normalisation: raw kit responses -> rows of drones, signals, system_health and kits
-- ----------------------------------------------------------------------------------------------
-- What did each kit observe, in one set of units, once per observation?
-- Illustrates one Python UDTF per target table around the pure normalisation
-- (connectors/dragonsync/normalize.py), then keep-first deduplication on (kit, track, the kit's
-- observation time): DragonSync's lists are snapshots, so an unchanged track comes back on every
-- poll and only its first copy goes on (state bounded by table.exec.state.ttl). Rejects carry a
-- reject_key unique to their Kafka record and item, so no reject is ever deduplicated away.
-- The views here are read by jobs/dragonsync.py, which turns drones_unique into the event-time
-- stream drone_events (watermarked on the kit's observation time) for store.sql and alerts.sql.
-- ----------------------------------------------------------------------------------------------

CREATE TEMPORARY VIEW drones_parsed AS
SELECT r.*, t.payload, t.kafka_partition, t.kafka_offset, t.proc_time,
    EXTRACT(EPOCH FROM t.kafka_ts) * 1000 + EXTRACT(MILLISECOND FROM t.kafka_ts) AS kafka_ts_ms,
    IF(r.reason IS NULL, CAST(NULL AS STRING),
       CONCAT(CAST(t.kafka_partition AS STRING), ':', CAST(t.kafka_offset AS STRING), ':',
              CAST(r.item_no AS STRING))) AS reject_key
FROM dragonsync_drones_raw AS t,
LATERAL TABLE(ds_normalize_drones(t.payload)) AS r(
    `time`, `kit_id`, `drone_id`, `track_type`, `lat`, `lon`, `alt`, `speed`, `heading`, `vspeed`,
    `height`, `direction`, `pilot_lat`, `pilot_lon`, `home_lat`, `home_lon`, `freq`, `op_status`,
    `id_type`, `mac`, `ua_type`, `operator_id`, `caa_id`, `rid_make`, `rid_model`, `rid_source`,
    `runtime`, `rssi`, `transport`, `description`, `ua_type_name`, `operator_id_type`,
    `height_type`, `ew_dir`, `rid_status`, `rid_tracking`, `freq_mhz`, `pressure_altitude`,
    `gps_accuracy`, `observed_at`, `rid_lookup_attempted`, `rid_lookup_success`, `flight`, `squawk`,
    `registration`, `category`, `on_ground`, `rssi_unit`, `seen_by`, `poll_time`, `item_no`,
    `reason`, `detail`, `bad_payload`, `payload_encoding`);

CREATE TEMPORARY VIEW drones_unique AS
SELECT * FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY kit_id, drone_id, `time`, reject_key
                                 ORDER BY proc_time ASC) AS copy_no
    FROM drones_parsed)
WHERE copy_no = 1;

CREATE TEMPORARY VIEW signals_parsed AS
SELECT r.*, t.payload, t.kafka_partition, t.kafka_offset, t.proc_time,
    EXTRACT(EPOCH FROM t.kafka_ts) * 1000 + EXTRACT(MILLISECOND FROM t.kafka_ts) AS kafka_ts_ms,
    IF(r.reason IS NULL, CAST(NULL AS STRING),
       CONCAT(CAST(t.kafka_partition AS STRING), ':', CAST(t.kafka_offset AS STRING), ':',
              CAST(r.item_no AS STRING))) AS reject_key
FROM dragonsync_signals_raw AS t,
LATERAL TABLE(ds_normalize_signals(t.payload)) AS r(
    `time`, `kit_id`, `freq_mhz`, `power_dbm`, `bandwidth_mhz`, `lat`, `lon`, `alt`, `pal_conf`,
    `ntsc_conf`, `detection_type`, `source`, `signal_type`, `uid`, `alert_id`, `callsign`,
    `description`, `rssi`, `radius_m`, `seen_by`, `poll_time`, `item_no`, `reason`, `detail`,
    `bad_payload`, `payload_encoding`);

CREATE TEMPORARY VIEW signals_unique AS
SELECT * FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY kit_id, freq_mhz, `time`, reject_key
                                 ORDER BY proc_time ASC) AS copy_no
    FROM signals_parsed)
WHERE copy_no = 1;

CREATE TEMPORARY VIEW health_parsed AS
SELECT r.*, t.payload, t.kafka_partition, t.kafka_offset, t.proc_time,
    EXTRACT(EPOCH FROM t.kafka_ts) * 1000 + EXTRACT(MILLISECOND FROM t.kafka_ts) AS kafka_ts_ms,
    IF(r.reason IS NULL, CAST(NULL AS STRING),
       CONCAT(CAST(t.kafka_partition AS STRING), ':', CAST(t.kafka_offset AS STRING), ':',
              CAST(r.item_no AS STRING))) AS reject_key
FROM dragonsync_status_raw AS t,
LATERAL TABLE(ds_normalize_status(t.payload)) AS r(
    `time`, `kit_id`, `lat`, `lon`, `alt`, `temp_cpu`, `temp_gpu`, `pluto_temp`, `zynq_temp`,
    `speed`, `track`, `cpu_percent`, `memory_percent`, `disk_percent`, `uptime_hours`, `gps_fix`,
    `time_source`, `gpsd_time_utc`, `kit_updated_epoch`, `uid`, `poll_time`, `item_no`, `reason`,
    `detail`, `bad_payload`, `payload_encoding`);

CREATE TEMPORARY VIEW health_unique AS
SELECT * FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY kit_id, `time`, reject_key
                                 ORDER BY proc_time ASC) AS copy_no
    FROM health_parsed)
WHERE copy_no = 1;

-- every status poll and state change restates the kit: the latest one wins in the upsert
CREATE TEMPORARY VIEW kits_parsed AS
SELECT r.*
FROM dragonsync_status_raw AS t,
LATERAL TABLE(ds_normalize_kits(t.payload)) AS r(
    `kit_id`, `name`, `location`, `api_url`, `last_seen`, `status`, `enabled`, `source`, `uid`,
    `last_error`, `updated_at`);
