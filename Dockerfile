# seamark as a container: built from source in one stage, run as a non-root
# user from the official Node.js image.
#   docker build -t seamark .
#   docker compose up -d        (see docker-compose.yml and README "Running seamark in a container")
#
# NODE_IMAGE picks the base of both stages. The default is the current Node LTS
# on Alpine: the smallest official Node image (seamark adds about 39 MB), and
# nothing below needs more than a POSIX shell, so any other Node image works
# too (node:22-slim, node:20-alpine, a mirror of them). No step reads a
# distribution's package index, so the build works wherever npm's registry is
# reachable.
ARG NODE_IMAGE=node:24-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: no dependency needs an install script (ssh2's optional native build is for SSH endpoints seamark does not use).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.ui.json ./
COPY src ./src
# The same build as a checkout's (npm run build): the server, the operator page's modules, its HTML, CSS and icon.
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
# The user and group are written into the files directly (no adduser/useradd:
# Alpine and Debian name them differently). Port 53 needs no file capability:
# inside its own network namespace Docker lets any user bind ports from 0
# (net.ipv4.ip_unprivileged_port_start=0); on the host network see the README.
RUN echo 'seamark:x:10053:10053:seamark:/data:/sbin/nologin' >> /etc/passwd \
 && echo 'seamark:x:10053:' >> /etc/group \
 && mkdir -p /data \
 && chown 10053:10053 /data
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
COPY config/seamark.example.yaml ./config/
# `seamark` on PATH, as an npm install gives it: `docker exec <container> seamark records list`.
RUN chmod 755 dist/src/main.js && ln -s /app/dist/src/main.js /usr/local/bin/seamark
ENV NODE_ENV=production \
    SEAMARK_DNS=0.0.0.0:53 \
    SEAMARK_HTTP=127.0.0.1:8080 \
    SEAMARK_DATA_DIR=/data
VOLUME /data
EXPOSE 53/udp 53/tcp 8080/tcp
# The socket is reachable through its group: run with --group-add <gid of /var/run/docker.sock>.
USER 10053:10053
# Asks the API inside the container, so it works whatever SEAMARK_HTTP's address is, as long as its port is 8080.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself: docker stop ends it within a second with status 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/src/main.js"]
