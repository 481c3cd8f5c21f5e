// Draws media/icon.png (128×128, the Marketplace icon): a rounded dark square, three prediction bars and a red
// breakpoint dot — "debug your metric on predictions". Drawn with code so it can be changed and re-made:
// `node scripts/drawIcon.mjs`. 4×4 supersampling for smooth edges; PNG written with zlib (no dependency).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const N = 128;
const S = 4; // samples per pixel side

/** Colour (RGBA 0..255) at a point in icon coordinates, or null where it is transparent. */
function colourAt(x, y) {
  // Rounded square background with a vertical gradient.
  const r = 26;
  const inside = (() => {
    const cx = Math.min(Math.max(x, r), N - r);
    const cy = Math.min(Math.max(y, r), N - r);
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  })();
  if (!inside) return null;
  const t = y / N;
  let c = [Math.round(24 + 10 * t), Math.round(38 + 14 * t), Math.round(72 + 20 * t), 255];
  // Baseline under the bars.
  if (y >= 98 && y < 102 && x >= 20 && x < 92) c = [148, 163, 184, 255];
  // Three bars (predicted scores), the tallest the "argmax" in yellow.
  const bars = [
    [24, 40, 70, [56, 189, 248]],
    [46, 62, 40, [250, 204, 21]],
    [68, 84, 58, [56, 189, 248]],
  ];
  for (const [x0, x1, top, rgb] of bars) if (x >= x0 && x < x1 && y >= top && y < 98) c = [...rgb, 255];
  // Breakpoint: a red dot with a light ring, top right.
  const d = Math.hypot(x - 92, y - 36);
  if (d <= 22) c = [241, 245, 249, 255];
  if (d <= 18) c = [229, 62, 62, 255];
  return c;
}

function draw() {
  const px = Buffer.alloc(N * N * 4);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      let rr = 0, gg = 0, bb = 0, aa = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const c = colourAt(x + (sx + 0.5) / S, y + (sy + 0.5) / S);
          if (!c) continue;
          rr += c[0] * c[3]; gg += c[1] * c[3]; bb += c[2] * c[3]; aa += c[3];
        }
      }
      const i = (y * N + x) * 4;
      if (aa) {
        px[i] = Math.round(rr / aa); px[i + 1] = Math.round(gg / aa); px[i + 2] = Math.round(bb / aa);
        px[i + 3] = Math.round(aa / (S * S));
      }
    }
  }
  return px;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

export function iconPng() {
  const px = draw();
  const raw = Buffer.alloc(N * (N * 4 + 1));
  for (let y = 0; y < N; y++) {
    raw[y * (N * 4 + 1)] = 0; // filter: none
    px.copy(raw, y * (N * 4 + 1) + 1, y * N * 4, (y + 1) * N * 4);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(N, 0);
  ihdr.writeUInt32BE(N, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'media', 'icon.png');
  fs.writeFileSync(out, iconPng());
  console.log(out);
}
