"""What several test suites share: polling with a deadline, loopback ports, the live server, and the
real processes (gunicorn, redis-server, the sandbox gateway) the end-to-end suites start."""
