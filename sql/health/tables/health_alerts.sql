-- Health alerts on aegis.alerts (the Alert contract), keyed by vehicle_id: rule firings that
-- passed the per-(vehicle, type) cooldown. alert_id hashes (vehicle, type, event time), so a
-- replay upserts instead of duplicating.
CREATE TABLE IF NOT EXISTS health_alerts (
    `schema_version` BIGINT,
    `alert_id` STRING NOT NULL,
    `vehicle_id` STRING NOT NULL,
    `fleet_id` STRING,
    `alert_type` STRING NOT NULL,
    `severity` STRING NOT NULL,
    `value` DOUBLE,
    `threshold` DOUBLE,
    `ts` BIGINT NOT NULL,
    `message` STRING,
    `source` STRING
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC_ALERTS}',
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
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${TXN_PREFIX}-alerts'
);
