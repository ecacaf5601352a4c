-- pgbench script: the peer's reservation as one transaction on the hot stock row.
-- Variables from the command line: stock_id, min_user, max_user.
\set user_id random(:min_user, :max_user)
BEGIN;
SELECT remaining FROM bench_peerstock WHERE id = :stock_id FOR UPDATE \gset
\if :remaining >= 1
UPDATE bench_peerstock SET remaining = remaining - 1 WHERE id = :stock_id;
INSERT INTO bench_peerreservation (stock_id, user_id, quantity, created_at) VALUES (:stock_id, :user_id, 1, now());
\endif
COMMIT;
