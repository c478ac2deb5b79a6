\set u random(1, :users)
SELECT value_key FROM user_data_records WHERE user_id = 'user-' || :u AND family = 0 AND identity_provider = 'telegram' AND access_scope = 1 AND client_app_id <> 'app-1' AND value_key > '' ORDER BY value_key LIMIT 100;
