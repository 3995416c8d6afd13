-- Every DragonSync record the job could not use (the DeadLetter contract): the offending response
-- or list item, a machine-readable reason, a readable detail and the source partition/offset.
CREATE TABLE IF NOT EXISTS dragonsync_dlq (
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
    'topic' = '${TOPIC_DRAGONSYNC_DLQ}',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
    'properties.group.id' = '${GROUP_ID}',
    'properties.isolation.level' = 'read_committed',
    'properties.transaction.timeout.ms' = '900000',
    'scan.startup.mode' = '${STARTUP_MODE}',
    'scan.bounded.mode' = '${BOUNDED_MODE}',
    'format' = 'json',
    'sink.delivery-guarantee' = 'exactly-once',
    'sink.transactional-id-prefix' = '${TXN_PREFIX}-dlq'
);
