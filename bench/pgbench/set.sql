\set u random(1, :users)
\set k random(0, 4)
\set v random(1, 1000000000)
WITH in_time AS (SELECT clock_timestamp() < now() + interval '30 seconds' AS ok), written AS (INSERT INTO user_data_records AS r (user_id, family, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at) SELECT 'user-' || :u, 0, 'telegram', 'key-' || :k, 'bench value ' || :v, 0, 'app-1', now(), now() FROM in_time WHERE ok ON CONFLICT (user_id, family, identity_provider, value_key) DO UPDATE SET value_data = EXCLUDED.value_data, access_scope = EXCLUDED.access_scope, updated_at = EXCLUDED.updated_at WHERE r.client_app_id = EXCLUDED.client_app_id RETURNING 1) SELECT ok, EXISTS (SELECT 1 FROM written) FROM in_time;
