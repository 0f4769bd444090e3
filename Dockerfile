# syntax=docker/dockerfile:1
# CoachRL: multi-stage build, non-root runtime, health check, migrations before the bot starts.
# Build:  docker build -t coachrl .
# Run:    docker compose up   (see docker-compose.yml and docs/operations.md)

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# tfjs-node's install script downloads libtensorflow and may compile a binding: give it the tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
# @tensorflow/tfjs-node is an optional dependency in the lock file: its install script downloads
# libtensorflow where the network allows; if that fails npm leaves it out and the app falls back
# to the WASM backend at run time (same code, slower training). The log line "tensorflow
# backend: …" at start-up says which one runs.
RUN npm ci --omit=dev --no-audit --no-fund \
 && (node -e "require.resolve('@tensorflow/tfjs-node')" 2>/dev/null \
     && echo "tfjs-node installed" || echo "tfjs-node unavailable: the WASM backend will be used")

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
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node . .
COPY --from=deps --chown=node:node /app/src/generated ./src/generated
USER node
EXPOSE 8080
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["sh", "-c", "node bin/coachrl.mjs migrate && exec node --import tsx src/main.ts"]
