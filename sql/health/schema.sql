-- Health job tables (jobs/health.py writes both by JDBC upserts on the primary keys; a replay
-- after a restart overwrites rows, never duplicates them). Plain SQL for aegis/db/migrate.py: each
-- table is a time series on ts (a TimescaleDB hypertable, or range-partitioned by day without it),
-- so every primary key includes ts. Column lists match sql/health/tables/health_pg.sql and
-- alerts_pg.sql (tests/unit/test_health_tables.py).

-- One row per clean telemetry record: the score and its components, 0-100; a component the vehicle
-- does not have (a machine's battery and motors) is NULL.
-- aegis:timeseries health ts
CREATE TABLE IF NOT EXISTS health (
    vehicle_id          text             NOT NULL,
    ts                  timestamptz      NOT NULL,
    vehicle_type        text             NOT NULL,
    fleet_id            text             NOT NULL,
    swarm_id            text,
    health_score        double precision NOT NULL CHECK (health_score BETWEEN 0 AND 100),
    battery_score       double precision,
    motor_score         double precision,
    signal_score        double precision,
    thermal_score       double precision,
    battery_percent     double precision,
    alt_m               double precision,
    signal_dbm          double precision,
    motor_rpm_mean      double precision,
    motor_rpm_cv        double precision,
    PRIMARY KEY (vehicle_id, ts)
) /*PARTITION*/;
CREATE INDEX IF NOT EXISTS health_fleet_ts ON health (fleet_id, ts DESC);

-- Alerts that passed the per-(vehicle, type) cooldown. alert_id is a hash of (source job, vehicle,
-- type, event time), unique on its own; ts is in the key as well because a partitioned table's
-- (and a hypertable's) unique keys must contain the partitioning column.
-- aegis:timeseries alerts ts
CREATE TABLE IF NOT EXISTS alerts (
    alert_id            text             NOT NULL,
    ts                  timestamptz      NOT NULL,
    vehicle_id          text             NOT NULL,
    fleet_id            text,
    alert_type          text             NOT NULL,
    severity            text             NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    value               double precision,
    threshold           double precision,
    message             text             NOT NULL,
    source              text             NOT NULL,
    PRIMARY KEY (alert_id, ts)
) /*PARTITION*/;
CREATE INDEX IF NOT EXISTS alerts_vehicle_ts ON alerts (vehicle_id, ts DESC);
CREATE INDEX IF NOT EXISTS alerts_type_ts ON alerts (alert_type, ts DESC);
