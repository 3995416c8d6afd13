-- The features job's view of aegis.telemetry.clean: telemetry_clean plus where each record came
-- from, so a record arriving too late for its windows can be dead-lettered with its position.
CREATE TABLE IF NOT EXISTS features_source (
    `kafka_partition` INT METADATA FROM 'partition' VIRTUAL,
    `kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL,
    `kafka_ts` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL
) LIKE telemetry_clean;
