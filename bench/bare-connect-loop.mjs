/**
 * The machine's ceiling for the benchmark, not a scanner: the least a Node program can do per target
 * and still verify an open Redis — connect, send CLIENT SETNAME + INFO in one packet (what lockdown sends),
 * read until INFO's bulk reply is complete, close. No deadline, no allow-list, no parsing beyond the
 * RESP length, no storage, no output but a count. Run by bench/redis-vs-nmap.ts on the same targets.
 *
 * Usage: node bench/bare-connect-loop.mjs <first-address> <count> <concurrency>   (IPv4, consecutive)
 */
import net from 'node:net';

const [first, countArg, concurrencyArg] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concurrencyArg);
const base = first.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const REQUEST = Buffer.from('*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$4\r\nbare\r\n*1\r\n$4\r\nINFO\r\n');

let next = 0;
let finished = 0;
let verified = 0;

function address(i) {
  const n = base + i;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function probeNext() {
  if (next >= count) return;
  const socket = net.connect({ host: address(next++), port: 6379 });
  let reply = Buffer.alloc(0);
  socket.on('connect', () => socket.write(REQUEST));
  socket.on('data', (chunk) => {
    reply = reply.length === 0 ? chunk : Buffer.concat([reply, chunk]);
    // +OK\r\n then $<len>\r\n<INFO>\r\n
    const header = reply.indexOf('\r\n$');
    const eol = header === -1 ? -1 : reply.indexOf('\r\n', header + 2);
    if (eol === -1) return;
    const length = Number(reply.subarray(header + 3, eol).toString('latin1'));
    if (reply.length >= eol + 2 + length + 2) {
      if (reply.includes('redis_version:')) verified++;
      socket.destroy();
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    finished++;
    if (finished === count) process.stdout.write(`${JSON.stringify({ verified })}\n`);
    else probeNext();
  });
}

for (let i = 0; i < Math.min(concurrency, count); i++) probeNext();
