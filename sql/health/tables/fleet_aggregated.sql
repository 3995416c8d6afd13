-- Per fleet and swarm aggregates on aegis.aggregated (the FleetAggregate contract), keyed by
-- fleet_id, one record per group per event-time window.
CREATE TABLE IF NOT EXISTS fleet_aggregated (
    `schema_version` BIGINT,
    `fleet_id` STRING NOT NULL,
    `swarm_id` STRING,
    `window_start` BIGINT,
    `window_end` BIGINT,
    `active_vehicles` BIGINT,
    `mean_health` DOUBLE,
    `min_health` DOUBLE,
    `min_battery` DOUBLE,
    `open_alerts` MAP<STRING, BIGINT>
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC_AGGREGATED}',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
    'properties.group.id' = '${GROUP_ID}',
    'properties.isolation.level' = 'read_committed',
    'properties.transaction.timeout.ms' = '900000',
    'scan.startup.mode' = '${STARTUP_MODE}',
    'scan.bounded.mode' = '${BOUNDED_MODE}',
    'key.format' = 'raw',
    'key.fields' = 'fleet_id',
    'value.format' = 'json',
    'value.fields-include' = 'ALL',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${TXN_PREFIX}-aggregated'
);
