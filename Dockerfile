# datapass: one image for the web (gunicorn), worker and beat (Celery) and migrate services.
# Build: docker compose build (or docker build -t datapass .)

# The State design system (DSFR), from npm, as `scripts/setup.sh` installs it.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATAPASS_ENV=production \
    DATAPASS_VAR_DIR=/var/lib/datapass \
    DATAPASS_UPLOAD_DIR=/var/lib/datapass/uploads \
    DATAPASS_OAUTH_KEY_DIR=/var/lib/datapass/keys
WORKDIR /app

# Dependencies first (a layer rebuilt only when pyproject.toml changes).
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt

# The app itself, installed in place: templates, definitions and migrations stay beside it.
COPY datapass ./datapass
COPY worker ./worker
COPY workflows ./workflows
COPY templates ./templates
COPY migrations ./migrations
COPY --from=assets /build/node_modules/@gouvfr/dsfr/dist ./node_modules/@gouvfr/dsfr/dist
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /var/lib/datapass datapass \
    && mkdir -p /var/lib/datapass/keys /var/lib/datapass/uploads /var/lib/datapass/beat \
       /run/datapass/metrics \
    && chown -R datapass: /var/lib/datapass /run/datapass \
    && chmod 700 /var/lib/datapass/keys

USER datapass
EXPOSE 8000
CMD ["gunicorn", "-c", "python:datapass.ops.gunicorn_conf", "datapass.ops.wsgi:create_wsgi_app()"]
