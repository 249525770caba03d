/// <reference lib="dom" />
import type HlsPlayer from 'hls.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs it); playwright-core brings no browser of its own. */
const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HLS_JS = join(process.cwd(), 'node_modules/hls.js/dist/hls.min.js');

/** Headless Chromium, or an error saying how to get it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install Debian's chromium package ` +
        '(as .ci/run does) or set CHROMIUM_PATH',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // Muted playback may start without a user gesture; this keeps it certain headless.
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

export interface PlayerReport {
  levels: number[];
  audioTracks: string[];
  fragments: string[];
  currentTime: number;
  framesDecoded: number;
}

/**
 * Runs in the page: hls.js plays the master playlist (at 4x speed) to its end, on audio track
 * `audioTrack` when given. Rejects on the first fatal hls.js error; resolves with what the
 * player saw.
 */
export function playToEnd({
  url,
  audioTrack,
}: {
  url: string;
  audioTrack?: number;
}): Promise<PlayerReport> {
  const Hls = (window as unknown as { Hls: typeof HlsPlayer }).Hls;
  return new Promise((resolve, reject) => {
    const video = document.createElement('video');
    video.muted = true;
    document.body.append(video);
    const hls = new Hls();
    const fragments: string[] = [];
    let levels: number[] = [];
    let audioTracks: string[] = [];
    hls.on(Hls.Events.MANIFEST_PARSED, (_name, data) => {
      levels = data.levels.map((level) => level.height);
      audioTracks = data.audioTracks.map((track) => track.name);
      video.playbackRate = 4;
      video.play().catch(reject);
    });
    hls.on(Hls.Events.AUDIO_TRACKS_UPDATED, () => {
      if (audioTrack !== undefined) hls.audioTrack = audioTrack;
    });
    hls.on(Hls.Events.FRAG_LOADED, (_name, data) => {
      fragments.push(data.frag.url);
    });
    const errors: string[] = [];
    hls.on(Hls.Events.ERROR, (_name, data) => {
      if (data.fatal) reject(new Error(`hls.js: ${data.type} ${data.details}`));
      errors.push(data.details);
    });
    // A stall (no fatal error, never ending) fails with what the player had reached.
    setTimeout(() => {
      const buffered = Array.from({ length: video.buffered.length }, (_, i) => [
        video.buffered.start(i),
        video.buffered.end(i),
      ]);
      reject(
        new Error(
          `stalled at ${video.currentTime} s: ${JSON.stringify({ buffered, errors, fragments, readyState: video.readyState, mediaError: video.error?.message })}`,
        ),
      );
    }, 30_000);
    video.addEventListener('ended', () =>
      resolve({
        levels,
        audioTracks,
        fragments,
        currentTime: video.currentTime,
        framesDecoded: video.getVideoPlaybackQuality().totalVideoFrames,
      }),
    );
    hls.loadSource(url);
    hls.attachMedia(video);
  });
}
