-- GPS jitter joins the per-vehicle window features (sql/features.sql): the RMS, over the short
-- window, of each fix's distance from the previous fix minus what the reported speed explains.
-- Additive: rows written before it keep NULL.
ALTER TABLE features ADD COLUMN IF NOT EXISTS gps_jitter_m double precision;
