'use strict';
// The wire types of a message's headers, which amqplib drops: it decodes a 64-bit integer ('l')
// into a plain number, like a 32-bit one ('I'), and a timestamp ('T') into
// { '!': 'timestamp', value: seconds }. Tests that check exact types (x-death's count is a
// signed 64-bit 'l', as RabbitMQ 3.10 writes it) call recordHeaderTypes(conn) once; from then on
// every message received on that connection carries msg.properties.headerTypes, the headers table
// decoded again with each value as { t: tag, v: value } (arrays and tables recursively).

const { parseFrame } = require('amqplib/lib/frame');

const FRAME_HEADER = 2;

// A field table's bytes -> { key: { t, v } }.
function decodeTable(buf) {
  const out = {};
  let off = 0;
  while (off < buf.length) {
    const klen = buf.readUInt8(off); off += 1;
    const key = buf.toString('utf8', off, off + klen); off += klen;
    const [val, next] = decodeValue(buf, off);
    out[key] = val;
    off = next;
  }
  return out;
}

// One tagged value at buf[off] -> [{ t, v }, offset after it].
function decodeValue(buf, off) {
  const t = String.fromCharCode(buf[off]); off += 1;
  let v;
  switch (t) {
    case 't': v = buf[off] !== 0; off += 1; break;
    case 'b': v = buf.readInt8(off); off += 1; break;
    case 'B': v = buf.readUInt8(off); off += 1; break;
    case 's': v = buf.readInt16BE(off); off += 2; break;
    case 'u': v = buf.readUInt16BE(off); off += 2; break;
    case 'I': v = buf.readInt32BE(off); off += 4; break;
    case 'i': v = buf.readUInt32BE(off); off += 4; break;
    case 'l': v = buf.readBigInt64BE(off); off += 8; break;
    case 'T': v = buf.readBigUInt64BE(off); off += 8; break;
    case 'f': v = buf.readFloatBE(off); off += 4; break;
    case 'd': v = buf.readDoubleBE(off); off += 8; break;
    case 'D': v = { places: buf[off], digits: buf.readUInt32BE(off + 1) }; off += 5; break;
    case 'S': case 'x': {
      const len = buf.readUInt32BE(off); off += 4;
      v = t === 'S' ? buf.toString('utf8', off, off + len) : buf.subarray(off, off + len);
      off += len;
      break;
    }
    case 'F': {
      const len = buf.readUInt32BE(off); off += 4;
      v = decodeTable(buf.subarray(off, off + len)); off += len;
      break;
    }
    case 'A': {
      const len = buf.readUInt32BE(off); off += 4;
      const end = off + len;
      v = [];
      while (off < end) {
        const [item, next] = decodeValue(buf, off);
        v.push(item);
        off = next;
      }
      break;
    }
    case 'V': v = null; break;
    default: throw new Error('unknown field type tag ' + JSON.stringify(t));
  }
  return [{ t, v }, off];
}

// The headers table of a content header frame's payload (class, weight, body size, flags,
// then the properties in order: content-type, content-encoding, headers, ...), or null.
function headersOfContentHeader(payload) {
  const flags = payload.readUInt16BE(12);
  let off = 14;
  if (!(flags & 0x2000)) return null;
  if (flags & 0x8000) off += 1 + payload.readUInt8(off);
  if (flags & 0x4000) off += 1 + payload.readUInt8(off);
  const len = payload.readUInt32BE(off);
  return decodeTable(payload.subarray(off + 4, off + 4 + len));
}

// Make every message received on `conn` (an amqplib ChannelModel) carry
// properties.headerTypes. It wraps the connection's frame reader: amqplib keeps the decoded
// properties object as message.properties, so a non-enumerable field on it travels along.
function recordHeaderTypes(conn) {
  const c = conn.connection;
  if (c.recvFrame.recordsTypes) return conn;
  const orig = c.recvFrame;
  const wrapped = function recvFrame() {
    const frame = parseFrame(this.rest);
    const out = orig.call(this);
    if (frame && frame.type === FRAME_HEADER && out && out.fields) {
      Object.defineProperty(out.fields, 'headerTypes', {
        value: headersOfContentHeader(frame.payload), enumerable: false,
      });
    }
    return out;
  };
  wrapped.recordsTypes = true;
  c.recvFrame = wrapped;
  return conn;
}

module.exports = { recordHeaderTypes, decodeTable };
