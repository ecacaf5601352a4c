#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    """Run administrative tasks."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    # Without REDIS_URL (development) the command gets the embedded Redis for its own run: it is
    # started if needed and stopped on the way out unless another user still needs it.
    from flashsale.embedded_redis import EmbeddedRedisError, redis_url_for_this_process

    if os.environ.get("FLASHSALE_MODE", "").strip().lower() == "production":
        execute_from_command_line(sys.argv)
        return
    try:
        with redis_url_for_this_process():
            execute_from_command_line(sys.argv)
    except EmbeddedRedisError as exc:
        sys.exit(f"embedded Redis: {exc}")


if __name__ == "__main__":
    main()
