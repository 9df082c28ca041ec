/**
 * The OCR pipeline end to end in Node (onnxruntime-node, PaddleOCR's PP-OCRv4 models) on the
 * committed fixtures, and the `npm run workload -- ocr` command's handling of bad input.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { checkImageFile, decodeImageFile } from './decodeImageFile.ts';
import { ocrCommand, type OcrFileResult } from './ocrCommand.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURES = path.join(ROOT, 'e2e/fixtures/ocr');

interface Manifest {
  readonly lines: readonly { file: string; text: string; rotated: boolean }[];
  readonly documents: readonly { file: string; lines: string[] }[];
}
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as Manifest;

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ocr-'));

/** A PNG header (signature + IHDR) claiming the given size; nothing is decoded past it. */
function pngHeader(width: number, height: number): Buffer {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'ascii');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  return b;
}

describe('OCR reference run on the fixtures', () => {
  it('reads at least 95 % of the known lines exactly, documents in reading order', async () => {
    const items = [...manifest.lines.map((l) => ({ file: l.file, lines: [l.text] })), ...manifest.documents];
    expect(manifest.lines.length).toBeGreaterThanOrEqual(30);
    expect(manifest.documents.length).toBeGreaterThanOrEqual(3);
    const ms: number[] = [];
    const results = await ocrCommand(
      items.map((i) => path.join(FIXTURES, i.file)),
      { onFile: (_r, t) => ms.push(t) },
    );
    let exact = 0;
    let total = 0;
    const misses: string[] = [];
    items.forEach((item, i) => {
      const got = (results[i] as OcrFileResult).lines.map((l) => l.text);
      expect((results[i] as OcrFileResult).file).toBe(path.basename(item.file));
      // A line counts when some recognized line of its image reads exactly like it.
      const left = [...got];
      for (const text of item.lines) {
        total++;
        const k = left.indexOf(text);
        if (k >= 0) {
          exact++;
          left.splice(k, 1);
        } else {
          misses.push(`${item.file}: expected ${JSON.stringify(text)}, got ${JSON.stringify(got)}`);
        }
      }
    });
    const perImageMs = ms.reduce((a, b) => a + b, 0) / ms.length;
    console.log(
      `OCR fixtures: ${exact}/${total} lines exact (${((100 * exact) / total).toFixed(1)} %), ${perImageMs.toFixed(0)} ms per image\n${misses.join('\n')}`,
    );
    expect(exact / total).toBeGreaterThanOrEqual(0.95);

    // Reading order: in each document, the lines that were read come in the manifest's order.
    for (const doc of manifest.documents) {
      const got = (results.find((r) => r.file === path.basename(doc.file)) as OcrFileResult).lines.map((l) => l.text);
      const known = got.filter((t) => doc.lines.includes(t));
      expect(known).toEqual(doc.lines.filter((t) => known.includes(t)));
    }
    // Boxes are four integer points inside the image, clockwise from top-left.
    for (const r of results) {
      for (const l of r.lines) {
        const [tl, tr, br, bl] = l.box;
        expect(l.box.flat().every(Number.isInteger)).toBe(true);
        expect(tl[0]).toBeLessThan(tr[0]);
        expect(tl[1]).toBeLessThan(bl[1]);
        expect(br[0]).toBeGreaterThan(bl[0]);
      }
    }
  }, 120_000);

  it('gives the same answer twice (the reference is deterministic)', async () => {
    const file = path.join(FIXTURES, (manifest.documents[0] as { file: string }).file);
    const [a] = await ocrCommand([file]);
    const [b] = await ocrCommand([file]);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });
});

describe('image files in Node', () => {
  it('decodes JPEG as well as PNG, to the same RGBA layout', () => {
    const rgba = new Uint8Array(16 * 8 * 4).fill(255);
    const bytes = jpeg.encode({ width: 16, height: 8, data: rgba }, 95).data;
    const img = decodeImageFile(bytes, 'white.jpg');
    expect([img.width, img.height, img.rgba.length]).toEqual([16, 8, 16 * 8 * 4]);
    expect(img.rgba[0]).toBeGreaterThan(250);
    const png = new PNG({ width: 3, height: 2 });
    png.data.fill(7);
    const decoded = decodeImageFile(PNG.sync.write(png), 'grey.png');
    expect([decoded.width, decoded.height, decoded.rgba[0]]).toEqual([3, 2, 7]);
  });

  it('refuses files that are not images, damaged images and images over the pixel limit, naming them', () => {
    expect(() => checkImageFile(Buffer.from('hello, not an image'), '/x/notes.txt')).toThrow(/"notes.txt" is not a PNG or JPEG image/);
    expect(() => checkImageFile(pngHeader(8000, 6000), 'huge.png')).toThrow(/"huge.png" is 8000×6000 \(48.0 megapixels\), over the limit/);
    expect(() => checkImageFile(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0]), 'cut.jpg')).toThrow(/"cut.jpg" looks like a JPEG but has no image header/);
    expect(() => decodeImageFile(pngHeader(10, 10), 'broken.png')).toThrow(/could not decode "broken.png" as PNG/);
  });

  it('reads a JPEG of a fixture as it reads the PNG', async () => {
    const line = manifest.lines[1] as { file: string; text: string };
    const png = PNG.sync.read(fs.readFileSync(path.join(FIXTURES, line.file)));
    const file = path.join(tmp(), 'line.jpg');
    fs.writeFileSync(file, jpeg.encode({ width: png.width, height: png.height, data: png.data }, 92).data);
    const [result] = await ocrCommand([file]);
    expect(result?.lines.map((l) => l.text)).toEqual([line.text]);
  });

  it('reads a JPEG size from its start-of-frame header before decoding', () => {
    const bytes = jpeg.encode({ width: 40, height: 12, data: new Uint8Array(40 * 12 * 4) }, 80).data;
    expect(checkImageFile(bytes, 'a.jpg')).toEqual({ kind: 'jpeg', width: 40, height: 12 });
  });
});

describe('npm run workload -- ocr', () => {
  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/workload.ts'), ...args], { cwd: ROOT }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('prints a summary and, as its last line, the JSON answer per file', async () => {
    const file = path.join(FIXTURES, (manifest.lines[0] as { file: string }).file);
    const r = await run(['ocr', file]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^01-total-12-80\.png: 1 line\(s\) in \d+ ms$/);
    const answer = JSON.parse(lines[lines.length - 1] as string) as OcrFileResult[];
    expect(answer.map((a) => [a.file, a.lines.map((l) => l.text)])).toEqual([['01-total-12-80.png', ['Total 12.80']]]);
  }, 60_000);

  it('exits non-zero with a message naming the bad file, and runs nothing', async () => {
    const dir = tmp();
    const bad = path.join(dir, 'scan.pdf');
    fs.writeFileSync(bad, '%PDF-1.4 not an image');
    const good = path.join(FIXTURES, (manifest.lines[0] as { file: string }).file);
    const r = await run(['ocr', good, bad]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/"scan.pdf" is not a PNG or JPEG image: give PNG or JPEG files/);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('exits non-zero when no files or no known workload are given', async () => {
    const none = await run(['ocr']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/no files: give one or more PNG or JPEG files/);
    const unknown = await run(['ocrx', 'a.png']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown workload "ocrx": use one of ocr/);
    const missing = await run(['ocr', path.join(tmp(), 'gone.png')]);
    expect(missing.stderr).toMatch(/cannot read ".*gone.png" \(ENOENT\)/);
  }, 60_000);
});
