-- ----------------------------------------------------------------------------------------------
-- DragonSync detections: what WarDragon users ask to be told about, as alerts on aegis.alerts
-- ----------------------------------------------------------------------------------------------
-- Which drones are several kits seeing at once, which are loitering, which are dropping fast,
-- and which are close to a kit?
-- Illustrates event-time tumbling windows over drone_events (Remote ID drones only: ADS-B
-- aircraft are not the threat, and their RSSI is dBFS), with WarDragon Analytics' pattern views
-- (multi_kit_detections, detect_loitering, detect_rapid_descent) and the DragonSync-iOS RSSI
-- proximity warning rebuilt as streaming SQL. Thresholds come from dragonsync.alerts in
-- flink-conf/aegis.yaml. One alert per drone, type and window; alert_id is deterministic.
-- Changes from WDA: loitering uses the bounding box of the window's fixes (its half-diagonal must
-- stay within the radius) instead of distances to a centroid; "drone-alert" (undecoded DJI
-- OcuSync, one id for many drones, no position) never counts as one drone seen by several kits.
-- ----------------------------------------------------------------------------------------------

INSERT INTO dragonsync_alerts
SELECT CAST(1 AS BIGINT),
    CONCAT('dragonsync_multi_kit:', drone_id, ':', CAST(window_end_ms AS STRING)),
    drone_id, CAST(NULL AS STRING), 'dragonsync_multi_kit', 'info',
    CAST(kits AS DOUBLE), CAST(${MULTI_KIT_MIN_KITS} AS DOUBLE), window_end_ms,
    CONCAT('drone ', drone_id, ' seen by ', CAST(kits AS STRING), ' kits within ',
           '${MULTI_KIT_WINDOW_S}', ' s'),
    'dragonsync'
FROM (
    SELECT drone_id, COUNT(DISTINCT kit_id) AS kits,
        CAST(EXTRACT(EPOCH FROM window_end) AS BIGINT) * 1000 AS window_end_ms
    FROM TABLE(TUMBLE(TABLE drone_events, DESCRIPTOR(event_time), INTERVAL '${MULTI_KIT_WINDOW_S}' SECOND))
    WHERE reason IS NULL AND track_type = 'drone' AND drone_id <> 'drone-alert'
    GROUP BY drone_id, window_start, window_end
    HAVING COUNT(DISTINCT kit_id) >= ${MULTI_KIT_MIN_KITS})
UNION ALL
SELECT CAST(1 AS BIGINT),
    CONCAT('dragonsync_loitering:', drone_id, ':', CAST(window_end_ms AS STRING)),
    drone_id, CAST(NULL AS STRING), 'dragonsync_loitering', 'warning',
    ROUND(half_diagonal_m, 1), CAST(${LOITER_RADIUS_M} AS DOUBLE), window_end_ms,
    CONCAT('drone ', drone_id, ' stayed within ', CAST(CAST(CEIL(half_diagonal_m) AS BIGINT) AS STRING),
           ' m for ', CAST(span_ms / 1000 AS STRING), ' s (', CAST(fixes AS STRING), ' fixes)'),
    'dragonsync'
FROM (
    SELECT drone_id, COUNT(*) AS fixes, MAX(`time`) - MIN(`time`) AS span_ms,
        SQRT(POWER((MAX(lat) - MIN(lat)) * 111320.0, 2)
             + POWER((MAX(lon) - MIN(lon)) * 111320.0 * COS(RADIANS(AVG(lat))), 2)) / 2 AS half_diagonal_m,
        CAST(EXTRACT(EPOCH FROM window_end) AS BIGINT) * 1000 AS window_end_ms
    FROM TABLE(TUMBLE(TABLE drone_events, DESCRIPTOR(event_time), INTERVAL '${LOITER_WINDOW_MIN}' MINUTE))
    WHERE reason IS NULL AND track_type = 'drone' AND lat IS NOT NULL AND lon IS NOT NULL
    GROUP BY drone_id, window_start, window_end)
WHERE fixes >= ${LOITER_MIN_POINTS} AND span_ms >= ${LOITER_MIN_SPAN_S} * 1000
    AND half_diagonal_m <= ${LOITER_RADIUS_M}
UNION ALL
SELECT CAST(1 AS BIGINT),
    CONCAT('dragonsync_rapid_descent:', drone_id, ':', CAST(window_end_ms AS STRING)),
    drone_id, CAST(NULL AS STRING), 'dragonsync_rapid_descent', 'warning',
    min_vspeed, -CAST(${DESCENT_MPS} AS DOUBLE), window_end_ms,
    CONCAT('drone ', drone_id, ' descending at ', CAST(ROUND(-min_vspeed, 1) AS STRING), ' m/s'),
    'dragonsync'
FROM (
    SELECT drone_id, MIN(vspeed) AS min_vspeed,
        CAST(EXTRACT(EPOCH FROM window_end) AS BIGINT) * 1000 AS window_end_ms
    FROM TABLE(TUMBLE(TABLE drone_events, DESCRIPTOR(event_time), INTERVAL '${ALERT_BUCKET_S}' SECOND))
    WHERE reason IS NULL AND track_type = 'drone' AND vspeed IS NOT NULL
    GROUP BY drone_id, window_start, window_end)
WHERE min_vspeed <= -${DESCENT_MPS}
UNION ALL
SELECT CAST(1 AS BIGINT),
    CONCAT('dragonsync_rssi_proximity:', drone_id, ':', kit_id, ':', CAST(window_end_ms AS STRING)),
    drone_id, kit_id, 'dragonsync_rssi_proximity', 'warning',
    max_rssi, CAST(${PROXIMITY_RSSI_DBM} AS DOUBLE), window_end_ms,
    CONCAT('drone ', drone_id, ' close to kit ', kit_id, ': RSSI ', CAST(max_rssi AS STRING), ' dBm'),
    'dragonsync'
FROM (
    SELECT drone_id, kit_id, MAX(rssi) AS max_rssi,
        CAST(EXTRACT(EPOCH FROM window_end) AS BIGINT) * 1000 AS window_end_ms
    FROM TABLE(TUMBLE(TABLE drone_events, DESCRIPTOR(event_time), INTERVAL '${ALERT_BUCKET_S}' SECOND))
    WHERE reason IS NULL AND track_type = 'drone' AND rssi_unit = 'dBm' AND rssi IS NOT NULL
    GROUP BY drone_id, kit_id, window_start, window_end)
WHERE max_rssi >= ${PROXIMITY_RSSI_DBM};
