# The worker image: `docker build -t customer-migration-worker .` (docker-compose.yml builds it too).
# Debian-based node:20 (not alpine): the Temporal worker's native core needs glibc.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.json

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at run time from the project root (config/env.ts PROJECT_ROOT): the mapping document and the SQL migrations.
COPY mapping/customer-mapping.json ./mapping/customer-mapping.json
COPY db/sql ./db/sql
USER node
# SIGTERM from `docker stop` reaches node directly (exec form): the worker shuts down cleanly.
# The heap flags are package.json's "config.workerNodeOptions" (bounded worker memory).
CMD ["node", "--max-old-space-size=256", "--max-semi-space-size=16", "dist/worker/main.js"]
