# The site image: web (gunicorn), Celery worker and beat, the transaction drainer and the sandbox
# gateway all run from it with different commands (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    FLASHSALE_VAR_DIR=/app/var

WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 flashsale

COPY pyproject.toml README.md ./
COPY flashsale ./flashsale
COPY catalog ./catalog
COPY plans ./plans
COPY reservations ./reservations
COPY reconciliation ./reconciliation
COPY sandbox_gateway ./sandbox_gateway
RUN pip install .
COPY . .
# Static files are collected into the image (whitenoise serves them with hashed names); the
# values below only let the settings load at build time and are not used at run time.
RUN FLASHSALE_MODE=production SECRET_KEY=build-only FLASHSALE_TOKEN_KEYS=build:build-only \
    FLASHSALE_GATEWAY_WEBHOOK_SECRET=build-only FLASHSALE_GATEWAY_API_KEY=build-only \
    REDIS_URL=redis://127.0.0.1:6379/0 ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
    && chown -R flashsale var

USER flashsale
EXPOSE 8000
CMD ["gunicorn", "flashsale.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
