\set u random(1, :users)
SELECT value_key, value_data FROM user_data_records WHERE user_id = 'user-' || :u AND family = 0 AND identity_provider = 'telegram' AND value_key = ANY(ARRAY['key-0','key-1','key-2','key-3','key-4','key-5','key-6','key-7','key-8','key-9']) AND (client_app_id = 'app-1' OR access_scope = 1);
