-- ----------------------------------------------------------------------------------------------
-- Health: the job's outputs
-- ----------------------------------------------------------------------------------------------
-- Where does each result go? aegis.health and `health` (every scored record), aegis.alerts and
-- `alerts` (firings past the cooldown: health_alerts_emitted is registered by jobs/health.py),
-- aegis.battery and aegis.aggregated. Kafka sinks are exactly-once, JDBC sinks upserts.
-- ----------------------------------------------------------------------------------------------

INSERT INTO health_scores
SELECT CAST(1 AS BIGINT), vehicle_id, vehicle_type, fleet_id, swarm_id, ts, health_score, battery_score,
    motor_score, signal_score, thermal_score, battery_percent, alt_m, signal_dbm, motor_rpm_mean, motor_rpm_cv
FROM health_scored
WHERE health_score IS NOT NULL;

INSERT INTO health_pg
SELECT vehicle_id, CAST(TO_TIMESTAMP_LTZ(ts, 3) AS TIMESTAMP(3)), vehicle_type, fleet_id, swarm_id,
    health_score, battery_score, motor_score, signal_score, thermal_score, battery_percent, alt_m,
    signal_dbm, motor_rpm_mean, motor_rpm_cv
FROM health_scored
WHERE health_score IS NOT NULL;

INSERT INTO health_alerts
SELECT schema_version, alert_id, vehicle_id, fleet_id, alert_type, severity, `value`, threshold, ts,
    message, source
FROM health_alerts_emitted;

INSERT INTO alerts_pg
SELECT alert_id, CAST(TO_TIMESTAMP_LTZ(ts, 3) AS TIMESTAMP(3)), vehicle_id, fleet_id, alert_type, severity,
    `value`, threshold, message, source
FROM health_alerts_emitted;

INSERT INTO battery_status
SELECT CAST(1 AS BIGINT), vehicle_id, fleet_id, ts, battery_percent, drain_rate_pct_s, voltage_sag_v,
    remaining_flight_s
FROM health_battery;

INSERT INTO fleet_aggregated
SELECT CAST(1 AS BIGINT), fleet_id, swarm_id, window_start, window_end, active_vehicles, mean_health,
    min_health, min_battery, open_alerts
FROM health_fleet;
