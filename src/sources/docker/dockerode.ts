// dockerode, loaded without the packages it requires at start for features
// seamark never calls: ssh:// endpoints (ssh2, with a native addon and a
// 16 MB asm.js buffer), BuildKit sessions (gRPC and protobuf) and image
// builds (tar). They are 160 of the 210 modules dockerode loads, and about
// 5 MB resident on every host (`npm run bench`). Each is put in the CommonJS
// module cache as a stand-in that throws if anything calls it.
import { Module } from 'node:module';
import { dirname } from 'node:path';
import type Docker from 'dockerode';
import { requireCommonJs } from '../../lib/commonjs.js';

/** The packages left out, by the package that requires them. */
const UNUSED: ReadonlyArray<readonly [requiredBy: string, packages: readonly string[]]> = [
  ['docker-modem', ['ssh2']],
  ['dockerode', ['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'tar-fs']],
];

let loaded: typeof Docker | undefined;

export function loadDockerode(): typeof Docker {
  if (loaded !== undefined) return loaded;
  const from = { dockerode: requireCommonJs.resolve('dockerode') } as Record<string, string>;
  from['docker-modem'] = requireCommonJs.resolve('docker-modem', { paths: [dirname(from.dockerode as string)] });
  for (const [requiredBy, packages] of UNUSED) {
    for (const name of packages) {
      let file: string;
      try {
        file = requireCommonJs.resolve(name, { paths: [dirname(from[requiredBy] as string)] });
      } catch {
        continue; // a later dockerode that no longer depends on it
      }
      if (requireCommonJs.cache[file] !== undefined) continue;
      const module = new Module(file);
      module.filename = file;
      module.exports = standIn(name);
      module.loaded = true;
      requireCommonJs.cache[file] = module;
    }
  }
  loaded = requireCommonJs('dockerode') as typeof Docker;
  return loaded;
}

/** Any property of it is another stand-in; calling or constructing one throws. */
function standIn(name: string): unknown {
  const fail = (): never => {
    throw new Error(`${name} is not loaded: seamark does not use the dockerode feature that needs it`);
  };
  return new Proxy(fail, {
    get: (_target, key) => (key === 'then' || typeof key === 'symbol' ? undefined : standIn(`${name}.${key}`)),
    construct: fail,
  });
}
