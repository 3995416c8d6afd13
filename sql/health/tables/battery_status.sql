-- Battery view per vehicle on aegis.battery (the BatteryStatus contract), keyed by vehicle_id:
-- the latest charge, drain rate, voltage sag and remaining flight time of each window.
CREATE TABLE IF NOT EXISTS battery_status (
    `schema_version` BIGINT,
    `vehicle_id` STRING NOT NULL,
    `fleet_id` STRING,
    `ts` BIGINT NOT NULL,
    `battery_percent` DOUBLE,
    `drain_rate_pct_s` DOUBLE,
    `voltage_sag_v` DOUBLE,
    `remaining_flight_s` DOUBLE
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC_BATTERY}',
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
    'sink.transactional-id-prefix' = '${TXN_PREFIX}-battery'
);
