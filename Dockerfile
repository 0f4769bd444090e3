# syntax=docker/dockerfile:1
# CoachRL: multi-stage build, non-root runtime, health check, migrations before the bot starts.
# The build stage compiles TypeScript to dist/; the runtime stage runs that compiled JavaScript
# with the production dependencies only (no Prisma CLI, no tsx, no TypeScript).
# Build:  docker build -t coachrl .
# Run:    docker compose up   (see docker-compose.yml and docs/operations.md)

FROM node:20-bookworm-slim AS build
WORKDIR /app
# tfjs-node's install script downloads libtensorflow and may compile a binding: give it the tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
# All dependencies; the postinstall script generates Prisma Client into src/generated/prisma.
# @tensorflow/tfjs-node is an optional dependency in the lock file: its install script downloads
# libtensorflow where the network allows; if that fails npm leaves it out and the app falls back
# to the WASM backend at run time (same code, slower training). The log line "tensorflow
# backend: …" at start-up says which one runs.
RUN npm ci --no-audit --no-fund \
 && (node -e "require.resolve('@tensorflow/tfjs-node')" 2>/dev/null \
     && echo "tfjs-node installed" || echo "tfjs-node unavailable: the WASM backend will be used")
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# dist/: the app, both worker entries (app/charts/worker.js, app/training/retrain-worker.js) and
# the generated Prisma client (dist/generated/prisma). Then only production dependencies stay:
# npm prune drops tsx, vitest, biome and the type packages; prune-dev-only.mjs drops what
# npm keeps as optional peers of production packages (the Prisma CLI, TypeScript).
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && node scripts/prune-dev-only.mjs

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080 \
    DATA_DIR=/data \
    LOG_FORMAT=json
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown node:node /data
# package.json marks dist/*.js as ES modules; the migration runner (dist/db/migrate.js) reads
# prisma/migrations/*/migration.sql; bin/coachrl.mjs runs dist/cli.js here (no tsx installed).
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY prisma/migrations ./prisma/migrations
COPY bin ./bin
USER node
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sh", "-c", "node dist/cli.js migrate && exec node dist/main.js"]
