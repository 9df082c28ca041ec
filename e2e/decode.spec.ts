/**
 * Images decode to the same numbers everywhere: PNGs whose gAMA / cHRM chunks make Chromium
 * colour-manage them go through the dashboard's real decode path (window.__quorum.imageTensor,
 * test builds only) and come out as the values stored in the file, and a resized image equals
 * the project's own resize computed here in Node.
 */
import zlib from 'node:zlib';
import type { Page } from '@playwright/test';
import type { ImagePreprocessing } from '../src/workloads/inputs/imageTensor.ts';
import { resizeRgba } from '../src/workloads/inputs/resizeImage.ts';
import { expect, test } from './support/browser.ts';

interface Png {
  readonly width: number;
  readonly height: number;
  /** RGBA, row-major; alpha is written only when `alpha` is set. */
  readonly rgba: Uint8Array;
  readonly alpha: boolean;
  /** Ancillary chunks placed before IDAT, e.g. gAMA. */
  readonly chunks: readonly (readonly [string, Buffer])[];
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

const u32s = (...values: number[]): Buffer => {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeUInt32BE(v, i * 4));
  return b;
};

/** An 8-bit RGB(A) PNG with filter type 0 (None) on every row, so its stored values are `rgba`. */
function encodePng(p: Png): Buffer {
  const channels = p.alpha ? 4 : 3;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(p.width, 0);
  ihdr.writeUInt32BE(p.height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = p.alpha ? 6 : 2; // colour type: RGBA or RGB
  const raw = Buffer.alloc(p.height * (1 + p.width * channels));
  for (let y = 0; y < p.height; y++) {
    const row = y * (1 + p.width * channels);
    raw[row] = 0;
    for (let x = 0; x < p.width; x++) {
      for (let k = 0; k < channels; k++) raw[row + 1 + x * channels + k] = p.rgba[(y * p.width + x) * 4 + k]!;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    ...p.chunks.map(([type, data]) => chunk(type, data)),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A w×h image whose channels sweep 0..255 (so a gamma curve moves most of them), opaque. */
function sweep(width: number, height: number): Uint8Array {
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba[i * 4] = (i * 7) % 256;
    rgba[i * 4 + 1] = (255 - i * 3) & 255;
    rgba[i * 4 + 2] = (i * 37 + 11) % 256;
    rgba[i * 4 + 3] = 255;
  }
  return rgba;
}

/** gAMA of 1/1.8: the chunk that made Chromium shift pixels by up to 9/255. */
const GAMA = ['gAMA', u32s(55_556)] as const;
/** cHRM with Adobe RGB (1998) primaries and a D65 white point: a wide gamut to convert from. */
const CHRM = ['cHRM', u32s(31_270, 32_900, 64_000, 33_000, 21_000, 71_000, 15_000, 6_000)] as const;

const rawHwc = (width: number, height: number): ImagePreprocessing => ({ width, height, layout: 'HWC', channels: 'RGB', normalisation: 'raw' });
/** The RGB values of RGBA pixels, in HWC order: what a raw HWC RGB tensor of them holds. */
const rgbOf = (rgba: ArrayLike<number>): number[] => Array.from(rgba).filter((_, i) => i % 4 !== 3);

async function tensorInPage(page: Page, png: Buffer, name: string, p: ImagePreprocessing): Promise<number[]> {
  return page.evaluate(([b64, n, pre]) => window.__quorum!.imageTensor(b64, n, pre), [png.toString('base64'), name, p] as const);
}

/** What Chromium's default decode (colour-managed) makes of the PNG: the shift the fix removes. */
async function colourManagedShift(page: Page, png: Buffer, stored: Uint8Array): Promise<number> {
  const pixels = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    const ctx = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    return Array.from(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data);
  }, png.toString('base64'));
  return Math.max(...pixels.map((v, i) => Math.abs(v - stored[i]!)));
}

test.describe('image decoding for inference @decode', () => {
  test('a PNG with gAMA (and cHRM) decodes to the values stored in the file, without colour management @decode', async ({ openRoles }) => {
    const [req] = await openRoles(['requester']);
    const page = req!.page;
    await page.waitForFunction(() => window.__quorum !== undefined);
    const W = 16;
    const H = 12;
    const rgba = sweep(W, H);
    const cases = [
      { name: 'gama.png', png: encodePng({ width: W, height: H, rgba, alpha: false, chunks: [GAMA] }) },
      { name: 'gama-chrm.png', png: encodePng({ width: W, height: H, rgba, alpha: false, chunks: [GAMA, CHRM] }) },
      { name: 'gama-rgba.png', png: encodePng({ width: W, height: H, rgba, alpha: true, chunks: [GAMA] }) },
    ];
    for (const c of cases) {
      // The fixture is worth something only if the browser's default decode does shift it.
      const shift = await colourManagedShift(page, c.png, rgba);
      console.log(`${c.name}: Chromium's colour-managed decode is off by up to ${shift}/255`);
      expect(shift, `${c.name}: the default decode colour-manages this PNG`).toBeGreaterThan(0);
      expect(await tensorInPage(page, c.png, c.name, rawHwc(W, H)), c.name).toEqual(rgbOf(rgba));
    }
  });

  test('a resized image equals the project resize computed in Node, also for a PNG with gAMA @decode', async ({ openRoles }) => {
    const [req] = await openRoles(['requester']);
    const page = req!.page;
    await page.waitForFunction(() => window.__quorum !== undefined);
    const W = 37;
    const H = 23;
    const rgba = sweep(W, H);
    const png = encodePng({ width: W, height: H, rgba, alpha: false, chunks: [GAMA] });
    // Down by a non-integer ratio, and up: the sizes a 192×48 recognizer line meets.
    for (const [w, h] of [
      [16, 9],
      [64, 48],
    ] as const) {
      const expected = rgbOf(resizeRgba(rgba, W, H, w, h));
      expect(await tensorInPage(page, png, 'line.png', rawHwc(w, h)), `${W}×${H} → ${w}×${h}`).toEqual(expected);
    }
  });
});
