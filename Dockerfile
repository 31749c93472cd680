# syntax=docker/dockerfile:1
# Front Door portal image: assets built with Node, dependencies with uv, run as a non-root user.
# Migrations run as a separate step: docker run IMAGE alembic upgrade head

FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY assets ./assets
COPY scripts/build-assets.mjs ./scripts/
RUN node scripts/build-assets.mjs

FROM python:3.11-slim-bookworm AS python
ENV UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock .python-version ./
RUN uv sync --frozen --no-dev
COPY locales ./locales
RUN .venv/bin/pybabel compile -d locales

FROM python:3.11-slim-bookworm AS runtime
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin frontdoor
WORKDIR /app
COPY --from=python /app/.venv ./.venv
COPY --from=python /app/locales ./locales
COPY --from=assets /src/build/static ./build/static
COPY --from=assets /src/build/fonts ./build/fonts
COPY alembic.ini ./
COPY backend_clients ./backend_clients
COPY portal ./portal
COPY templates ./templates
# Bytecode compiled now: the root filesystem is read-only in Kubernetes, and a replica or a
# worker restarted after a crash should not compile every module again.
RUN .venv/bin/python -m compileall -q portal backend_clients
# DejaVu Sans cut to the scripts PDFs draw: each receipt or summary reads it whole.
RUN .venv/bin/python -m portal.i18n.fonts build/fonts
RUN mkdir var && chown frontdoor:frontdoor var
USER frontdoor
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FRONTDOOR_ENV=production \
    FRONTDOOR_HOST=0.0.0.0 \
    FRONTDOOR_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['FRONTDOOR_PORT'], timeout=2)"]
CMD ["python", "-m", "portal", "serve"]
