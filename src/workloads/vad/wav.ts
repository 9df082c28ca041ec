/**
 * WAV (RIFF/WAVE) files to mono samples, in plain arithmetic, for the voice-activity pipeline.
 *
 * Every volunteer and the Node reference decode the file's own bytes with this code, so they all
 * hand the model the same numbers. The bytes come from a requester nobody trusts: every size read
 * from the file is checked against the bytes really there before it is used, and limits bound
 * what one file can make a volunteer allocate or compute.
 *
 * Supported: integer PCM of 8 (unsigned), 16, 24 and 32 bits, IEEE float of 32 and 64 bits, and
 * WAVE_FORMAT_EXTENSIBLE carrying either; any number of channels up to WAV_LIMITS.maxChannels,
 * averaged into one. Compressed encodings (A-law, µ-law, ADPCM, MP3 in WAV) are refused with the
 * command that converts them.
 */
import { LIMITS } from '../../protocol/limits.ts';
import { formatBytes } from '../../core/format.ts';

/** What one WAV file may be before it is decoded. */
export const WAV_LIMITS = {
  /** The protocol's per-tensor limit (128 MiB): no file bigger than one tensor may be. */
  maxBytes: LIMITS.maxTensorBytes,
  /**
   * Ten minutes, unless the pipeline's decode-wav stage says otherwise (up to the protocol's
   * PIPELINE_LIMITS.maxAudioSeconds): a file is one item, and one item must fit within one lease.
   */
  defaultMaxSeconds: 600,
  /** Below 8 kHz there is no speech band left to detect (telephone audio is 8 kHz). */
  minSampleRateHz: 8000,
  /** The highest rate audio hardware records at; anything above is a corrupt header. */
  maxSampleRateHz: 384_000,
  /** 7.1 surround; more is not a recording of speech. */
  maxChannels: 8,
} as const;

/** A WAV file that cannot be decoded; the message names the file and what to do. */
export class WavError extends Error {
  override readonly name = 'WavError';
}

export type WavEncoding = 'pcm-u8' | 'pcm-s16' | 'pcm-s24' | 'pcm-s32' | 'float32' | 'float64';

export interface WavAudio {
  readonly sampleRateHz: number;
  /** Channels in the file (the samples below are their mean). */
  readonly channels: number;
  readonly encoding: WavEncoding;
  /** Samples per channel. */
  readonly frames: number;
  /** frames / sampleRateHz. */
  readonly durationS: number;
  /** The mean of the channels, full scale = ±1 (floats are passed through unscaled). */
  readonly mono: Float32Array;
}

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Names of compressed formats people meet, for the error message. */
const KNOWN_FORMATS: Readonly<Record<number, string>> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'µ-law',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0055: 'MP3',
};

/**
 * Bytes 2..15 of the KSDATAFORMAT_SUBTYPE_* GUIDs (…-0000-0010-8000-00AA00389B71); bytes 0..1
 * hold the plain format code (1 = PCM, 3 = float).
 */
const EXTENSIBLE_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

const CONVERT_HINT = 'convert it to 16-bit PCM WAV (e.g. `sox in.wav -e signed-integer -b 16 out.wav`)';

interface Format {
  readonly code: number;
  readonly channels: number;
  readonly sampleRateHz: number;
  readonly blockAlign: number;
  readonly bitsPerSample: number;
}

