-- ----------------------------------------------------------------------------------------------
-- Ingest: raw telemetry -> validated, de-duplicated telemetry, and a dead-letter topic
-- ----------------------------------------------------------------------------------------------
-- Which records can the analytics trust, and what happened to the others?
-- Illustrates one Python UDTF for the parse (Flink 2.2 has no fast JSON-to-row function), then SQL:
-- a proctime OVER count per (vehicle_id, seq, ts) to find duplicates (state bounded by
-- table.exec.state.ttl), one statement set writing three sinks from one Kafka read.
-- Kafka keeps each vehicle's records in one partition, so "first copy wins" is deterministic.
-- ts is part of the key because a vehicle that reboots starts its seq again: that is new data,
-- while a re-sent record repeats its seq and its event time.
-- ----------------------------------------------------------------------------------------------

CREATE TEMPORARY VIEW telemetry_parsed AS
SELECT r.*, t.payload, t.kafka_partition, t.kafka_offset, t.proc_time,
    EXTRACT(EPOCH FROM t.kafka_ts) * 1000 + EXTRACT(MILLISECOND FROM t.kafka_ts) AS kafka_ts_ms
FROM telemetry_raw AS t,
LATERAL TABLE(parse_telemetry(t.payload)) AS r(
    schema_version, vehicle_id, vehicle_type, fleet_id, swarm_id, firmware, ts, seq, lat, lon,
    alt_m, speed_mps, heading_deg, vx, vy, vz, battery_percent, battery_voltage_v,
    battery_current_a, battery_temp_c, cell_voltages, motor_rpm, motor_temp_c, motor_current_a,
    vib_x_g, vib_y_g, vib_z_g, gps_hdop, gps_sats, signal_dbm, link_quality, packet_loss,
    cpu_temp_c, ambient_temp_c, wind_mps, flight_mode, armed, mission_id, last_maintenance_ts,
    flight_cycles, spindle_rpm, spindle_temp_c, bearing_temp_c, power_kw, load_pct, cycle_count,
    reason, detail, payload_b64);

CREATE TEMPORARY VIEW telemetry_checked AS
SELECT *,
    COUNT(*) OVER (PARTITION BY vehicle_id, seq, ts ORDER BY proc_time
                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS copies
FROM telemetry_parsed
WHERE reason IS NULL;

INSERT INTO telemetry_clean
SELECT
    `schema_version`, `vehicle_id`, `vehicle_type`, `fleet_id`, `swarm_id`, `firmware`, `ts`, `seq`,
    `lat`, `lon`, `alt_m`, `speed_mps`, `heading_deg`, `vx`, `vy`, `vz`, `battery_percent`,
    `battery_voltage_v`, `battery_current_a`, `battery_temp_c`, `cell_voltages`, `motor_rpm`,
    `motor_temp_c`, `motor_current_a`, `vib_x_g`, `vib_y_g`, `vib_z_g`, `gps_hdop`, `gps_sats`,
    `signal_dbm`, `link_quality`, `packet_loss`, `cpu_temp_c`, `ambient_temp_c`, `wind_mps`,
    `flight_mode`, `armed`, `mission_id`, `last_maintenance_ts`, `flight_cycles`, `spindle_rpm`,
    `spindle_temp_c`, `bearing_temp_c`, `power_kw`, `load_pct`, `cycle_count`
FROM telemetry_checked
WHERE copies = 1;

INSERT INTO telemetry_pg
SELECT
    `schema_version`, `vehicle_id`, `vehicle_type`, `fleet_id`, `swarm_id`, `firmware`,
    CAST(TO_TIMESTAMP_LTZ(`ts`, 3) AS TIMESTAMP(3)) AS `ts`, `seq`,
    `lat`, `lon`, `alt_m`, `speed_mps`, `heading_deg`, `vx`, `vy`, `vz`,
    `battery_percent`, `battery_voltage_v`, `battery_current_a`, `battery_temp_c`,
    REPLACE(REPLACE(CAST(`cell_voltages` AS STRING), '[', '{'), ']', '}') AS `cell_voltages`,
    REPLACE(REPLACE(CAST(`motor_rpm` AS STRING), '[', '{'), ']', '}') AS `motor_rpm`,
    REPLACE(REPLACE(CAST(`motor_temp_c` AS STRING), '[', '{'), ']', '}') AS `motor_temp_c`,
    REPLACE(REPLACE(CAST(`motor_current_a` AS STRING), '[', '{'), ']', '}') AS `motor_current_a`,
    `vib_x_g`, `vib_y_g`, `vib_z_g`, `gps_hdop`, `gps_sats`, `signal_dbm`, `link_quality`, `packet_loss`,
    `cpu_temp_c`, `ambient_temp_c`, `wind_mps`, `flight_mode`, `armed`, `mission_id`,
    `last_maintenance_ts`, `flight_cycles`, `spindle_rpm`, `spindle_temp_c`, `bearing_temp_c`,
    `power_kw`, `load_pct`, `cycle_count`
FROM telemetry_checked
WHERE copies = 1;

INSERT INTO telemetry_dlq
SELECT CAST(1 AS BIGINT), reason, detail, vehicle_id, '${TOPIC_TELEMETRY}',
    CAST(kafka_partition AS BIGINT), kafka_offset, kafka_ts_ms,
    COALESCE(payload_b64, CAST(payload AS STRING)),
    IF(payload_b64 IS NULL, 'utf8', 'base64'),
    EXTRACT(EPOCH FROM CURRENT_ROW_TIMESTAMP()) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_ROW_TIMESTAMP())
FROM telemetry_parsed
WHERE reason IS NOT NULL
UNION ALL
SELECT CAST(1 AS BIGINT), 'duplicate_seq',
    CONCAT('(vehicle_id, seq) = (', vehicle_id, ', ', CAST(seq AS STRING), ') already seen'),
    vehicle_id, '${TOPIC_TELEMETRY}', CAST(kafka_partition AS BIGINT), kafka_offset, kafka_ts_ms,
    CAST(payload AS STRING), 'utf8',
    EXTRACT(EPOCH FROM CURRENT_ROW_TIMESTAMP()) * 1000 + EXTRACT(MILLISECOND FROM CURRENT_ROW_TIMESTAMP())
FROM telemetry_checked
WHERE copies > 1;
