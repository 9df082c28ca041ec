/**
 * The answers view as HTML: an OCR image's boxes are drawn in the image's own pixel grid (so they
 * scale with the thumbnail), its lines listed beside it; speech segments sit on a timeline at
 * their share of the file's length.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { Answer } from '../protocol/pipeline.ts';
import { AnswerResults } from './AnswerResults.tsx';

const render = (props: Parameters<typeof AnswerResults>[0]): string => renderToStaticMarkup(createElement(AnswerResults, props));

describe('AnswerResults', () => {
  it('draws each OCR box over the thumbnail in the image’s pixels and lists the lines', () => {
    const answer: Answer = {
      kind: 'ocr',
      lines: [
        {
          text: 'Total 12.80',
          confidence: 0.97,
          box: [
            [10, 5],
            [190, 5],
            [190, 40],
            [10, 40],
          ],
        },
      ],
    };
    const html = render({ answers: [answer, null], itemNames: ['a.png', 'b.png'], previews: { 'a.png': { url: 'blob:x', width: 480, height: 96 } } });
    expect(html).toContain('viewBox="0 0 480 96"');
    expect(html).toContain('<image href="blob:x" x="0" y="0" width="480" height="96">');
    expect(html).toContain('points="10,5 190,5 190,40 10,40"');
    expect(html).toContain('Total 12.80');
    expect(html).toContain('(97 %)');
    // b.png: not verified, and no image without a preview.
    expect(html.match(/<svg/g)).toHaveLength(1);
    expect(html).toContain('not verified');
  });

  it('puts speech segments on a timeline at their share of the file, and says when there is none', () => {
    const html = render({
      answers: [
        { kind: 'segments', segments: [{ start: 1, end: 2 }] },
        { kind: 'segments', segments: [] },
      ],
      itemNames: ['one.wav', 'two.wav'],
      previews: { 'one.wav': { durationS: 4 } },
    });
    expect(html).toContain('left:25.000%;width:25.000%');
    expect(html).toContain('1.00–2.00 s');
    expect(html).toContain('no speech found');
  });
});
