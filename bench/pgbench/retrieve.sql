-- What a retrieve reads: the intent by id (its token checked against token_hash in the server), then whether the
-- provider's user is linked. bench_intents only maps pgbench's random number to one of the signed-in intents.
\set n random(1, :intents)
SELECT i.* FROM bench_intents b JOIN idp_intents i ON i.id = b.id WHERE b.n = :n;
SELECT user_id FROM idp_links WHERE idp_id = 'bench-oauth' AND linked_user_id = 'bench-user-' || :n LIMIT 1;
