-- Stored clean telemetry for the feature backfill: JSON lines (the Telemetry contract, as on
-- aegis.telemetry.clean) under ${TELEMETRY_FILES_PATH}, staged by jobs/features.py from simulator
-- Parquet or the `telemetry` table. Same columns and event time as telemetry_clean, so
-- sql/features.sql runs on it unchanged in batch mode.
CREATE TABLE IF NOT EXISTS telemetry_files
WITH (
    'connector' = 'filesystem',
    'path' = '${TELEMETRY_FILES_PATH}',
    'format' = 'json',
    'json.ignore-parse-errors' = 'false'
)
LIKE telemetry_clean (EXCLUDING OPTIONS);
