-- ----------------------------------------------------------------------------------------------
-- Health: the score of every clean telemetry record
-- ----------------------------------------------------------------------------------------------
-- How healthy is each vehicle, component by component? Illustrates SQL expressions rendered from
-- config (udfs/health_sql.py fills ${HEALTH_*}; the Python reference udfs/health.py defines them
-- and tests/unit/test_health_sql.py holds both to the same numbers). Reads ${HEALTH_SOURCE}:
-- the clean topic (telemetry_clean, sql/tables/telemetry_clean.sql: event time `event_time` on
-- `ts`), or ingest's de-duplicated view when both run in one job (jobs/pipeline.py).
-- jobs/health.py passes this view through a DataStream once and registers the result as
-- health_scored, which sql/health/views.sql reads: Flink inlines a view into every query that
-- uses it, so without that step each output would compute the score again.
-- ----------------------------------------------------------------------------------------------

-- every clean record with motor statistics, component scores (0-100) and the health score; the
-- stages are nested because each expression refers to columns of the stage before
CREATE TEMPORARY VIEW health_score_calc AS
SELECT vehicle_id, vehicle_type, fleet_id, swarm_id, ts, event_time, lat, lon, alt_m, speed_mps,
    battery_percent, signal_dbm, health_score, battery_score, motor_score, signal_score, thermal_score,
    motor_rpm_mean, motor_rpm_cv, voltage_sag_v, hottest_c, hottest_sensor
FROM (
    SELECT d.*, ${HEALTH_SCORE} AS health_score
    FROM (
        SELECT c.*, ${HEALTH_MOTOR_SCORE} AS motor_score
        FROM (
            SELECT b.*,
                ${HEALTH_MOTOR_CV} AS motor_rpm_cv,
                ${HEALTH_BATTERY_SCORE} AS battery_score,
                ${HEALTH_SIGNAL_SCORE} AS signal_score,
                ${HEALTH_THERMAL_SCORE} AS thermal_score,
                ${HEALTH_HOTTEST_SENSOR} AS hottest_sensor
            FROM (
                SELECT a.*,
                    ${HEALTH_MOTOR_MEAN} AS motor_rpm_mean,
                    ${HEALTH_VOLTAGE_SAG} AS voltage_sag_v,
                    ${HEALTH_HOTTEST_C} AS hottest_c
                FROM (
                    SELECT t.*,
                        ${HEALTH_MOTOR_N} AS motor_n,
                        ${HEALTH_MOTOR_D1} AS motor_d1,
                        ${HEALTH_MOTOR_D2} AS motor_d2,
                        ${HEALTH_CELLS} AS cells
                    FROM ${HEALTH_SOURCE} AS t
                ) AS a
            ) AS b
        ) AS c
    ) AS d
) AS e;
