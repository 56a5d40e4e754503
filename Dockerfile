# seamark as a container: built from source in one stage, run from a small
# Alpine image on the current Node LTS as a non-root user.
#   docker build -t seamark .
#   docker compose up -d        (see docker-compose.yml and README "Docker")

FROM node:24-alpine AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --no-audit --no-fund

FROM node:24-alpine
# DNS wants port 53: the capability lets the non-root user bind it (Docker's
# default capability set includes NET_BIND_SERVICE, so nothing extra is granted).
RUN apk add --no-cache libcap \
 && setcap cap_net_bind_service=+ep /usr/local/bin/node \
 && apk del libcap \
 && addgroup -S -g 10053 seamark \
 && adduser -S -D -H -u 10053 -G seamark seamark \
 && mkdir -p /data \
 && chown seamark:seamark /data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY config ./config
# Listens on every address inside its own network namespace; docker-compose.yml
# runs it on the host network and narrows DNS to the bridge address.
ENV NODE_ENV=production \
    SEAMARK_DNS=0.0.0.0:53 \
    SEAMARK_HTTP=127.0.0.1:8080 \
    SEAMARK_DATA_DIR=/data
VOLUME /data
EXPOSE 53/udp 53/tcp
# The socket is reachable through its group: run with --group-add <gid of /var/run/docker.sock>.
USER seamark
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/src/main.js"]
