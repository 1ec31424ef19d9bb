# syntax=docker/dockerfile:1
# One image for every process: the API (default command) and the worker
# (`node dist/apps/worker/src/main.js`). See docs/OPERATIONS.md.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: every dependency, compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY libs ./libs
COPY apps ./apps
COPY src ./src
COPY scripts/copy-build-assets.mjs ./scripts/
RUN npm run build

# ---- runtime: production dependencies and the compiled code only, as a non-root user ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKER_HEALTH_PORT=8001 \
    DATA_ROOT=/app/data
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: nothing from the registry runs at install time in the shipped image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The bundled sample market data alone (.dockerignore lets only its files in, not whatever a
# developer's data/ holds); deployments mount their own at DATA_ROOT (compose: /data).
COPY --chown=node:node data ./data
RUN mkdir -p /app/data/tasks && chown node:node /app/data/tasks
# The node user (uid 1000) of the official image: results are written as 1000:1000.
USER node
EXPOSE 8000 8001
# Liveness of whichever process the container runs: the API on PORT, else a worker on
# WORKER_HEALTH_PORT (nothing listens on PORT in a worker's container; probing only PORT
# marked every worker unhealthy). A process that answers not-OK is unhealthy at once. curl is
# not in the slim image, Node's fetch is.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "(async()=>{for(const p of [process.env.PORT||8000,process.env.WORKER_HEALTH_PORT||8001]){let r;try{r=await fetch('http://127.0.0.1:'+p+'/health/live')}catch{continue}process.exit(r.ok?0:1)}process.exit(1)})()"]
CMD ["node", "dist/apps/api/src/main.js"]
