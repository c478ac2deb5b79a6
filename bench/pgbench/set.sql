\set u random(1, :users)
\set k random(0, 4)
\set v random(1, 1000000000)
INSERT INTO user_data_records AS r (user_id, identity_provider, value_key, value_data, access_scope, client_app_id, created_at, updated_at) VALUES ('user-' || :u, 'telegram', 'key-' || :k, 'bench value ' || :v, 0, 'app-1', now(), now()) ON CONFLICT (user_id, family, identity_provider, value_key) DO UPDATE SET value_data = EXCLUDED.value_data, access_scope = EXCLUDED.access_scope, updated_at = EXCLUDED.updated_at WHERE r.client_app_id = EXCLUDED.client_app_id RETURNING 1;
