-- Raw telemetry as producers send it: the bytes, unparsed, plus where each record came from.
-- Parsing happens in the ingest job so a malformed record is dead-lettered, never a job failure.
-- The watermark follows the Kafka record timestamps, which producers set to the record's event
-- time `ts` (connectors.kafka.KeyedSender): per partition, so jobs/pipeline.py can run the
-- event-time analytics in the same job as the parse, with no second read of a topic.
CREATE TABLE IF NOT EXISTS telemetry_raw (
    `payload` BYTES,
    `kafka_partition` INT METADATA FROM 'partition' VIRTUAL,
    `kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL,
    `kafka_ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    `proc_time` AS PROCTIME(),
    WATERMARK FOR `kafka_ts` AS `kafka_ts` - INTERVAL '${WATERMARK_DELAY_S}' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC_TELEMETRY}',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
    'properties.group.id' = '${GROUP_ID}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${STARTUP_MODE}',
    'properties.auto.offset.reset' = 'earliest',
    'scan.bounded.mode' = '${BOUNDED_MODE}',
    'format' = 'raw'
);
