import { describe, expect, it } from 'vitest';
import { parseWav, WAV_LIMITS, WavError } from './wav.ts';

/** A chunk: four-character id, little-endian size, body, pad byte when odd. */
function chunk(id: string, body: Uint8Array, size = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set([...id].map((c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, size, true);
  out.set(body, 8);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface Fmt {
  code: number;
  channels: number;
  rate: number;
  bits: number;
  blockAlign?: number;
  /** WAVE_FORMAT_EXTENSIBLE carrying `code` as its sub-format (or this GUID's first bytes). */
  extensible?: boolean;
  guidTail?: readonly number[];
}

function fmtChunk(f: Fmt): Uint8Array {
  const body = new Uint8Array(f.extensible ? 40 : 16);
  const v = new DataView(body.buffer);
  const blockAlign = f.blockAlign ?? (f.channels * f.bits) / 8;
  v.setUint16(0, f.extensible ? 0xfffe : f.code, true);
  v.setUint16(2, f.channels, true);
  v.setUint32(4, f.rate, true);
  v.setUint32(8, f.rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, f.bits, true);
  if (f.extensible) {
    v.setUint16(16, 22, true);
    v.setUint16(18, f.bits, true);
    v.setUint32(20, 0, true);
    v.setUint16(24, f.code, true);
    body.set(f.guidTail ?? [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  return chunk('fmt ', body);
}

function riff(chunks: readonly Uint8Array[], riffSize?: number): Uint8Array {
  const body = concat(chunks);
  const head = new Uint8Array(12);
  head.set([...'RIFF'].map((c) => c.charCodeAt(0)));
  new DataView(head.buffer).setUint32(4, riffSize ?? body.length + 4, true);
  head.set(
    [...'WAVE'].map((c) => c.charCodeAt(0)),
    8,
  );
  return concat([head, body]);
}

/** Interleaved samples written as the format says. */
function pcm(bits: number, float: boolean, values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array((values.length * bits) / 8);
  const v = new DataView(bytes.buffer);
  values.forEach((x, i) => {
    const at = (i * bits) / 8;
    if (float && bits === 32) v.setFloat32(at, x, true);
    else if (float) v.setFloat64(at, x, true);
    else if (bits === 8) v.setUint8(at, x);
    else if (bits === 16) v.setInt16(at, x, true);
    else if (bits === 24) {
      v.setUint8(at, x & 0xff);
      v.setUint8(at + 1, (x >> 8) & 0xff);
      v.setUint8(at + 2, (x >> 16) & 0xff);
    } else v.setInt32(at, x, true);
  });
  return bytes;
}

function wav(f: Fmt, values: readonly number[]): Uint8Array {
  return riff([fmtChunk(f), chunk('data', pcm(f.bits, f.code === 3, values))]);
}

const mono = (bytes: Uint8Array, name = 'a.wav') => Array.from(parseWav(bytes, name).mono);

describe('[VAD-1] parseWav: encodings', () => {
  it('reads 16-bit PCM, full scale ±1', () => {
    const a = parseWav(wav({ code: 1, channels: 1, rate: 16000, bits: 16 }, [0, 16384, -32768, 32767]), 'a.wav');
    expect(a).toMatchObject({ sampleRateHz: 16000, channels: 1, encoding: 'pcm-s16', frames: 4, durationS: 4 / 16000 });
    expect(Array.from(a.mono)).toEqual([0, 0.5, -1, Math.fround(32767 / 32768)]);
  });

  it('reads 8-bit PCM as unsigned, 128 being silence', () => {
    expect(mono(wav({ code: 1, channels: 1, rate: 8000, bits: 8 }, [128, 0, 255, 192]))).toEqual([0, -1, Math.fround(127 / 128), 0.5]);
  });

  it('reads 24-bit PCM with its sign', () => {
    const values = [0, 0x7fffff, -0x800000, -1, 0x400000];
    expect(mono(wav({ code: 1, channels: 1, rate: 48000, bits: 24 }, values))).toEqual(values.map((x) => Math.fround(x / 8388608)));
  });

  it('reads 32-bit integer PCM', () => {
    expect(mono(wav({ code: 1, channels: 1, rate: 44100, bits: 32 }, [-2147483648, 1073741824, 0]))).toEqual([-1, 0.5, 0]);
  });

  it('reads 32- and 64-bit float as they are', () => {
    expect(mono(wav({ code: 3, channels: 1, rate: 16000, bits: 32 }, [0.25, -0.75, 1.5]))).toEqual([0.25, -0.75, 1.5]);
    const a = parseWav(wav({ code: 3, channels: 1, rate: 16000, bits: 64 }, [0.1, -0.2]), 'a.wav');
    expect(a.encoding).toBe('float64');
    expect(Array.from(a.mono)).toEqual([Math.fround(0.1), Math.fround(-0.2)]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE with a PCM or float sub-format', () => {
    const a = parseWav(wav({ code: 1, channels: 1, rate: 16000, bits: 24, extensible: true }, [0x400000]), 'a.wav');
    expect(a.encoding).toBe('pcm-s24');
    expect(Array.from(a.mono)).toEqual([0.5]);
    const f = parseWav(wav({ code: 3, channels: 1, rate: 16000, bits: 32, extensible: true }, [-0.5]), 'a.wav');
    expect(f.encoding).toBe('float32');
    expect(Array.from(f.mono)).toEqual([-0.5]);
  });

  it('mixes channels down to their mean', () => {
    // Frames (L, R): (1.0, 0.0), (0.5, -0.5), (-1, -0.5)
    const a = parseWav(wav({ code: 1, channels: 2, rate: 22050, bits: 16 }, [32767, 0, 16384, -16384, -32768, -16384]), 'a.wav');
    expect(a.channels).toBe(2);
    expect(a.frames).toBe(3);
    expect(Array.from(a.mono)).toEqual([Math.fround(32767 / 65536), 0, -0.75]);
    const six = parseWav(wav({ code: 3, channels: 6, rate: 48000, bits: 32 }, [0.6, 0.6, 0, 0, 0, 0]), 'a.wav');
    expect(Array.from(six.mono)).toEqual([Math.fround(0.2)]);
  });

  it('skips other chunks, odd-sized ones with their pad byte, and ignores a wrong RIFF size', () => {
    const f = { code: 1, channels: 1, rate: 16000, bits: 16 };
    const list = chunk('LIST', new Uint8Array([1, 2, 3])); // odd: padded to 4
    const bytes = riff([list, chunk('data', pcm(16, false, [16384])), fmtChunk(f)], 0xffffffff);
    expect(mono(bytes)).toEqual([0.5]);
  });

  it('ignores a trailing partial frame', () => {
    const data = concat([pcm(16, false, [16384, 16384, -16384]), new Uint8Array([7])]);
    expect(mono(riff([fmtChunk({ code: 1, channels: 1, rate: 16000, bits: 16 }), chunk('data', data)]))).toEqual([0.5, 0.5, -0.5]);
    expect(mono(riff([fmtChunk({ code: 1, channels: 2, rate: 16000, bits: 16 }), chunk('data', data)]))).toEqual([0.5]);
  });
});

describe('[VAD-1] parseWav: bad files name the file and say what to do', () => {
  const ok: Fmt = { code: 1, channels: 1, rate: 16000, bits: 16 };
  const fails = (bytes: Uint8Array, message: RegExp, maxSeconds?: number) => {
    let error: unknown;
    try {
      parseWav(bytes, 'take 1.wav', maxSeconds);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WavError);
    expect((error as Error).message).toContain('"take 1.wav"');
    expect((error as Error).message).toMatch(message);
  };

  it('refuses what is not a WAV file', () => {
    fails(
      Uint8Array.from('\x89PNG\r\n\x1a\n not audio at all', (c) => c.charCodeAt(0)),
      /not a WAV file.*\.wav/,
    );
    fails(new Uint8Array(0), /not a WAV file/);
    fails(new Uint8Array([0x52, 0x49, 0x46, 0x46]), /not a WAV file/);
  });

  it('refuses big-endian RIFX and 64-bit RF64 with the conversion to use', () => {
    const bytes = wav(ok, [0]);
    bytes.set([...'RIFX'].map((c) => c.charCodeAt(0)));
    fails(bytes, /RIFX.*not supported.*sox/);
    bytes.set([...'RF64'].map((c) => c.charCodeAt(0)));
    fails(bytes, /RF64.*not supported/);
  });

  it('refuses a chunk that claims more bytes than the file has', () => {
    fails(riff([fmtChunk(ok), chunk('data', pcm(16, false, [1, 2]), 1_000_000)]), /truncated or corrupt.*"data" chunk claims 1000000 bytes but only 4 follow/);
    fails(riff([chunk('LIST', new Uint8Array(4), 0xfffffff0), fmtChunk(ok), chunk('data', pcm(16, false, [1]))]), /"LIST" chunk claims/);
  });

  it('refuses a file without fmt or data, or with two of either', () => {
    fails(riff([chunk('data', pcm(16, false, [1]))]), /no "fmt" chunk/);
    fails(riff([fmtChunk(ok)]), /no "data" chunk/);
    fails(riff([fmtChunk(ok), fmtChunk(ok), chunk('data', pcm(16, false, [1]))]), /two "fmt" chunks/);
    fails(riff([fmtChunk(ok), chunk('data', pcm(16, false, [1])), chunk('data', pcm(16, false, [1]))]), /two "data" chunks/);
  });

  it('refuses a fmt chunk too short to read', () => {
    fails(riff([chunk('fmt ', new Uint8Array(14)), chunk('data', pcm(16, false, [1]))]), /"fmt" chunk of 14 bytes/);
    const ext = fmtChunk({ ...ok, extensible: true });
    fails(riff([chunk('fmt ', ext.subarray(8, 8 + 18)), chunk('data', pcm(16, false, [1]))]), /EXTENSIBLE.*18 bytes, not 40/);
  });

  it('refuses zero channels, too many channels and absurd sample rates', () => {
    fails(wav({ ...ok, channels: 0, blockAlign: 2 }, [1]), /0 channels/);
    fails(
      wav({ ...ok, channels: WAV_LIMITS.maxChannels + 1 }, new Array(WAV_LIMITS.maxChannels + 1).fill(0)),
      /9 channels, over the limit of 8.*sox in\.wav -c 1/,
    );
    fails(wav({ ...ok, rate: 1000 }, [1]), /1000 Hz, outside 8000–384000 Hz/);
    fails(wav({ ...ok, rate: 4_000_000_000 }, [1]), /4000000000 Hz/);
  });

  it('refuses compressed and unsupported encodings, naming them and the conversion', () => {
    fails(wav({ code: 6, channels: 1, rate: 8000, bits: 8 }, [1]), /encoded as A-law, which is not supported.*sox in\.wav -e signed-integer -b 16 out\.wav/);
    fails(wav({ code: 7, channels: 1, rate: 8000, bits: 8 }, [1]), /µ-law/);
    fails(wav({ code: 0x55, channels: 1, rate: 8000, bits: 8 }, [1]), /MP3/);
    fails(wav({ code: 0x1234, channels: 1, rate: 8000, bits: 8 }, [1]), /format 0x1234/);
    const twoBytes = chunk('data', new Uint8Array(2));
    fails(riff([fmtChunk({ code: 1, channels: 1, rate: 8000, bits: 12, blockAlign: 2 }), twoBytes]), /12-bit integer PCM/);
    fails(riff([fmtChunk({ code: 3, channels: 1, rate: 8000, bits: 16 }), twoBytes]), /16-bit float/);
    fails(wav({ ...ok, extensible: true, guidTail: new Array(14).fill(7) }, [1]), /sub-format that is not PCM or float/);
  });

  it('refuses a frame size that does not match the channels and bits', () => {
    fails(wav({ ...ok, blockAlign: 3 }, [1, 2]), /each frame is 3 bytes, but 1 channel\(s\) of 16 bits need 2/);
  });

  it('refuses a file with no audio', () => {
    fails(riff([fmtChunk(ok), chunk('data', new Uint8Array(0))]), /holds no audio/);
    fails(riff([fmtChunk({ ...ok, channels: 2 }), chunk('data', new Uint8Array(2))]), /holds no audio/);
  });

  it('refuses a recording over the duration limit, with the command that splits it', () => {
    const twoSeconds = wav({ ...ok, rate: 8000 }, new Array(16001).fill(0));
    fails(twoSeconds, /2\.0 s long, over the limit of 2 s per file.*trim 0 2/, 2);
    expect(parseWav(twoSeconds, 'a.wav').durationS).toBeCloseTo(2, 3);
  });

  it('refuses a file over the size limit before reading it', () => {
    const huge = new Uint8Array(WAV_LIMITS.maxBytes + 1);
    huge.set(wav(ok, [1]));
    fails(huge, /128\.0 MiB, over the limit of 128\.0 MiB per audio file/);
  });

  it('refuses NaN and infinite float samples', () => {
    fails(wav({ code: 3, channels: 1, rate: 16000, bits: 32 }, [0, 0, Number.NaN]), /not a number.*at 0\.000 s/);
    fails(wav({ code: 3, channels: 2, rate: 16000, bits: 64 }, [0, 0, Infinity, -Infinity]), /not a number/);
  });
});
