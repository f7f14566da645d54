// Reads the header of a native module (.node): its format (ELF, Mach-O, PE), its architecture (x64,
// arm64, arm), whether it is a shared library, and for ELF the C library it links (glibc or musl, from
// its DT_NEEDED entries) and, for 32-bit ARM, whether it uses the hard-float ABI. Pure: bytes in, facts
// out; used by scripts/package.ts (before packaging) and the package test (on every built .vsix).

export interface BinaryFacts {
  format: 'elf' | 'macho' | 'pe' | 'unknown';
  /** x64, arm64, arm, ia32, or the raw machine number. */
  arch: string;
  /** A shared library (ELF ET_DYN, Mach-O dylib/bundle, PE DLL): what Node can load. */
  library: boolean;
  bits?: 32 | 64;
  libc?: 'glibc' | 'musl' | 'unknown';
  hardFloat?: boolean;
  needed?: string[];
}

const ELF_MACHINE: Record<number, string> = { 0x3e: 'x64', 0xb7: 'arm64', 0x28: 'arm', 0x03: 'ia32' };
const MACHO_CPU: Record<number, string> = { 0x01000007: 'x64', 0x0100000c: 'arm64', 0x0000000c: 'arm', 0x00000007: 'ia32' };
const PE_MACHINE: Record<number, string> = { 0x8664: 'x64', 0xaa64: 'arm64', 0x01c4: 'arm', 0x014c: 'ia32' };

export function binaryFacts(input: Uint8Array): BinaryFacts {
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (b.length >= 64 && b.readUInt32BE(0) === 0x7f454c46) return elf(b);
  if (b.length >= 32 && [0xfeedfacf, 0xfeedface].includes(b.readUInt32LE(0))) return macho(b);
  if (b.length >= 64 && b.toString('latin1', 0, 2) === 'MZ') return pe(b);
  return { format: 'unknown', arch: 'unknown', library: false };
}

function elf(b: Buffer): BinaryFacts {
  const bits: 32 | 64 = b[4] === 2 ? 64 : 32;
  if (b[5] !== 1) throw new Error('big-endian ELF is not expected');
  const u16 = (o: number) => b.readUInt16LE(o);
  const u32 = (o: number) => b.readUInt32LE(o);
  const word = (o: number) => (bits === 64 ? Number(b.readBigUInt64LE(o)) : u32(o));
  const type = u16(16);
  const machine = u16(18);
  const flags = u32(bits === 64 ? 48 : 36);
  const phoff = word(bits === 64 ? 32 : 28);
  const phentsize = u16(bits === 64 ? 54 : 42);
  const phnum = u16(bits === 64 ? 56 : 44);
  const segments: { type: number; offset: number; vaddr: number; filesz: number }[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    const p = bits === 64
      ? { type: u32(o), offset: word(o + 8), vaddr: word(o + 16), filesz: word(o + 32) }
      : { type: u32(o), offset: u32(o + 4), vaddr: u32(o + 8), filesz: u32(o + 16) };
    segments.push(p);
  }
  // DT_NEEDED names live in the dynamic string table (DT_STRTAB, a virtual address: map it through PT_LOAD).
  const dynamic = segments.find((s) => s.type === 2);
  const needed: string[] = [];
  if (dynamic) {
    const entries: [number, number][] = [];
    const size = bits === 64 ? 16 : 8;
    for (let o = dynamic.offset; o + size <= dynamic.offset + dynamic.filesz; o += size) {
      const tag = word(o);
      if (tag === 0) break;
      entries.push([tag, word(o + size / 2)]);
    }
    const strtab = entries.find(([t]) => t === 5)?.[1];
    const load = strtab === undefined ? undefined : segments.find((s) => s.type === 1 && strtab >= s.vaddr && strtab < s.vaddr + s.filesz);
    if (strtab !== undefined && load) {
      const base = strtab - load.vaddr + load.offset;
      for (const [t, v] of entries) if (t === 1) needed.push(b.toString('latin1', base + v, b.indexOf(0, base + v)));
    }
  }
  // glibc's C library is libc.so.6; musl's is linked as plain libc.so (or libc.musl-<arch>.so.1).
  const libc = needed.includes('libc.so.6') ? 'glibc' : needed.some((n) => /^(libc\.so|libc\.musl-.*|ld-musl-.*)$/.test(n)) ? 'musl' : 'unknown';
  const facts: BinaryFacts = { format: 'elf', bits, arch: ELF_MACHINE[machine] ?? `machine-0x${machine.toString(16)}`, library: type === 3, libc, needed };
  // EF_ARM_ABI_FLOAT_HARD: the gnueabihf ABI.
  if (machine === 0x28) facts.hardFloat = (flags & 0x400) !== 0;
  return facts;
}

