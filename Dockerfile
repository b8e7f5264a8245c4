# syntax=docker/dockerfile:1
# Nomaly worker image: one image, two commands (control and scoring worker).
#   docker build -t nomaly:0.1.0 .
#   docker run nomaly:0.1.0                                # control worker (default)
#   docker run nomaly:0.1.0 node dist/workers/scoring.js   # scoring worker
# Base images are pinned by tag; pin by digest too (node:20.20.2-bookworm-slim@sha256:…) where
# a registry mirror policy demands it.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build: install every package from the lockfile, compile TypeScript ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts/write-build-info.js ./scripts/write-build-info.js
COPY scripts/tsconfig.json ./scripts/tsconfig.json
COPY scripts/smoke ./scripts/smoke
RUN npm run build \
 && npm run build:scripts \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production packages, compiled code, PostgreSQL client tools, non-root ----
FROM ${NODE_IMAGE} AS runtime
# pg_dump/pg_restore for the backup and disasterRecovery workflows. They must be at least the
# server's major version: Debian bookworm ships 15, matching infra/compose.yaml's postgres:15.
ARG PG_CLIENT_PACKAGE=postgresql-client-15
RUN apt-get update \
 && apt-get install -y --no-install-recommends "${PG_CLIENT_PACKAGE}" ca-certificates \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    NOMALY_HTTP_PORT=9464 \
    NOMALY_HEALTH_HOST=0.0.0.0 \
    NOMALY_DATA_DIR=/tmp/nomaly \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./package.json
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The smoke test, runnable in a worker container: node dist-scripts/scripts/smoke/run.js
COPY --from=build --chown=root:root /app/dist-scripts ./dist-scripts
# The node image's unprivileged user (uid 1000); the code is owned by root and read-only to it.
USER 1000:1000
EXPOSE 9464
# /health answers while the process is alive; /ready also checks Temporal, PostgreSQL and MinIO.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.NOMALY_HTTP_PORT||9464)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM stops the worker gracefully (running activities get 30 s to finish).
STOPSIGNAL SIGTERM
CMD ["node", "dist/workers/control.js"]
