import ffprobe from '@ffprobe-installer/ffprobe';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProbedVideo {
  duration_s: number;
  width: number;
  height: number;
  codec: string;
  frame_rate: number;
}

/** TEMPORARY: replaced by the media adapter of src/watermark. */
export async function probeMedia(path: string): Promise<ProbedVideo> {
  const { stdout } = await run(ffprobe.path, [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    path,
  ]);
  const info = JSON.parse(stdout) as {
    streams?: {
      codec_type: string;
      codec_name: string;
      width: number;
      height: number;
      avg_frame_rate: string;
    }[];
    format?: { duration?: string };
  };
  const video = info.streams?.find((s) => s.codec_type === 'video');
  if (!video) throw new Error('no video stream');
  const [n, d] = video.avg_frame_rate.split('/').map(Number);
  return {
    duration_s: Number(info.format?.duration ?? 0),
    width: video.width,
    height: video.height,
    codec: video.codec_name,
    frame_rate: d ? n / d : 0,
  };
}
