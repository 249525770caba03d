/**
 * bench:robustness: what pirates do to a leak beyond a re-encode (issue 11): camcording,
 * geometry, time edits, other codecs, stronger coalitions. Every note states the ffmpeg
 * filter chain that simulates the attack.
 */
import { rm } from 'node:fs/promises';
import { codewordBit } from '../src/watermark/index.js';
import { type Attack, made, PIRATE_ENCODE, reencode } from './robustness-attacks.js';
import { DURATION, FPS, HEIGHT, WIDTH } from './robustness-clips.js';
import { ffmpeg } from './support.js';

/**
 * A phone filming a screen: the picture as a keystoned quadrilateral (right edge 90 % of the
 * left's, what a camera about 8° off-axis at 1.2 screen widths sees), mild barrel distortion,
 * lens blur, warmer white balance, gamma, slow auto-exposure drift, 25 → 30 fps by blending
 * neighbouring frames, handheld jitter (a 98 % window wandering ±1 % of the frame), then
 * `size` and sensor noise.
 */
function camcorder(size: string): string {
  return [
    'perspective=x0=W*0.02:y0=H*0.01:x1=W*0.97:y1=H*0.06:x2=W*0.02:y2=H*0.99:x3=W*0.97:y3=H*0.94:sense=destination',
    'lenscorrection=k1=0.05:k2=0.01',
    'gblur=sigma=1',
    'colorbalance=rm=0.06:bm=-0.06',
    'eq=gamma=1.1:brightness=0.04*sin(2*PI*t/60):eval=frame',
    'framerate=fps=30',
    'crop=w=iw*0.98:h=ih*0.98:x=(iw-ow)/2*(1+0.6*sin(2*PI*t*0.7)+0.3*sin(2*PI*t*1.9)):y=(ih-oh)/2*(1+0.6*cos(2*PI*t*0.45)+0.3*sin(2*PI*t*2.3))',
    `scale=${size}`,
    'noise=alls=6:allf=t',
  ].join(',');
}

/** A re-encode with `filter` whose note is the filter chain itself. */
function filtered(id: string, name: string, filter: string, crf: number, what: string): Attack {
  return {
    id,
    name,
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, filter, crf);
      return made(out, `${what}: \`${filter}\`, x264 CRF ${crf}`);
    },
  };
}

/** A re-encode with other encoder settings than x264 CRF. */
function encoded(id: string, name: string, args: string[], extension = 'mp4'): Attack {
  return {
    id,
    name,
    expect: 'pirate',
    extension,
    make: async (job, out) => {
      await ffmpeg(['-i', job.download, ...args, '-an', out]);
      return made(out, `\`${args.join(' ')}\``);
    },
  };
}

const seconds = (value: number): string => value.toFixed(1);

/** A player's controls over a 2x upscale: bottom bar, progress, play button, title bar. */
const PLAYER_UI = [
  `scale=${2 * WIDTH}:${2 * HEIGHT}:flags=bicubic`,
  'drawbox=x=0:y=ih-64:w=iw:h=64:color=black@0.6:t=fill',
  'drawbox=x=80:y=ih-40:w=(iw-200)*0.35:h=6:color=red@0.9:t=fill',
  'drawbox=x=24:y=ih-48:w=28:h=28:color=white@0.9:t=fill',
  'drawbox=x=0:y=0:w=iw:h=48:color=black@0.5:t=fill',
].join(',');

/** A station logo and two lines of subtitles (boxes: the bundled ffmpeg may lack fonts). */
const LOGO_AND_SUBTITLES = [
  'drawbox=x=iw-110:y=14:w=96:h=36:color=white@0.7:t=fill',
  "drawbox=x=iw*0.2:y=ih-58:w=iw*0.6:h=18:color=white@0.9:t=fill:enable='lt(mod(t,6),4)'",
  "drawbox=x=iw*0.3:y=ih-34:w=iw*0.4:h=18:color=white@0.9:t=fill:enable='between(mod(t,6),1,4)'",
].join(',');

const PIP_WIDTH = Math.round(WIDTH * 0.4);
const PIP_HEIGHT = Math.round(HEIGHT * 0.4);

