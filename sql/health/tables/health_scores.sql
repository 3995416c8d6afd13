-- Per-record health scores on aegis.health (the Health contract), keyed by vehicle_id.
-- Written exactly-once by the health job (jobs/health.py); components are 0-100, NULL when the
-- vehicle has no such part (a machine's battery and motors).
CREATE TABLE IF NOT EXISTS health_scores (
    `schema_version` BIGINT,
    `vehicle_id` STRING NOT NULL,
    `vehicle_type` STRING,
    `fleet_id` STRING,
    `swarm_id` STRING,
    `ts` BIGINT NOT NULL,
    `health_score` DOUBLE,
    `battery_score` DOUBLE,
    `motor_score` DOUBLE,
    `signal_score` DOUBLE,
    `thermal_score` DOUBLE,
    `battery_percent` DOUBLE,
    `alt_m` DOUBLE,
    `signal_dbm` DOUBLE,
    `motor_rpm_mean` DOUBLE,
    `motor_rpm_cv` DOUBLE
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC_HEALTH}',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
    'properties.group.id' = '${GROUP_ID}',
    'properties.isolation.level' = 'read_committed',
    'properties.transaction.timeout.ms' = '900000',
    'scan.startup.mode' = '${STARTUP_MODE}',
    'scan.bounded.mode' = '${BOUNDED_MODE}',
    'key.format' = 'raw',
    'key.fields' = 'vehicle_id',
    'value.format' = 'json',
    'value.fields-include' = 'ALL',
    'value.json.encode.ignore-null-fields' = 'true',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${TXN_PREFIX}-health'
);