/** Decodes a whole WAV file; `fileName` is only for messages. Throws WavError. */
export function parseWav(bytes: Uint8Array, fileName: string, maxSeconds: number = WAV_LIMITS.defaultMaxSeconds): WavAudio {
  const fail = (what: string): never => {
    throw new WavError(`"${fileName}" ${what}`);
  };
  if (bytes.byteLength > WAV_LIMITS.maxBytes) {
    fail(`is ${formatBytes(bytes.byteLength)}, over the limit of ${formatBytes(WAV_LIMITS.maxBytes)} per audio file: split it into shorter files.`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || fourcc(bytes, 8) !== 'WAVE' || (fourcc(bytes, 0) !== 'RIFF' && fourcc(bytes, 0) !== 'RIFX' && fourcc(bytes, 0) !== 'RF64')) {
    fail(`is not a WAV file (no RIFF/WAVE header): choose a .wav file, or ${CONVERT_HINT}.`);
  }
  if (fourcc(bytes, 0) !== 'RIFF') {
    // RIFX is big-endian WAV; RF64 is the 64-bit-size variant for files over 4 GB. Both are rare.
    fail(`is a ${fourcc(bytes, 0)} file, which is not supported: ${CONVERT_HINT}.`);
  }

  // The RIFF size field is not trusted: streaming writers leave it at 0 or 0xFFFFFFFF. The chunk
  // walk is bounded by the bytes actually present instead.
  let format: Format | null = null;
  let data: { offset: number; size: number } | null = null;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = fourcc(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    const left = bytes.byteLength - body;
    if (size > left) {
      fail(`is truncated or corrupt: its "${id.trim()}" chunk claims ${size} bytes but only ${left} follow. Re-export the file.`);
    }
    if (id === 'fmt ') {
      if (format) fail('has two "fmt" chunks: the file is corrupt. Re-export it.');
      format = parseFormat(view, body, size, fail);
    } else if (id === 'data') {
      if (data) fail('has two "data" chunks, which WAV readers disagree on: re-export the file.');
      data = { offset: body, size };
    }
    // Chunks are padded to an even length; the pad byte may be missing at the very end.
    offset = body + size + (size & 1);
  }
  if (!format) return fail(`has no "fmt" chunk, so its encoding is unknown: re-export it as WAV, or ${CONVERT_HINT}.`);
  if (!data) return fail('has no "data" chunk (no audio): re-export the file.');

  const encoding = encodingOf(format, fail);
  const frames = Math.floor(data.size / format.blockAlign);
  if (frames === 0) fail('holds no audio (its data chunk is empty): choose a recording with sound in it.');
  const durationS = frames / format.sampleRateHz;
  if (durationS > maxSeconds) {
    fail(
      `is ${durationS.toFixed(1)} s long, over the limit of ${maxSeconds} s per file: split it (e.g. \`sox in.wav part.wav trim 0 ${maxSeconds} : newfile : restart\`).`,
    );
  }
  // A trailing partial frame (fewer bytes than one sample of every channel) is ignored.
  const mono = downmix(view, data.offset, frames, format.channels, encoding);
  for (let i = 0; i < mono.length; i++) {
    if (!Number.isFinite(mono[i]))
      fail(`has a sample that is not a number (NaN or infinity) at ${(i / format.sampleRateHz).toFixed(3)} s: the file is corrupt.`);
  }
  return { sampleRateHz: format.sampleRateHz, channels: format.channels, encoding, frames, durationS, mono };
}

function parseFormat(view: DataView, at: number, size: number, fail: (what: string) => never): Format {
  if (size < 16) fail(`has a "fmt" chunk of ${size} bytes, too short to describe the audio: the file is corrupt.`);
  let code = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRateHz = view.getUint32(at + 4, true);
  // at + 8 is the byte rate: derived from the rest, and wrong in some writers' output, so unread.
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  if (code === FORMAT_EXTENSIBLE) {
    if (size < 40) fail(`says WAVE_FORMAT_EXTENSIBLE but its "fmt" chunk is ${size} bytes, not 40: the file is corrupt.`);
    const guid = new Uint8Array(view.buffer, view.byteOffset + at + 24, 16);
    if (!EXTENSIBLE_GUID_TAIL.every((b, i) => guid[i + 2] === b)) {
      fail(`uses a WAVE_FORMAT_EXTENSIBLE sub-format that is not PCM or float: ${CONVERT_HINT}.`);
    }
    code = view.getUint16(at + 24, true);
  }
  if (channels === 0) fail('says it has 0 channels: the file is corrupt. Re-export it.');
  if (channels > WAV_LIMITS.maxChannels)
    fail(`has ${channels} channels, over the limit of ${WAV_LIMITS.maxChannels}: mix it down (e.g. \`sox in.wav -c 1 out.wav\`).`);
  if (sampleRateHz < WAV_LIMITS.minSampleRateHz || sampleRateHz > WAV_LIMITS.maxSampleRateHz) {
    fail(
      `says its sample rate is ${sampleRateHz} Hz, outside ${WAV_LIMITS.minSampleRateHz}–${WAV_LIMITS.maxSampleRateHz} Hz: the header is corrupt or the recording unusable for speech. Re-export it at 16000 Hz.`,
    );
  }
  return { code, channels, sampleRateHz, blockAlign, bitsPerSample };
}

function encodingOf(f: Format, fail: (what: string) => never): WavEncoding {
  let encoding: WavEncoding | null = null;
  if (f.code === FORMAT_PCM) {
    encoding =
      f.bitsPerSample === 8 ? 'pcm-u8' : f.bitsPerSample === 16 ? 'pcm-s16' : f.bitsPerSample === 24 ? 'pcm-s24' : f.bitsPerSample === 32 ? 'pcm-s32' : null;
    if (!encoding) fail(`is ${f.bitsPerSample}-bit integer PCM, which is not supported (8, 16, 24 or 32 bits are): ${CONVERT_HINT}.`);
  } else if (f.code === FORMAT_FLOAT) {
    encoding = f.bitsPerSample === 32 ? 'float32' : f.bitsPerSample === 64 ? 'float64' : null;
    if (!encoding) fail(`is ${f.bitsPerSample}-bit float, which is not supported (32 or 64 bits are): ${CONVERT_HINT}.`);
  } else {
    const name = KNOWN_FORMATS[f.code] ?? `format 0x${f.code.toString(16).padStart(4, '0')}`;
    fail(`is encoded as ${name}, which is not supported: ${CONVERT_HINT}.`);
  }
  const bytesPerSample = f.bitsPerSample / 8;
  if (f.blockAlign !== f.channels * bytesPerSample) {
    fail(
      `says each frame is ${f.blockAlign} bytes, but ${f.channels} channel(s) of ${f.bitsPerSample} bits need ${f.channels * bytesPerSample}: the file is corrupt. Re-export it.`,
    );
  }
  return encoding as WavEncoding;
}

/** Reads every frame and averages its channels (in float64, rounded once to float32). */
function downmix(view: DataView, at: number, frames: number, channels: number, encoding: WavEncoding): Float32Array {
  const read = sampleReader(view, encoding);
  const width = bytesOf(encoding);
  const out = new Float32Array(frames);
  let p = at;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, p += width) sum += read(p);
    out[i] = channels === 1 ? sum : sum / channels;
  }
  return out;
}

function bytesOf(encoding: WavEncoding): number {
  switch (encoding) {
    case 'pcm-u8':
      return 1;
    case 'pcm-s16':
      return 2;
    case 'pcm-s24':
      return 3;
    case 'pcm-s32':
    case 'float32':
      return 4;
    case 'float64':
      return 8;
  }
}

/** One sample at a byte offset, scaled so that integer full scale is ±1 (exact powers of two). */
function sampleReader(view: DataView, encoding: WavEncoding): (at: number) => number {
  switch (encoding) {
    case 'pcm-u8':
      return (at) => (view.getUint8(at) - 128) / 128;
    case 'pcm-s16':
      return (at) => view.getInt16(at, true) / 32768;
    case 'pcm-s24':
      return (at) => {
        // Little-endian 24-bit two's complement, sign taken from the top byte.
        const v = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16);
        return v / 8388608;
      };
    case 'pcm-s32':
      return (at) => view.getInt32(at, true) / 2147483648;
    case 'float32':
      return (at) => view.getFloat32(at, true);
    case 'float64':
      return (at) => view.getFloat64(at, true);
  }
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
}