/** Camcorder, geometry, time and compression attacks on the pirate's download. */
export const LEAK_ATTACKS: Attack[] = [
  filtered('camcorder', 'camcorder, 720p', camcorder('1280:720'), 23, 'camcorder simulation'),
  filtered('rotate+2', 'rotation +2°', 'rotate=2*PI/180:fillcolor=black', 23, 'rotated'),
  filtered('rotate-2', 'rotation −2°', 'rotate=-2*PI/180:fillcolor=black', 23, 'rotated'),
  filtered('hflip', 'horizontal flip', 'hflip', 23, 'mirrored'),
  filtered(
    'letterbox',
    'letterbox 16:9 in 4:3',
    `pad=${WIDTH}:${(WIDTH * 3) / 4}:0:${(WIDTH * 3) / 8 - HEIGHT / 2}`,
    23,
    'the 16:9 picture in a 4:3 frame, black bars above and below',
  ),
  filtered(
    'pillarbox',
    'pillarbox 4:3 in 16:9',
    `crop=${(HEIGHT * 4) / 3}:${HEIGHT},pad=${WIDTH}:${HEIGHT}:${(WIDTH - (HEIGHT * 4) / 3) / 2}:0`,
    23,
    'a 4:3 pan-and-scan master (centre crop) shown in a 16:9 frame, black bars left and right',
  ),
  {
    id: 'pip',
    name: 'picture-in-picture 40 %',
    expect: 'pirate',
    make: async (job, out) => {
      const background = `life=s=${WIDTH}x${HEIGHT}:r=${FPS}:ratio=0.1:mold=10:death_color=#203040:life_color=#c0c040,format=yuv420p`;
      const graph = `[1:v]scale=${PIP_WIDTH}:${PIP_HEIGHT}[inset];[0:v][inset]overlay=${WIDTH - PIP_WIDTH - 32}:${HEIGHT - PIP_HEIGHT - 20}:shortest=1`;
      await ffmpeg([
        ...['-f', 'lavfi', '-i', background, '-i', job.download],
        ...['-filter_complex', graph, ...PIRATE_ENCODE, '-crf', '23', out],
      ]);
      return made(out, `over \`${background}\`: \`${graph}\`, x264 CRF 23`);
    },
  },
  filtered('logo', 'logo + subtitles', LOGO_AND_SUBTITLES, 23, 'burnt in'),
  {
    id: 'speed24',
    name: 'speed 25 → 24 fps (4 % slower)',
    expect: 'pirate',
    make: async (job, out) => {
      await reencode(job, out, 'setpts=PTS*25/24,fps=24', 23);
      return made(out, 'every frame kept, played at 24 fps: `setpts=PTS*25/24,fps=24`, CRF 23');
    },
  },
  {
    id: 'speed23.976',
    name: 'speed 23.976 → 25 (4.3 % faster)',
    expect: 'pirate',
    make: async (job, out) => {
      const filter = 'setpts=PTS*24000/25025,fps=25025/960';
      await reencode(job, out, filter, 23);
      return made(out, `every frame kept, 25025/24000 faster (23.976 → 25): \`${filter}\`, CRF 23`);
    },
  },
  filtered('fps23.976', '25 → 23.976 fps', 'fps=24000/1001', 23, 'frames dropped, same duration'),
  filtered(
    'drops',
    '2 % frames dropped + duplicated',
    `select='gte(random(0),0.02)',setpts='(N+floor(N/47))/(${FPS}*TB)',fps=${FPS}`,
    23,
    '2 % of frames dropped at random, then one frame in 47 held twice',
  ),
  {
    id: 'scenes',
    name: 'three scenes cut',
    expect: 'pirate',
    make: async (job, out) => {
      const cuts = job.scenesCut.map(
        ({ start, length }) => `between(t,${seconds(start)},${seconds(start + length)})`,
      );
      const filter = `select='not(${cuts.join('+')})',setpts=N/(${FPS}*TB)`;
      await reencode(job, out, filter, 23);
      return made(out, `\`${filter}\`, CRF 23`);
    },
  },
  {
    id: 'chapters',
    name: 'two chapters swapped',
    expect: 'pirate',
    make: async (job, out) => {
      const { first, second, length } = job.chapters;
      // Start, first chapter, middle, second chapter, end: played with the chapters swapped.
      const parts: [number, number][] = [
        [0, first],
        [second, length],
        [first + length, second - first - length],
        [first, length],
        [second + length, DURATION - second - length],
      ];
      const inputs = parts.flatMap(([start, span]) => [
        ...['-ss', seconds(start), '-t', seconds(span), '-i', job.download],
      ]);
      const graph = `${parts.map((_, i) => `[${i}:v]`).join('')}concat=n=${parts.length}:v=1:a=0`;
      await ffmpeg([...inputs, '-filter_complex', graph, ...PIRATE_ENCODE, '-crf', '23', out]);
      return made(
        out,
        `${seconds(first)}–${seconds(first + length)} s and ${seconds(second)}–${seconds(second + length)} s swapped (5 inputs with -ss/-t, \`concat\`), CRF 23`,
      );
    },
  },
  encoded('240p', '240p at 150 kbit/s', [
    ...['-vf', 'scale=-2:240', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p'],
    ...['-b:v', '150k', '-maxrate', '200k', '-bufsize', '300k'],
  ]),
  encoded('h265', 'H.265', [
    ...['-c:v', 'libx265', '-preset', 'veryfast', '-crf', '28', '-x265-params', 'log-level=error'],
    ...['-tag:v', 'hvc1'],
  ]),
  encoded(
    'vp9',
    'VP9',
    ['-c:v', 'libvpx-vp9', '-crf', '36', '-b:v', '0', '-deadline', 'realtime', '-cpu-used', '8'],
    'webm',
  ),
  filtered('screen', 'screen recording', PLAYER_UI, 23, '2x upscale under a player UI'),
  filtered(
    'stacked',
    'camcorder + 360p CRF 35',
    camcorder(`${WIDTH}:${HEIGHT}`),
    35,
    'camcorder simulation at 360p',
  ),
];

/** Three colluders mixing their downloads. */
export const COLLUSION_ATTACKS: Attack[] = [
  {
    id: 'collusion3-interleave',
    name: 'collusion of 3 (interleaved)',
    expect: 'colluders',
    coalition: (job) => [...job.trio],
    make: async (job, out) => {
      await job.copyOf((segment) => job.trio[segment % 3], out);
      return made(out, `#${job.trio.join(' + #')}, segment i from colluder i mod 3, remuxed`);
    },
  },
  {
    id: 'collusion3-majority',
    name: 'collusion of 3 (majority)',
    expect: 'colluders',
    coalition: (job) => [...job.trio],
    make: async (job, out) => {
      // The variant two of the three hold: any colluder carrying the majority bit supplies it.
      await job.copyOf((segment) => {
        const bits = job.trio.map((autograph) =>
          codewordBit(job.codebook.codeword(autograph), segment),
        );
        const majority = bits.filter((bit) => bit === 1).length >= 2 ? 1 : 0;
        return job.trio[bits.indexOf(majority)];
      }, out);
      return made(out, `#${job.trio.join(' + #')}, each segment the variant of the majority`);
    },
  },
  {
    id: 'collusion3-average',
    name: 'collusion of 3 (frame average)',
    expect: 'colluders',
    coalition: (job) => [...job.trio],
    make: async (job, out) => {
      const downloads = job.trio.map((_, i) => out.replace(/\.mp4$/, `-colluder-${i}.mp4`));
      for (const [i, path] of downloads.entries()) await job.copyOf(() => job.trio[i], path);
      await ffmpeg([
        ...downloads.flatMap((path) => ['-i', path]),
        ...['-filter_complex', '[0:v][1:v][2:v]mix=inputs=3', ...PIRATE_ENCODE, '-crf', '18', out],
      ]);
      await Promise.all(downloads.map((path) => rm(path, { force: true })));
      return made(out, `#${job.trio.join(' + #')}: \`mix=inputs=3\` of the 3 downloads, CRF 18`);
    },
  },
];
