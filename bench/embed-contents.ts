/**
 * The five contents of bench:embed, generated with ffmpeg lavfi at 1280x720, 25 fps, and
 * stored at x264 CRF 14 (the "source" every rendition is judged against).
 */
import { ffmpeg } from './support.js';

export interface Content {
  name: string;
  /** What it stands for and how it is made, for the report. */
  description: string;
  /** The lavfi inputs and filter graph (output label [out]). */
  inputs: string[];
  graph: string;
}

/** testsrc2 averaged with a zooming mandelbrot: sharp edges, fine moving detail. */
const DETAIL = [
  ...['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=25'],
  // The fractal is rendered small (it is costly) and scaled up: smooth, zooming detail.
  ...['-f', 'lavfi', '-i', 'mandelbrot=size=320x180:rate=25'],
];
const DETAIL_GRAPH = '[1]scale=1280:720[zoom];[0][zoom]blend=all_mode=average';

export const CONTENTS: Content[] = [
  {
    name: 'clean',
    description: 'clean synthetic detail: testsrc2 averaged with a zooming mandelbrot',
    inputs: DETAIL,
    graph: `${DETAIL_GRAPH}[out]`,
  },
  {
    name: 'film grain',
    description: 'the clean content with temporal grain `noise=alls=3:allf=t`',
    inputs: DETAIL,
    graph: `${DETAIL_GRAPH},noise=alls=3:allf=t[out]`,
  },
  {
    name: 'heavy grain',
    description: 'the clean content with temporal grain `noise=alls=6:allf=t`',
    inputs: DETAIL,
    graph: `${DETAIL_GRAPH},noise=alls=6:allf=t[out]`,
  },
  {
    name: 'dark',
    description:
      'low light: the clean content at 35% contrast pulled down to mean luma ≈ 40, with sensor-like grain `noise=alls=4:allf=t`',
    inputs: DETAIL,
    graph: `${DETAIL_GRAPH},eq=contrast=0.35:brightness=-0.22,noise=alls=4:allf=t[out]`,
  },
  {
    name: 'flat animation',
    description:
      'flat colours with slow gradients: a sky-like gradient drifting in brightness (rendered at 160x90 and scaled up bicubically) under two flat-coloured shapes moving slowly',
    inputs: [
      ...[
        '-f',
        'lavfi',
        '-i',
        "nullsrc=size=160x90:rate=25,geq=lum='70+90*Y/H+15*sin(T/4)+10*X/W':cb='150-20*Y/H':cr='110+10*X/W'",
      ],
      ...['-f', 'lavfi', '-i', 'color=c=0xE0A040:size=300x180:rate=25'],
      ...['-f', 'lavfi', '-i', 'color=c=0x305090:size=220x380:rate=25'],
    ],
    graph:
      "[0]scale=1280:720:flags=bicubic[sky];[sky][1]overlay=x='200+8*t':y=420[one];[one][2]overlay=x='900-6*t':y='160+2*t'[out]",
  },
];

export async function makeContent(content: Content, seconds: number, path: string): Promise<void> {
  await ffmpeg([
    ...content.inputs,
    ...['-filter_complex', `${content.graph.replace('[out]', ',format=yuv420p[out]')}`],
    ...['-map', '[out]', '-t', String(seconds)],
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '14', path],
  ]);
}
