-- ----------------------------------------------------------------------------------------------
-- Features: per-vehicle window features for predictive maintenance
-- ----------------------------------------------------------------------------------------------
-- What does each vehicle look like over the last 5 minutes and the last hour, every minute?
-- The same views run streaming (jobs/features.py: Kafka -> aegis.features, `features` table) and
-- in batch (the backfill over stored telemetry), so training and serving see identical features.
-- Only window TVF aggregations of SUM/COUNT/MAX and one LAG are used: no buffer of raw values, no
-- re-read of history, and results that do not depend on arrival order (up to floating-point
-- summation order).
--
--   features_samples       per-record scalars (vibration magnitude, motor means, RPM)
--   features_records       ... and the RPM coefficient of variation
--   features_gps_fixes     each record's GPS fix beside the vehicle's previous one (LAG in event time)
--   features_gps_residuals distance between consecutive fixes minus what the reported speed explains
--   features_slices        TUMBLE(${FEATURES_SLIDE_S} s): each record once into its slice's sums and counts
--   features_gps_slices    the same for the GPS residuals (their own stream: only the short window
--                          needs them, and the records' slices stay as narrow as before)
--   features_long          HOP(${FEATURES_LONG_S} s) every ${FEATURES_SLIDE_S} s over the slices: sums
--   features_short         HOP(${FEATURES_SHORT_S} s) every ${FEATURES_SLIDE_S} s over both kinds of slice: sums
--   (pre-aggregating slices keeps batch mode from copying every record into each of the
--   ${FEATURES_LONG_S} / ${FEATURES_SLIDE_S} windows that hold it; streaming slices the same way itself)
--   features_joined        both, one row per (vehicle, window end): a TUMBLE of the slide over their
--                          union (each contributes rows per window end), which stays append-only
--   features_rows          the features, window bounds in epoch ms
-- Every aggregation below the last keeps only sums, counts and numeric maxima, grouped by the
-- vehicle's identity (vehicle_id, vehicle_type, fleet_id): batch mode can then hash-aggregate them
-- (a string MAX would force a sort of every row). A vehicle whose type or fleet changes within a
-- window has one long-window row per identity; features_joined adds those parts up, so the sums
-- stay exact, and reports the greatest type and fleet, as before.
--
-- Definitions (L = long window, S = short window, sums over the records in the window):
--   vib magnitude m = sqrt(vib_x² + vib_y² + vib_z²); RMS = sqrt(Σm² / n)
--   kurtosis (Pearson, population moments, 3 for a normal) = m4 / m2² from Σm, Σm², Σm³, Σm⁴;
--     NULL below 4 samples or when the spread vanishes (m2 <= 1e-12 · Σm²/n: constant input)
--   *_rate_c_min = (mean over S - mean over L) / ((L - S) / 2 in minutes): exact for a linear trend
--     over a fully covered window (the two means sit at the centres of their windows)
--   battery_drain_pct_min = the same slope of battery_percent, negated (positive while draining)
--   power/current deviation z = (mean over S - mean over L) / population std over L; NULL when
--     the variance vanishes (<= 1e-12 · Σx²/n: constant input)
--   power = power_kw (machines), else battery_voltage_v · battery_current_a / 1000
--   time_since_maintenance_s = window end - latest last_maintenance_ts; cycles = max cycle counter
--   motor_rpm_cv = mean over L of each record's population std / mean of its motor RPMs (records
--     whose mean RPM >= ${FEATURES_MIN_MEAN_RPM}); gps_hdop_mean over S
--   gps_jitter_m = sqrt(Σr² / n) over S of the GPS residual r of each record whose fix (lat and lon)
--     and whose vehicle's previous record's fix are both set:
--     r = haversine(previous fix, fix) - (speed + previous speed) / 2 · Δt, with Δt the time since
--     the previous record, only where 0 < Δt <= ${FEATURES_GPS_MAX_GAP_MS} ms and a speed is
--     reported (one missing speed: the other alone). The residual belongs to the later record's time.
--     A record behind the watermark has no place in the ordered pairs: streaming leaves it out of
--     the residuals (the other features still count it unless its slice has closed). Of two records
--     with the same event time, the next one pairs with the one that arrived last (batch: either).
-- A window with no record of a vehicle emits no row; a short window without records leaves the
-- short-window features NULL and samples_short = 0.
-- ----------------------------------------------------------------------------------------------

