-- Clean telemetry that reached the features job after its window slice had closed (later than the
-- watermark allows): the window aggregation cannot count it any more, so it is dead-lettered here
-- with the watermark it missed, never dropped silently. The DeadLetter contract's fields.
CREATE TABLE IF NOT EXISTS features_dlq (
    `schema_version` BIGINT,
    `reason` STRING,
    `detail` STRING,
    `vehicle_id` STRING,
    `source_topic` STRING,
    `source_partition` BIGINT,
    `source_offset` BIGINT,
    `source_timestamp` BIGINT,
    `payload` STRING,
    `payload_encoding` STRING,
    `dead_lettered_at` BIGINT
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC_FEATURES_DLQ}',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
    'properties.group.id' = '${GROUP_ID}',
    'properties.isolation.level' = 'read_committed',
    'properties.transaction.timeout.ms' = '900000',
    'scan.startup.mode' = '${STARTUP_MODE}',
    'scan.bounded.mode' = '${BOUNDED_MODE}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${TXN_PREFIX}-features-dlq'
);
