// The Node floor of the benchmark: a bare dgram server that answers every
// query with a copy of one fixed reply (the query's ID written in). Whatever
// seamark spends per query beyond this row is seamark's own.
//
//   node dist/test/bench/floor.js <port>
import { createSocket } from 'node:dgram';

const port = Number(process.argv[2]);
// host-0.docker A 10.0.0.0, AA set: the size and shape of a typical zone answer.
const REPLY = Buffer.from(
  '0000' + '8500' + '0001' + '0001' + '0000' + '0000' + '06686f73742d3006646f636b657200' + '0001' + '0001' + 'c00c' + '0001' + '0001' + '0000001e' + '0004' + '0a000000',
  'hex',
);
const socket = createSocket('udp4');
socket.on('message', (message, remote) => {
  const reply = Buffer.allocUnsafe(REPLY.length);
  REPLY.copy(reply);
  reply[0] = message[0] as number;
  reply[1] = message[1] as number;
  socket.send(reply, remote.port, remote.address);
});
socket.bind(port, '127.0.0.1');
