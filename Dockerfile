# The one Dockerfile of Killtrace's images: every service builds the same way, chosen with SERVICE (the directory
# name under services/). Build from the repository root:
#   docker build --build-arg SERVICE=correlator -t killtrace-correlator .
#   (SERVICE: alerter, api, cli, collector, correlator; the collector image runs `cluster-watcher` or `node-agent`)
# What an image holds is computed from the workspace manifests (deploy/image/image-files.ts): the service's package
# and its @killtrace/* dependencies, each with its package.json `files`. test/unit/dockerfile.test.ts checks this file.
ARG SERVICE=

# ---- build: every workspace's dependencies, compile the TypeScript project references
FROM node:24-bookworm-slim AS build
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'set --build-arg SERVICE=<alerter|api|cli|collector|correlator>' >&2; exit 1; }
WORKDIR /app
COPY . .
# `prepare` already runs `tsc --build`; `npm run build` makes a failure visible.
RUN npm ci --no-audit --no-fund && npm run build
# The workspace manifests alone, so the deps stage resolves production dependencies without the sources; and the
# service's compiled files, with those of the libraries it depends on.
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find libs services -mindepth 2 -maxdepth 2 -name package.json -exec cp --parents {} /manifests/ \; \
 && npx tsx deploy/image/image-files.ts "$SERVICE" /image

# ---- deps: production dependencies of the service's workspace only (its @killtrace/* libs are workspace links)
FROM node:24-bookworm-slim AS deps
ARG SERVICE
WORKDIR /app
COPY --from=build /manifests/ ./
RUN npm ci --omit=dev --workspace "services/$SERVICE" --ignore-scripts --no-audit --no-fund

# ---- base of every runtime: run as the image's non-root `node` user (uid 1000), production mode
FROM node:24-bookworm-slim AS runtime-base
ENV NODE_ENV=production
WORKDIR /app

# ---- what differs between the services: system packages, state directories, environment, port, entry point.
# Only the stage SERVICE names is built (BuildKit skips the others).
FROM runtime-base AS runtime-alerter
# The state file and delivery queue (decision 0008) live on a volume mounted here.
RUN mkdir -p /var/lib/killtrace/alerter && chown node:node /var/lib/killtrace/alerter
EXPOSE 9464
# main.ts handles SIGTERM/SIGINT itself: stops the workers, saves the state, leaves the group.
ENTRYPOINT ["node", "services/alerter/bin/killtrace-alerter.js"]

FROM runtime-base AS runtime-api
# In a container the port must be reachable from outside it (the default is loopback); put TLS in front.
ENV KILLTRACE_API_HOST=0.0.0.0
EXPOSE 9480
ENTRYPOINT ["node", "services/api/bin/killtrace-api.js"]

FROM runtime-base AS runtime-cli
ENTRYPOINT ["node", "services/cli/bin/killtrace.js"]

FROM runtime-base AS runtime-collector
# journalctl, for the node agent's kubelet journal (journalMode=journalctl).
RUN apt-get update \
 && apt-get install -y --no-install-recommends systemd \
 && rm -rf /var/lib/apt/lists/*
# The node agent's checkpoint directory must be writable by the `node` user.
RUN mkdir -p /var/lib/killtrace/node-agent && chown -R node:node /var/lib/killtrace
EXPOSE 9464
# main.ts handles SIGTERM/SIGINT itself (PID 1 gets no default signal handling).
ENTRYPOINT ["node", "services/collector/bin/killtrace-collector.js"]

FROM runtime-base AS runtime-correlator
EXPOSE 9464
# main.ts handles SIGTERM/SIGINT itself: finishes the in-flight batch, commits, leaves the group.
ENTRYPOINT ["node", "services/correlator/bin/killtrace-correlator.js"]

# ---- the image: the chosen runtime, production dependencies, compiled output
FROM runtime-${SERVICE}
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/package.json ./package.json
COPY --from=build /image/ ./
USER node
