// What to do about a permission error, said with it: the errors an operator meets first (the Docker socket,
// port 53) name their fix.

/** The error's message with what to do about it, when seamark knows. */
export function withHint(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = permissionHint(error);
  return hint === undefined ? message : `${message} (${hint})`;
}

/** What to do about a refused Docker socket or a port below 1024; undefined for any other error. */
export function permissionHint(error: unknown): string | undefined {
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure?.code !== 'EACCES' && failure?.code !== 'EPERM') return undefined;
  if (failure.syscall === 'connect' && typeof failure.address === 'string' && failure.address.startsWith('/')) {
    return (
      `seamark's user may not open the Docker socket ${failure.address}: add the user to the socket's group ` +
      `(sudo usermod -aG docker <user>, then log in again; the systemd unit has SupplementaryGroups=docker), ` +
      `or in a container run with --group-add $(stat -c %g ${failure.address})`
    );
  }
  if ((failure.syscall === 'bind' || failure.syscall === 'listen') && typeof failure.port === 'number' && failure.port < 1024) {
    return (
      `ports below 1024 need root or the CAP_NET_BIND_SERVICE capability: under systemd AmbientCapabilities=CAP_NET_BIND_SERVICE ` +
      `(the shipped unit has it), in a container the default capabilities include it, by hand sudo setcap cap_net_bind_service=+ep "$(command -v node)"; ` +
      `or listen on a port above 1023 (--dns 127.0.0.1:8053) and let Docker or a resolver forward port 53 to it`
    );
  }
  return undefined;
}
