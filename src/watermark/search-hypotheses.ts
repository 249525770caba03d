import { type CropGeometry, IDENTITY_GEOMETRY } from './geometry.js';

/** The geometries LockSearch tries before a copy's first lock. */

/** Symmetric crops tried when the geometry is still unknown (refined after the lock). */
export const CROP_HYPOTHESES: CropGeometry[] = [-0.05, 0, 0.05, 0.1].map((crop) => ({
  left: crop,
  right: crop,
  top: crop,
  bottom: crop,
}));

/**
 * One global search: copy frames are summarised through `view` (a geometry under which the
 * copy shows every signature cell of the original), candidates refined under `crops`.
 */
export interface SearchHypotheses {
  view: CropGeometry;
  crops: CropGeometry[];
}

const LETTERBOX: CropGeometry = { left: 0, right: 0, top: -1 / 6, bottom: -1 / 6 };
const PILLARBOX: CropGeometry = { left: -1 / 6, right: -1 / 6, top: 0, bottom: 0 };
export const MIRRORED: CropGeometry = { ...IDENTITY_GEOMETRY, mirrored: true };

/**
 * Before the first lock, in this order until one locks: the plain crops; the picture framed by
 * bars (16:9 letterboxed in 4:3, bars of 1/6 of its height above and below; or pillarboxed in
 * a frame 4/3 wider); the crops mirrored (a horizontal flip). A copy that matches plainly costs
 * nothing more; one that never matches (another video) is searched four times per window
 * until the back-off.
 */
export const FIRST_SEARCHES: SearchHypotheses[] = [
  { view: IDENTITY_GEOMETRY, crops: CROP_HYPOTHESES },
  { view: LETTERBOX, crops: [LETTERBOX] },
  { view: PILLARBOX, crops: [PILLARBOX] },
  { view: MIRRORED, crops: CROP_HYPOTHESES.map((crop) => ({ ...crop, mirrored: true })) },
];