CREATE TEMPORARY VIEW features_samples AS
SELECT vehicle_id, vehicle_type, fleet_id, event_time,
    vib_x_g * vib_x_g + vib_y_g * vib_y_g + vib_z_g * vib_z_g AS vib_sq,
    SQRT(vib_x_g * vib_x_g + vib_y_g * vib_y_g + vib_z_g * vib_z_g) AS vib_mag,
    COALESCE(
        IF(CARDINALITY(motor_temp_c) > 0,
           (IF(CARDINALITY(motor_temp_c) >= 1, motor_temp_c[1], 0.0) + IF(CARDINALITY(motor_temp_c) >= 2, motor_temp_c[2], 0.0)
            + IF(CARDINALITY(motor_temp_c) >= 3, motor_temp_c[3], 0.0) + IF(CARDINALITY(motor_temp_c) >= 4, motor_temp_c[4], 0.0)
            + IF(CARDINALITY(motor_temp_c) >= 5, motor_temp_c[5], 0.0) + IF(CARDINALITY(motor_temp_c) >= 6, motor_temp_c[6], 0.0)
            + IF(CARDINALITY(motor_temp_c) >= 7, motor_temp_c[7], 0.0) + IF(CARDINALITY(motor_temp_c) >= 8, motor_temp_c[8], 0.0)) / CARDINALITY(motor_temp_c),
           CAST(NULL AS DOUBLE)),
        spindle_temp_c) AS motor_temp_c,
    battery_temp_c, bearing_temp_c, battery_percent, battery_current_a, gps_hdop,
    COALESCE(power_kw, battery_voltage_v * battery_current_a / 1000.0) AS power_kw,
    CAST(COALESCE(cycle_count, flight_cycles) AS BIGINT) AS cycles,
    last_maintenance_ts,
    IF(CARDINALITY(motor_rpm) > 0,
       (IF(CARDINALITY(motor_rpm) >= 1, motor_rpm[1], 0.0) + IF(CARDINALITY(motor_rpm) >= 2, motor_rpm[2], 0.0)
            + IF(CARDINALITY(motor_rpm) >= 3, motor_rpm[3], 0.0) + IF(CARDINALITY(motor_rpm) >= 4, motor_rpm[4], 0.0)
            + IF(CARDINALITY(motor_rpm) >= 5, motor_rpm[5], 0.0) + IF(CARDINALITY(motor_rpm) >= 6, motor_rpm[6], 0.0)
            + IF(CARDINALITY(motor_rpm) >= 7, motor_rpm[7], 0.0) + IF(CARDINALITY(motor_rpm) >= 8, motor_rpm[8], 0.0)) / CARDINALITY(motor_rpm),
       CAST(NULL AS DOUBLE)) AS rpm_mean,
    IF(CARDINALITY(motor_rpm) > 0,
       (IF(CARDINALITY(motor_rpm) >= 1, motor_rpm[1] * motor_rpm[1], 0.0) + IF(CARDINALITY(motor_rpm) >= 2, motor_rpm[2] * motor_rpm[2], 0.0)
            + IF(CARDINALITY(motor_rpm) >= 3, motor_rpm[3] * motor_rpm[3], 0.0) + IF(CARDINALITY(motor_rpm) >= 4, motor_rpm[4] * motor_rpm[4], 0.0)
            + IF(CARDINALITY(motor_rpm) >= 5, motor_rpm[5] * motor_rpm[5], 0.0) + IF(CARDINALITY(motor_rpm) >= 6, motor_rpm[6] * motor_rpm[6], 0.0)
            + IF(CARDINALITY(motor_rpm) >= 7, motor_rpm[7] * motor_rpm[7], 0.0) + IF(CARDINALITY(motor_rpm) >= 8, motor_rpm[8] * motor_rpm[8], 0.0)) / CARDINALITY(motor_rpm),
       CAST(NULL AS DOUBLE)) AS rpm_sq_mean
FROM ${FEATURES_SOURCE};


-- no filter on the fixes before the LAG: a filter here would be pushed into the batch file scan,
-- which then could not be shared with features_samples' scan (the CSV would be parsed twice)
CREATE TEMPORARY VIEW features_gps_fixes AS
SELECT vehicle_id, event_time, ts, lat, lon, speed_mps,
    LAG(ts) OVER w AS prev_ts, LAG(lat) OVER w AS prev_lat, LAG(lon) OVER w AS prev_lon,
    LAG(speed_mps) OVER w AS prev_speed
