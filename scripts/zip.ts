// Reads the entries of a zip file (a .vsix) from its central directory: name → { bytes, compressedSize }.
// Stored and deflated entries only (what vsce writes). Pure: bytes in, entries out.
import { inflateRawSync } from 'node:zlib';

export function readZip(zip: Buffer): Map<string, { bytes: Buffer; compressedSize: number }> {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let o = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, { bytes: Buffer; compressedSize: number }>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(o) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = zip.readUInt16LE(o + 10);
    const compressedSize = zip.readUInt32LE(o + 20);
    const size = zip.readUInt32LE(o + 24);
    const nameLength = zip.readUInt16LE(o + 28);
    const extraLength = zip.readUInt16LE(o + 30);
    const commentLength = zip.readUInt16LE(o + 32);
    const local = zip.readUInt32LE(o + 42);
    const name = zip.toString('utf8', o + 46, o + 46 + nameLength);
    const data = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(data, data + compressedSize);
    if (method !== 0 && method !== 8) throw new Error(`${name}: compression method ${method} is not supported`);
    const bytes = method === 8 ? inflateRawSync(raw) : Buffer.from(raw);
    if (bytes.length !== size) throw new Error(`${name}: ${bytes.length} bytes inflated, ${size} recorded`);
    entries.set(name, { bytes, compressedSize });
    o += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
