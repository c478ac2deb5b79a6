-- :users users × (2 identity providers + by user id) × 10 keys. key-0…4 belong to app-1, key-5…9 to app-2;
-- odd keys are public, even keys private. The same ten keys per user again by user id (family 1, no identity provider).
TRUNCATE user_data_records;
INSERT INTO user_data_records (user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at)
SELECT 'user-' || u, CASE WHEN idp = '' THEN 1 ELSE 0 END::smallint, idp, 'key-' || k, md5(u::text || idp || k) || md5(k::text || u::text),
       (k % 2)::smallint, CASE WHEN k < 5 THEN 'app-1' ELSE 'app-2' END, now(), now()
  FROM generate_series(1, :users) AS u, unnest(ARRAY['telegram', 'google', '']) AS idp, generate_series(0, 9) AS k;
VACUUM ANALYZE user_data_records;
-- The seed's dirty pages go to disk now, so that no checkpoint of them lands in the middle of a measurement.
CHECKPOINT;
