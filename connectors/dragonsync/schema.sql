-- DragonSync / WarDragon tables, written by jobs/dragonsync.py (JDBC upserts on the primary keys).
-- Primary keys and column names follow WarDragon Analytics (timescaledb/01-init.sql + migrations
-- 03-07) so its dashboards and queries keep working; differences, all deliberate:
--   * every row's time is the kit's own observation time (observed_at / last_update_time), so a
--     track polled again unchanged maps onto the same row instead of a new one;
--   * all units SI: aircraft alt in m (not ft), speed in m/s (not kt); frequencies in MHz;
--   * drones.rssi is double precision (ADS-B dBFS are fractional) and rssi_unit says dBm or dBFS;
--   * signals.lat/lon/alt are the kit's position (DragonSync's emitter position is a made-up offset),
--     signals.detection_type has no analog/dji CHECK (DragonSync also sends fhss), pal/ntsc are 0-100;
--   * kits.status allows unknown and stale (WDA's CHECK rejects the 'unknown' its own collector writes);
--   * ingested_at (database clock at first insert) measures observation -> queryable delay.
-- The column lists must match connectors/dragonsync/columns.py (tests/unit/test_dragonsync_schema.py).

-- aegis:timeseries drones time
CREATE TABLE IF NOT EXISTS drones (
    time                  timestamptz      NOT NULL,
    kit_id                text             NOT NULL,
    drone_id              text             NOT NULL,
    track_type            text             NOT NULL CHECK (track_type IN ('drone', 'aircraft')),
    lat                   double precision,
    lon                   double precision,
    alt                   double precision,            -- m (aircraft converted from ft)
    speed                 double precision,            -- m/s ground (aircraft converted from kt)
    heading               double precision,            -- degrees; drones: their direction
    vspeed                double precision,            -- m/s, up positive
    height                double precision,            -- m above takeoff/ground
    direction             double precision,            -- degrees; RID 361 (unknown) is NULL
    pilot_lat             double precision,
    pilot_lon             double precision,
    home_lat              double precision,
    home_lon              double precision,
    freq                  double precision,            -- MHz
    op_status             text,
    id_type               text,                        -- RID ID type, e.g. Serial Number (ANSI/CTA-2063-A)
    mac                   text,
    ua_type               text,
    operator_id           text,
    caa_id                text,
    rid_make              text,
    rid_model             text,
    rid_source            text,                        -- FAA lookup source, e.g. local-cache
    runtime               integer,
    rssi                  double precision,            -- dBm (drones) or dBFS (aircraft): see rssi_unit
    transport             text,
    description           text,
    ua_type_name          text,
    operator_id_type      text,
    height_type           text,
    ew_dir                text,
    rid_status            text,
    rid_tracking          text,
    freq_mhz              double precision,
    pressure_altitude     double precision,
    gps_accuracy          double precision,
    observed_at           double precision,            -- epoch seconds, kit clock
    rid_lookup_attempted  boolean,
    rid_lookup_success    boolean,
    flight                text,                        -- ADS-B flight number
    squawk                text,
    registration          text,
    category              text,
    on_ground             boolean,
    rssi_unit             text,
    seen_by               text,                        -- the kit's own id (wardragon-<serial>)
    poll_time             timestamptz,                 -- when the collector fetched it
    ingested_at           timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (time, kit_id, drone_id)
) /*PARTITION*/;
CREATE INDEX IF NOT EXISTS drones_drone_time ON drones (drone_id, time DESC);
CREATE INDEX IF NOT EXISTS drones_kit_time ON drones (kit_id, time DESC);
CREATE INDEX IF NOT EXISTS drones_kit_type_time ON drones (kit_id, track_type, time);
CREATE INDEX IF NOT EXISTS drones_rid_make ON drones (rid_make) WHERE rid_make IS NOT NULL;
CREATE INDEX IF NOT EXISTS drones_position ON drones (lat, lon, time) WHERE lat IS NOT NULL;
CREATE INDEX IF NOT EXISTS drones_mac ON drones (mac) WHERE mac IS NOT NULL;

-- aegis:timeseries signals time
CREATE TABLE IF NOT EXISTS signals (
    time                  timestamptz      NOT NULL,
    kit_id                text             NOT NULL,
    freq_mhz              double precision NOT NULL,    -- from DragonSync's center_hz
    power_dbm             double precision,
    bandwidth_mhz         double precision,
    lat                   double precision,            -- the kit's position (sensor_lat)
    lon                   double precision,
    alt                   double precision,
    pal_conf              double precision,            -- 0-100 %
    ntsc_conf             double precision,            -- 0-100 %
    detection_type        text,                        -- analog, dji, fhss
    source                text,                        -- confirm, sik_confirm, ...
    signal_type           text,                        -- fpv, gfsk_fhss, analog_video
    uid                   text,
    alert_id              text,
    callsign              text,
    description           text,
    rssi                  double precision,            -- as sent (suscli fpvdet: linear power 0-1)
    radius_m              double precision,
    seen_by               text,
    poll_time             timestamptz,
    ingested_at           timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (time, kit_id, freq_mhz)
) /*PARTITION*/;
CREATE INDEX IF NOT EXISTS signals_kit_time ON signals (kit_id, time DESC);
CREATE INDEX IF NOT EXISTS signals_freq_time ON signals (freq_mhz, time DESC);

-- aegis:timeseries system_health time
CREATE TABLE IF NOT EXISTS system_health (
    time                  timestamptz      NOT NULL,
    kit_id                text             NOT NULL,
    lat                   double precision,
    lon                   double precision,
    alt                   double precision,
    temp_cpu              double precision,
    temp_gpu              double precision,
    pluto_temp            double precision,
    zynq_temp             double precision,
    speed                 double precision,
    track                 double precision,
    cpu_percent           double precision CHECK (cpu_percent BETWEEN 0 AND 100),
    memory_percent        double precision CHECK (memory_percent BETWEEN 0 AND 100),
    disk_percent          double precision CHECK (disk_percent BETWEEN 0 AND 100),
    uptime_hours          double precision CHECK (uptime_hours >= 0),
    gps_fix               boolean,
    time_source           text,
    gpsd_time_utc         text,
    kit_updated_epoch     bigint,
    uid                   text,                        -- the id the kit reports (/status uid)
    poll_time             timestamptz,
    ingested_at           timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (time, kit_id)
) /*PARTITION*/;
CREATE INDEX IF NOT EXISTS system_health_kit_time ON system_health (kit_id, time DESC);

-- the collector's view of each kit (one row per kit id from kits.yaml), updated on every /status
-- poll and on every state change
CREATE TABLE IF NOT EXISTS kits (
    kit_id                text             PRIMARY KEY,
    name                  text,
    location              text,
    api_url               text,
    last_seen             timestamptz,
    status                text             NOT NULL DEFAULT 'unknown'
                          CHECK (status IN ('unknown', 'online', 'offline', 'stale', 'error')),
    enabled               boolean          NOT NULL DEFAULT true,
    source                text             NOT NULL DEFAULT 'http' CHECK (source IN ('http', 'mqtt', 'both')),
    uid                   text,                        -- the id the kit reports (kit_id / uid)
    last_error            text,
    updated_at            timestamptz,
    created_at            timestamptz      NOT NULL DEFAULT now()
);
