-- ----------------------------------------------------------------------------------------------
-- Health: rule inputs, rule firings, battery view and fleet aggregates over the scored records
-- ----------------------------------------------------------------------------------------------
-- Which rule is each vehicle breaking, and how does each swarm fare? Illustrates SQL expressions
-- rendered from config (udfs/health_sql.py fills ${HEALTH_*}; the Python reference in
-- udfs/rules.py defines them and the unit tests hold both to the same numbers), LAG and RANGE
-- OVER windows in event time, and TUMBLE windows. Reads health_scored (sql/health/score.sql,
-- registered by jobs/health.py) with its event time `event_time`. Only the alert cooldown runs in
-- Python (jobs/health.py), and only on the rows where a rule fires.
-- ----------------------------------------------------------------------------------------------

-- the previous two samples of each vehicle, in event time (rows wait for the watermark here)
CREATE TEMPORARY VIEW health_previous AS
SELECT vehicle_id, fleet_id, swarm_id, ts, event_time, battery_percent, voltage_sag_v,
    lat, lon, speed_mps,
    LAG(ts, 1) OVER w AS prev_ts,
    LAG(ts, 2) OVER w AS prev2_ts,
    LAG(battery_percent, 1) OVER w AS prev_pct,
    LAG(battery_percent, 2) OVER w AS prev2_pct,
    LAG(lat, 1) OVER w AS prev_lat,
    LAG(lon, 1) OVER w AS prev_lon,
    LAG(speed_mps, 1) OVER w AS prev_speed
FROM health_scored
WINDOW w AS (PARTITION BY vehicle_id ORDER BY event_time);

-- smoothed charge, its drain rate over a short event-time window, and the GPS jump since the
-- last fix
CREATE TEMPORARY VIEW health_trend AS
SELECT s.*, ${HEALTH_DRAIN_RATE} AS drain_rate_pct_s
FROM (
    SELECT r.*,
        COUNT(level_smooth) OVER d AS drain_n,
        FIRST_VALUE(level_smooth) OVER d AS drain_first,
        LAST_VALUE(level_smooth) OVER d AS drain_last,
        FIRST_VALUE(level_ts) OVER d AS drain_first_ts,
        LAST_VALUE(level_ts) OVER d AS drain_last_ts
    FROM (
        SELECT p.*,
            ${HEALTH_LEVEL_SMOOTH} AS level_smooth,
            CASE WHEN battery_percent IS NOT NULL THEN ts END AS level_ts,
            ${HEALTH_GPS_DISTANCE} AS gps_distance_m,
            ${HEALTH_GPS_ALLOWED} AS gps_allowed_m
        FROM health_previous AS p
    ) AS r
    WINDOW d AS (PARTITION BY vehicle_id ORDER BY event_time
                 RANGE BETWEEN INTERVAL '${HEALTH_DRAIN_WINDOW_S}' SECOND PRECEDING AND CURRENT ROW)
) AS s;

-- every rule firing (at least a warning); per-record rules come straight from health_scored so
-- they wait for no watermark. The cooldown (jobs/health.py) turns these into alerts.
CREATE TEMPORARY VIEW health_rule_firings AS
SELECT vehicle_id, fleet_id, swarm_id, CAST('motor_imbalance' AS STRING) AS alert_type,
    ${HEALTH_MOTOR_IMBALANCE_SEVERITY} AS severity, motor_rpm_cv AS `value`,
    ${HEALTH_MOTOR_IMBALANCE_THRESHOLD} AS threshold, CAST(NULL AS STRING) AS detail, ts, event_time
FROM health_scored
WHERE ${HEALTH_MOTOR_IMBALANCE_FIRES}
UNION ALL
SELECT vehicle_id, fleet_id, swarm_id, CAST('overheating' AS STRING) AS alert_type,
    ${HEALTH_OVERHEATING_SEVERITY} AS severity, hottest_c AS `value`,
    ${HEALTH_OVERHEATING_THRESHOLD} AS threshold, hottest_sensor AS detail, ts, event_time
FROM health_scored
WHERE ${HEALTH_OVERHEATING_FIRES}
UNION ALL
SELECT vehicle_id, fleet_id, swarm_id, CAST('battery_drain' AS STRING) AS alert_type,
    ${HEALTH_BATTERY_DRAIN_SEVERITY} AS severity, drain_rate_pct_s AS `value`,
    ${HEALTH_BATTERY_DRAIN_THRESHOLD} AS threshold, CAST(NULL AS STRING) AS detail, ts, event_time
FROM health_trend
WHERE ${HEALTH_BATTERY_DRAIN_FIRES}
UNION ALL
SELECT vehicle_id, fleet_id, swarm_id, CAST('gps_drift' AS STRING) AS alert_type,
    ${HEALTH_GPS_DRIFT_SEVERITY} AS severity, gps_distance_m AS `value`,
    gps_allowed_m + ${HEALTH_GPS_DRIFT_THRESHOLD} AS threshold,
    CONCAT(CAST(ts - prev_ts AS STRING), ' ms') AS detail, ts, event_time
FROM health_trend
WHERE ${HEALTH_GPS_DRIFT_FIRES};

-- aegis.battery: per vehicle with a battery, its latest record in each window (window
-- deduplication: deterministic in streaming and batch, unlike LAST_VALUE in a batch GROUP BY)
CREATE TEMPORARY VIEW health_battery AS
SELECT vehicle_id, fleet_id, ts, battery_percent, drain_rate_pct_s, voltage_sag_v,
    ${HEALTH_REMAINING_FLIGHT} AS remaining_flight_s
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, vehicle_id
                                 ORDER BY event_time DESC) AS latest
    FROM TABLE(TUMBLE(TABLE health_trend, DESCRIPTOR(event_time), INTERVAL '${HEALTH_BATTERY_WINDOW_S}' SECOND))
) AS w
WHERE latest = 1 AND battery_percent IS NOT NULL;

-- aegis.aggregated: per fleet and swarm per window, from every scored record and every rule
-- firing; open_alerts counts, per alert type, the vehicles whose rule fired in the window
-- (whether or not the cooldown let an alert through)
CREATE TEMPORARY VIEW health_fleet_events AS
SELECT fleet_id, swarm_id, vehicle_id, ts, event_time, health_score, battery_percent,
    CAST(NULL AS STRING) AS alert_type
FROM health_scored
UNION ALL
SELECT fleet_id, swarm_id, vehicle_id, ts, event_time, CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), alert_type
FROM health_rule_firings;

CREATE TEMPORARY VIEW health_fleet AS
SELECT fleet_id, swarm_id,
    MIN(ts) - MOD(MIN(ts), ${HEALTH_AGGREGATE_WINDOW_MS}) AS window_start,
    MIN(ts) - MOD(MIN(ts), ${HEALTH_AGGREGATE_WINDOW_MS}) + ${HEALTH_AGGREGATE_WINDOW_MS} AS window_end,
    COUNT(DISTINCT CASE WHEN alert_type IS NULL THEN vehicle_id END) AS active_vehicles,
    AVG(health_score) AS mean_health,
    MIN(health_score) AS min_health,
    MIN(battery_percent) AS min_battery,
    ${HEALTH_OPEN_ALERTS} AS open_alerts
FROM TABLE(TUMBLE(TABLE health_fleet_events, DESCRIPTOR(event_time), INTERVAL '${HEALTH_AGGREGATE_WINDOW_S}' SECOND))
GROUP BY fleet_id, swarm_id, window_start, window_end;
