\set u random(1, :users)
SELECT value_key, access_scope FROM user_data_records WHERE user_id = 'user-' || :u AND family = 0 AND identity_provider = 'telegram' AND client_app_id = 'app-1' ORDER BY value_key;