FROM ${FEATURES_SOURCE}
WINDOW w AS (PARTITION BY vehicle_id ORDER BY event_time);

CREATE TEMPORARY VIEW features_gps_residuals AS
SELECT vehicle_id, event_time,
    2 * ${EARTH_RADIUS_M} * ASIN(SQRT(LEAST(1.0E0,
        POWER(SIN(RADIANS(lat - prev_lat) / 2), 2)
        + COS(RADIANS(prev_lat)) * COS(RADIANS(lat)) * POWER(SIN(RADIANS(lon - prev_lon) / 2), 2))))
    - (COALESCE(speed_mps, prev_speed) + COALESCE(prev_speed, speed_mps)) / 2 * ((ts - prev_ts) / 1.0E3)
        AS gps_residual_m
FROM features_gps_fixes
WHERE lat IS NOT NULL AND lon IS NOT NULL AND prev_lat IS NOT NULL AND prev_lon IS NOT NULL
  AND ts - prev_ts > 0 AND ts - prev_ts <= ${FEATURES_GPS_MAX_GAP_MS}
  AND COALESCE(speed_mps, prev_speed) IS NOT NULL;

CREATE TEMPORARY VIEW features_records AS
SELECT vehicle_id, vehicle_type, fleet_id, event_time,
    vib_sq, vib_mag, motor_temp_c, battery_temp_c, bearing_temp_c, battery_percent, battery_current_a,
    gps_hdop, power_kw, cycles, last_maintenance_ts,
    IF(rpm_mean >= ${FEATURES_MIN_MEAN_RPM},
       SQRT(GREATEST(rpm_sq_mean - rpm_mean * rpm_mean, 0.0)) / rpm_mean,
       CAST(NULL AS DOUBLE)) AS rpm_cv
FROM features_samples;

CREATE TEMPORARY VIEW features_slices AS
SELECT vehicle_id, vehicle_type, fleet_id, window_time AS slice_time,
    COUNT(*) AS n,
    COUNT(vib_mag) AS vib_n, SUM(vib_sq) AS vib_s2, SUM(vib_mag) AS vib_m1,
    SUM(vib_mag * vib_mag * vib_mag) AS vib_m3, SUM(vib_sq * vib_sq) AS vib_m4,
    SUM(motor_temp_c) AS motor_temp_s, COUNT(motor_temp_c) AS motor_temp_n,
    SUM(battery_temp_c) AS battery_temp_s, COUNT(battery_temp_c) AS battery_temp_n,
    SUM(bearing_temp_c) AS bearing_temp_s, COUNT(bearing_temp_c) AS bearing_temp_n,
    SUM(battery_percent) AS battery_pct_s, COUNT(battery_percent) AS battery_pct_n,
    COUNT(power_kw) AS power_n, SUM(power_kw) AS power_s1, SUM(power_kw * power_kw) AS power_s2,
    COUNT(battery_current_a) AS current_n, SUM(battery_current_a) AS current_s1,
    SUM(battery_current_a * battery_current_a) AS current_s2,
    SUM(gps_hdop) AS hdop_s, COUNT(gps_hdop) AS hdop_n,
    MAX(last_maintenance_ts) AS last_maintenance_ts, MAX(cycles) AS cycles,
    SUM(rpm_cv) AS rpm_cv_s, COUNT(rpm_cv) AS rpm_cv_n
FROM TABLE(TUMBLE(TABLE features_records, DESCRIPTOR(event_time), INTERVAL '${FEATURES_SLIDE_S}' SECOND(9)))
GROUP BY vehicle_id, vehicle_type, fleet_id, window_start, window_end, window_time;

CREATE TEMPORARY VIEW features_gps_slices AS
SELECT vehicle_id, window_time AS slice_time,
    COUNT(*) AS gps_n, SUM(gps_residual_m * gps_residual_m) AS gps_r2
FROM TABLE(TUMBLE(TABLE features_gps_residuals, DESCRIPTOR(event_time), INTERVAL '${FEATURES_SLIDE_S}' SECOND(9)))
GROUP BY vehicle_id, window_start, window_end, window_time;

