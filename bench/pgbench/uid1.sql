\set u random(1, :users)
\set k random(0, 9)
SELECT value_key, value_data FROM user_data_records WHERE user_id = 'user-' || :u AND family = 1 AND identity_provider = '' AND value_key = ANY(ARRAY['key-' || :k]) AND (client_app_id = 'app-1' OR access_scope = 1);
