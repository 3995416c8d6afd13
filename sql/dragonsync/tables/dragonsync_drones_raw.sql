-- Raw /drones responses as the kit poller sends them (connectors/dragonsync/envelope.py), keyed by
-- kit id: the bytes, unparsed, plus where each record came from. Parsing happens in the job so a
-- malformed response is dead-lettered, never a job failure. The Kafka timestamp is the poll time.
CREATE TABLE IF NOT EXISTS dragonsync_drones_raw (
    `payload` BYTES,
    `kafka_partition` INT METADATA FROM 'partition' VIRTUAL,
    `kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL,
    `kafka_ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
    `proc_time` AS PROCTIME()
) WITH (
    'connector' = 'kafka',
    'topic' = '${TOPIC_DRAGONSYNC_DRONES}',
    'properties.bootstrap.servers' = '${KAFKA_BOOTSTRAP}',
    'properties.group.id' = '${GROUP_ID}',
    'properties.isolation.level' = 'read_committed',
    'scan.startup.mode' = '${STARTUP_MODE}',
    'scan.bounded.mode' = '${BOUNDED_MODE}',
    'format' = 'raw'
);
