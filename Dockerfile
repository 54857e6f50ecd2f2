# syntax=docker/dockerfile:1
# Crosswire hub image: one replica per container (docker-compose.yml runs three,
# plus the `secret` and `migrate` one-shots from the same image).
#
# Node version: the code is built and tested on Node 20, the only Node on the
# development and CI machines. Node 20 reached end of life on 2026-04-30, so
# the image runs on Node 24 (LTS) by default, which means it runs code that was
# never tested on that Node here. To run exactly the tested runtime instead:
#   docker build --build-arg NODE_VERSION=20 .
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
# No dependency install scripts: nothing the image runs needs them (prisma's
# preinstall is a version check, @prisma/engines' postinstall downloads engines
# we do not use, embedded Postgres is not used with DATABASE_URL, esbuild's API
# works without its postinstall).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
COPY scripts ./scripts
# `npm run build` compiles these too (tsconfig.build.json) and bundles the pages (web/, on client/).
COPY bench ./bench
COPY client ./client
COPY web ./web
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
# Code and dependencies belong to root and are only readable by the app user.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/prisma/migrations ./prisma/migrations
# Mount point of the JWT secret volume (docker-compose.yml).
RUN mkdir -p /run/crosswire && chown node:node /run/crosswire
USER node
EXPOSE 3000
# node as PID 1 under compose's `init: true` (tini): SIGTERM reaches the hub,
# which drains (DRAIN_MS) and exits 0.
CMD ["node", "dist/src/main.js"]