-- the short window's inputs: the record slices and the GPS residual slices, one stream
CREATE TEMPORARY VIEW features_short_slices AS
SELECT vehicle_id, slice_time, n, vib_n, vib_s2, motor_temp_s, motor_temp_n, battery_temp_s, battery_temp_n,
    bearing_temp_s, bearing_temp_n, battery_pct_s, battery_pct_n, power_s1, power_n, current_s1, current_n,
    hdop_s, hdop_n, CAST(NULL AS BIGINT) AS gps_n, CAST(NULL AS DOUBLE) AS gps_r2
FROM features_slices
UNION ALL
SELECT vehicle_id, slice_time, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
    CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT),
    CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT),
    CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT),
    CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), gps_n, gps_r2
FROM features_gps_slices;

CREATE TEMPORARY VIEW features_long AS
SELECT vehicle_id, vehicle_type, fleet_id, window_start, window_end, window_time,
    SUM(n) AS n,
    SUM(vib_n) AS vib_n, SUM(vib_s2) AS vib_s2, SUM(vib_m1) AS vib_m1, SUM(vib_m3) AS vib_m3,
    SUM(vib_m4) AS vib_m4,
    SUM(motor_temp_s) AS motor_temp_s, SUM(motor_temp_n) AS motor_temp_n,
    SUM(battery_temp_s) AS battery_temp_s, SUM(battery_temp_n) AS battery_temp_n,
    SUM(bearing_temp_s) AS bearing_temp_s, SUM(bearing_temp_n) AS bearing_temp_n,
    SUM(battery_pct_s) AS battery_pct_s, SUM(battery_pct_n) AS battery_pct_n,
    SUM(power_n) AS power_n, SUM(power_s1) AS power_s1, SUM(power_s2) AS power_s2,
    SUM(current_n) AS current_n, SUM(current_s1) AS current_s1, SUM(current_s2) AS current_s2,
    MAX(last_maintenance_ts) AS last_maintenance_ts, MAX(cycles) AS cycles,
    SUM(rpm_cv_s) AS rpm_cv_s, SUM(rpm_cv_n) AS rpm_cv_n
FROM TABLE(HOP(TABLE features_slices, DESCRIPTOR(slice_time),
               INTERVAL '${FEATURES_SLIDE_S}' SECOND(9), INTERVAL '${FEATURES_LONG_S}' SECOND(9)))
GROUP BY vehicle_id, vehicle_type, fleet_id, window_start, window_end, window_time;

CREATE TEMPORARY VIEW features_short AS
SELECT vehicle_id, window_start, window_end, window_time,
    SUM(n) AS n,
    SUM(vib_n) AS vib_n, SUM(vib_s2) AS vib_s2,
    SUM(motor_temp_s) AS motor_temp_s, SUM(motor_temp_n) AS motor_temp_n,
    SUM(battery_temp_s) AS battery_temp_s, SUM(battery_temp_n) AS battery_temp_n,
    SUM(bearing_temp_s) AS bearing_temp_s, SUM(bearing_temp_n) AS bearing_temp_n,
    SUM(battery_pct_s) AS battery_pct_s, SUM(battery_pct_n) AS battery_pct_n,
    SUM(power_s1) AS power_s1, SUM(power_n) AS power_n, SUM(current_s1) AS current_s1,
    SUM(current_n) AS current_n, SUM(hdop_s) AS hdop_s, SUM(hdop_n) AS hdop_n,
    SUM(gps_n) AS gps_n, SUM(gps_r2) AS gps_r2
FROM TABLE(HOP(TABLE features_short_slices, DESCRIPTOR(slice_time),
               INTERVAL '${FEATURES_SLIDE_S}' SECOND(9), INTERVAL '${FEATURES_SHORT_S}' SECOND(9)))
GROUP BY vehicle_id, window_start, window_end, window_time;

