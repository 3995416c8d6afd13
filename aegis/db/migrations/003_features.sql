-- Per-vehicle window features (jobs/features.py, sql/features.sql): one row per vehicle and window
-- end, upserted by the features job; the backfill writes the same rows to Parquet for training.
-- aegis:timeseries features window_end
CREATE TABLE IF NOT EXISTS features (
    vehicle_id                  text             NOT NULL,
    window_end                  timestamptz      NOT NULL,
    window_start                timestamptz      NOT NULL,
    schema_version              bigint           NOT NULL,
    vehicle_type                text,
    fleet_id                    text,
    samples                     bigint           NOT NULL,
    samples_short               bigint           NOT NULL,
    vib_rms_short_g             double precision,
    vib_rms_long_g              double precision,
    vib_kurtosis_long           double precision,
    motor_temp_mean_c           double precision,
    motor_temp_rate_c_min       double precision,
    battery_temp_mean_c         double precision,
    battery_temp_rate_c_min     double precision,
    bearing_temp_mean_c         double precision,
    bearing_temp_rate_c_min     double precision,
    power_kw_short              double precision,
    power_kw_baseline           double precision,
    power_dev_z                 double precision,
    current_a_short             double precision,
    current_a_baseline          double precision,
    current_dev_z               double precision,
    battery_drain_pct_min       double precision,
    time_since_maintenance_s    double precision,
    cycles                      bigint,
    motor_rpm_cv                double precision,
    gps_hdop_mean               double precision,
    PRIMARY KEY (vehicle_id, window_end)
) /*PARTITION*/;