function macho(b: Buffer): BinaryFacts {
  const cpu = b.readUInt32LE(4);
  const filetype = b.readUInt32LE(12);
  // MH_DYLIB (6) or MH_BUNDLE (8): what Node can dlopen.
  return { format: 'macho', bits: b.readUInt32LE(0) === 0xfeedfacf ? 64 : 32, arch: MACHO_CPU[cpu] ?? `cpu-0x${cpu.toString(16)}`, library: filetype === 6 || filetype === 8 };
}

function pe(b: Buffer): BinaryFacts {
  const at = b.readUInt32LE(0x3c);
  if (b.toString('latin1', at, at + 4) !== 'PE\0\0') return { format: 'unknown', arch: 'unknown', library: false };
  const machine = b.readUInt16LE(at + 4);
  const characteristics = b.readUInt16LE(at + 22);
  const magic = b.readUInt16LE(at + 24);
  // IMAGE_FILE_DLL (0x2000); optional header magic 0x20b is PE32+ (64-bit).
  return { format: 'pe', bits: magic === 0x20b ? 64 : 32, arch: PE_MACHINE[machine] ?? `machine-0x${machine.toString(16)}`, library: (characteristics & 0x2000) !== 0 };
}

/**
 * The VS Code target platforms a package is built for, each with the `@napi-rs/keyring-<triple>`
 * package that holds its binary and what that binary's header must say.
 */
export interface TargetBinary {
  triple: string;
  format: BinaryFacts['format'];
  arch: string;
  libc?: 'glibc' | 'musl';
  hardFloat?: boolean;
}

export const TARGETS: Record<string, TargetBinary> = {
  'win32-x64': { triple: 'win32-x64-msvc', format: 'pe', arch: 'x64' },
  'win32-arm64': { triple: 'win32-arm64-msvc', format: 'pe', arch: 'arm64' },
  'darwin-x64': { triple: 'darwin-x64', format: 'macho', arch: 'x64' },
  'darwin-arm64': { triple: 'darwin-arm64', format: 'macho', arch: 'arm64' },
  'linux-x64': { triple: 'linux-x64-gnu', format: 'elf', arch: 'x64', libc: 'glibc' },
  'linux-arm64': { triple: 'linux-arm64-gnu', format: 'elf', arch: 'arm64', libc: 'glibc' },
  'linux-armhf': { triple: 'linux-arm-gnueabihf', format: 'elf', arch: 'arm', libc: 'glibc', hardFloat: true },
  'alpine-x64': { triple: 'linux-x64-musl', format: 'elf', arch: 'x64', libc: 'musl' },
  'alpine-arm64': { triple: 'linux-arm64-musl', format: 'elf', arch: 'arm64', libc: 'musl' },
};

/** What is wrong with `facts` for `target` (empty when the binary fits it). Pure. */
export function mismatches(facts: BinaryFacts, target: string): string[] {
  const want = TARGETS[target];
  if (!want) return [`unknown target ${target}`];
  const out: string[] = [];
  if (facts.format !== want.format) out.push(`format ${facts.format}, expected ${want.format}`);
  if (facts.arch !== want.arch) out.push(`architecture ${facts.arch}, expected ${want.arch}`);
  if (!facts.library) out.push('not a shared library');
  if (want.libc && facts.libc !== want.libc) out.push(`C library ${facts.libc}, expected ${want.libc}`);
  if (want.hardFloat !== undefined && facts.hardFloat !== want.hardFloat) out.push(`hard-float ABI ${facts.hardFloat}, expected ${want.hardFloat}`);
  return out;
}