CREATE TEMPORARY VIEW features_union AS
SELECT
    vehicle_id, window_time AS row_time, window_start AS long_start, vehicle_type, fleet_id, n,
    vib_n, vib_s2, vib_m1, vib_m3, vib_m4, motor_temp_s, motor_temp_n, battery_temp_s,
    battery_temp_n, bearing_temp_s, bearing_temp_n, battery_pct_s, battery_pct_n, power_n,
    power_s1, power_s2, current_n, current_s1, current_s2, last_maintenance_ts, cycles, rpm_cv_s,
    rpm_cv_n, CAST(NULL AS BIGINT) AS s_n, CAST(NULL AS BIGINT) AS s_vib_n,
    CAST(NULL AS DOUBLE) AS s_vib_s2, CAST(NULL AS DOUBLE) AS s_motor_temp_s,
    CAST(NULL AS BIGINT) AS s_motor_temp_n, CAST(NULL AS DOUBLE) AS s_battery_temp_s,
    CAST(NULL AS BIGINT) AS s_battery_temp_n, CAST(NULL AS DOUBLE) AS s_bearing_temp_s,
    CAST(NULL AS BIGINT) AS s_bearing_temp_n, CAST(NULL AS DOUBLE) AS s_battery_pct_s,
    CAST(NULL AS BIGINT) AS s_battery_pct_n, CAST(NULL AS DOUBLE) AS s_power_s1,
    CAST(NULL AS BIGINT) AS s_power_n, CAST(NULL AS DOUBLE) AS s_current_s1,
    CAST(NULL AS BIGINT) AS s_current_n, CAST(NULL AS DOUBLE) AS s_hdop_s,
    CAST(NULL AS BIGINT) AS s_hdop_n, CAST(NULL AS BIGINT) AS s_gps_n,
    CAST(NULL AS DOUBLE) AS s_gps_r2
FROM features_long
UNION ALL
SELECT
    vehicle_id, window_time AS row_time, CAST(NULL AS TIMESTAMP(3)), CAST(NULL AS STRING),
    CAST(NULL AS STRING), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
    CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE),
    CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
    CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT),
    CAST(NULL AS DOUBLE), CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
    CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS DOUBLE),
    CAST(NULL AS BIGINT), n, vib_n, vib_s2, motor_temp_s, motor_temp_n, battery_temp_s,
    battery_temp_n, bearing_temp_s, bearing_temp_n, battery_pct_s, battery_pct_n, power_s1,
    power_n, current_s1, current_n, hdop_s, hdop_n, gps_n, gps_r2
FROM features_short;

CREATE TEMPORARY VIEW features_joined AS
SELECT vehicle_id, window_end,
    MAX(long_start) AS long_start, MAX(vehicle_type) AS vehicle_type, MAX(fleet_id) AS fleet_id,
    SUM(n) AS n, SUM(vib_n) AS vib_n, SUM(vib_s2) AS vib_s2, SUM(vib_m1) AS vib_m1,
    SUM(vib_m3) AS vib_m3, SUM(vib_m4) AS vib_m4, SUM(motor_temp_s) AS motor_temp_s,
    SUM(motor_temp_n) AS motor_temp_n, SUM(battery_temp_s) AS battery_temp_s,
    SUM(battery_temp_n) AS battery_temp_n, SUM(bearing_temp_s) AS bearing_temp_s,
    SUM(bearing_temp_n) AS bearing_temp_n, SUM(battery_pct_s) AS battery_pct_s,
    SUM(battery_pct_n) AS battery_pct_n, SUM(power_n) AS power_n, SUM(power_s1) AS power_s1,
    SUM(power_s2) AS power_s2, SUM(current_n) AS current_n, SUM(current_s1) AS current_s1,
    SUM(current_s2) AS current_s2, MAX(last_maintenance_ts) AS last_maintenance_ts,
    MAX(cycles) AS cycles, SUM(rpm_cv_s) AS rpm_cv_s, SUM(rpm_cv_n) AS rpm_cv_n,
    COALESCE(SUM(s_n), 0) AS s_n, SUM(s_vib_n) AS s_vib_n, SUM(s_vib_s2) AS s_vib_s2,
    SUM(s_motor_temp_s) AS s_motor_temp_s, SUM(s_motor_temp_n) AS s_motor_temp_n,
    SUM(s_battery_temp_s) AS s_battery_temp_s, SUM(s_battery_temp_n) AS s_battery_temp_n,
    SUM(s_bearing_temp_s) AS s_bearing_temp_s, SUM(s_bearing_temp_n) AS s_bearing_temp_n,
    SUM(s_battery_pct_s) AS s_battery_pct_s, SUM(s_battery_pct_n) AS s_battery_pct_n,
    SUM(s_power_s1) AS s_power_s1, SUM(s_power_n) AS s_power_n, SUM(s_current_s1) AS s_current_s1,
    SUM(s_current_n) AS s_current_n, SUM(s_hdop_s) AS s_hdop_s, SUM(s_hdop_n) AS s_hdop_n,
    SUM(s_gps_n) AS s_gps_n, SUM(s_gps_r2) AS s_gps_r2
