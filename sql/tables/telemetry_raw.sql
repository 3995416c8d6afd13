-- Raw telemetry as producers send it: the bytes, unparsed, plus where each record came from.
-- Parsing happens in the ingest job so a malformed record is dead-lettered, never a job failure.
CREATE TABLE IF NOT EXISTS telemetry_raw (
    `payload` BYTES,
    `kafka_partition` INT METADATA FROM 'partition' VIRTUAL,
    `kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL,
    `kafka_ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    `proc_time` AS PROCTIME()
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
