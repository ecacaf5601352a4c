"""Helpers test modules share (imported from here, never from a ``conftest``; fixtures stay in the
conftest files): polling with a deadline, loopback ports, the live server, the real processes
(gunicorn, redis-server, a Redis Cluster, the sandbox gateway) the end-to-end suites start, and the
sales, shoppers, passes, payments and checks the suites build on."""