FROM TABLE(TUMBLE(TABLE features_union, DESCRIPTOR(row_time), INTERVAL '${FEATURES_SLIDE_S}' SECOND(9)))
GROUP BY vehicle_id, window_start, window_end;

CREATE TEMPORARY VIEW features_moments AS
SELECT *,
    EXTRACT(EPOCH FROM window_end) * 1000 AS window_end_ms,
    EXTRACT(EPOCH FROM long_start) * 1000 AS window_start_ms,
    vib_m1 / vib_n AS vib_mean,
    vib_s2 / vib_n - (vib_m1 / vib_n) * (vib_m1 / vib_n) AS vib_var,
    motor_temp_s / motor_temp_n AS motor_temp, battery_temp_s / battery_temp_n AS battery_temp,
    bearing_temp_s / bearing_temp_n AS bearing_temp, battery_pct_s / battery_pct_n AS battery_pct,
    s_motor_temp_s / s_motor_temp_n AS s_motor_temp, s_battery_temp_s / s_battery_temp_n AS s_battery_temp,
    s_bearing_temp_s / s_bearing_temp_n AS s_bearing_temp, s_battery_pct_s / s_battery_pct_n AS s_battery_pct,
    s_power_s1 / s_power_n AS s_power_kw, s_current_s1 / s_current_n AS s_current_a,
    power_s2 / power_n - (power_s1 / power_n) * (power_s1 / power_n) AS power_var,
    current_s2 / current_n - (current_s1 / current_n) * (current_s1 / current_n) AS current_var,
    (${FEATURES_LONG_S} - ${FEATURES_SHORT_S}) / 120.0 AS centre_gap_min
FROM features_joined;

CREATE TEMPORARY VIEW features_rows AS
SELECT
    CAST(1 AS BIGINT) AS schema_version, vehicle_id, vehicle_type, fleet_id,
    CAST(window_start_ms AS BIGINT) AS window_start, CAST(window_end_ms AS BIGINT) AS window_end,
    n AS samples, s_n AS samples_short,
    SQRT(s_vib_s2 / s_vib_n) AS vib_rms_short_g,
    SQRT(vib_s2 / vib_n) AS vib_rms_long_g,
    IF(vib_n >= 4 AND vib_var > 1e-12 * vib_s2 / vib_n,
       ((vib_m4 - 4 * vib_mean * vib_m3 + 6 * vib_mean * vib_mean * vib_s2) / vib_n
        - 3 * vib_mean * vib_mean * vib_mean * vib_mean) / (vib_var * vib_var),
       CAST(NULL AS DOUBLE)) AS vib_kurtosis_long,
    motor_temp AS motor_temp_mean_c,
    (s_motor_temp - motor_temp) / centre_gap_min AS motor_temp_rate_c_min,
    battery_temp AS battery_temp_mean_c,
    (s_battery_temp - battery_temp) / centre_gap_min AS battery_temp_rate_c_min,
    bearing_temp AS bearing_temp_mean_c,
    (s_bearing_temp - bearing_temp) / centre_gap_min AS bearing_temp_rate_c_min,
    s_power_kw AS power_kw_short,
    power_s1 / power_n AS power_kw_baseline,
    IF(power_var > 1e-12 * power_s2 / power_n, (s_power_kw - power_s1 / power_n) / SQRT(power_var), CAST(NULL AS DOUBLE)) AS power_dev_z,
    s_current_a AS current_a_short,
    current_s1 / current_n AS current_a_baseline,
    IF(current_var > 1e-12 * current_s2 / current_n, (s_current_a - current_s1 / current_n) / SQRT(current_var),
       CAST(NULL AS DOUBLE)) AS current_dev_z,
    (battery_pct - s_battery_pct) / centre_gap_min AS battery_drain_pct_min,
    CAST(window_end_ms - last_maintenance_ts AS DOUBLE) / 1000.0 AS time_since_maintenance_s,
    cycles,
    rpm_cv_s / rpm_cv_n AS motor_rpm_cv,
    s_hdop_s / s_hdop_n AS gps_hdop_mean,
    SQRT(s_gps_r2 / s_gps_n) AS gps_jitter_m
FROM features_moments;
